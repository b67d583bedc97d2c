import uWS, { type TemplatedApp, type WebSocket } from "uWebSockets.js";
import type { RedisClient } from "../redis/connect.js";
import type { Server } from "socket.io";
import type { Logger } from "../log.js";
import type { OriginCheck } from "../uws/origin.js";
import { copyHeaders, remoteAddressOf } from "../uws/request.js";
import type { UpgradeAnchor } from "../uws/upgrade-anchor.js";
import type { ConnectionsPerIp } from "./connections-per-ip.js";
import { errorBody, writeResult } from "../uws/response.js";
import { AppError } from "../protocol/errors.js";
import type { GroupProgress } from "../protocol/messages.js";
import { groupPush } from "../groups/group-feed.js";

/** socket.io events this module answers (the room transport leaves them alone). */
export const GROUP_WATCH_EVENTS: ReadonlySet<string> = new Set(["watch_group", "unwatch_group"]);
const GROUP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const topic = (groupId: string) => `g|${groupId}`;
const ioRoom = (groupId: string) => `group:${groupId}`;

/** A raw WebSocket watcher: its group, the client's address, and which upgrade made it. */
interface Watcher {
  groupId: string;
  address: string;
  upgrade: number;
}

export interface GroupWatchDeps {
  app: TemplatedApp;
  io: Server;
  subscriber: RedisClient;
  channel: string;
  log: Logger;
  originAllowed: OriginCheck;
  progress: (groupId: string) => Promise<GroupProgress | null>;
  /** Live sockets per client address, shared with the live room's transports. */
  connections: ConnectionsPerIp;
  trustProxy: boolean;
  /** Upgrades after an await (src/uws/upgrade-anchor.ts: uWS may otherwise close the new socket). */
  upgrade: UpgradeAnchor["upgrade"];
}

/**
 * Watching one group buy ("2 of 3 — 1 spot left") outside its live room: raw WebSocket at
 * `/group-buy/:id/ws` (the group page), or `watch_group` on a socket.io connection. Every change
 * arrives once per node on the groups channel and goes out once per group (uWS topic, socket.io room).
 */
export function attachGroupWatch(deps: GroupWatchDeps) {
  const { app, io, log } = deps;
  /**
   * Sockets opened by an upgrade still in progress, by upgrade. A watcher is subscribed and sent the
   * group as it was read right after its upgrade's cork returns, in the same turn (so no change is
   * missed), not from `open`: a frame sent from `open` goes out before the upgrade's cork returns,
   * which made uWS close the new socket more often before the upgrade anchor (uWebSockets.js issue
   * 1108; src/uws/upgrade-anchor.ts).
   */
  const opening = new Map<number, WebSocket<Watcher>>();
  let upgrades = 0;

  app.ws<Watcher>("/group-buy/:id/ws", {
    compression: uWS.DISABLED,
    maxPayloadLength: 1024,
    maxBackpressure: 64 * 1024,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const groupId = req.getParameter(0) ?? "";
      const headers = copyHeaders(req);
      const address = remoteAddressOf(res, req, deps.trustProxy);
      let aborted = false;
      res.onAborted(() => (aborted = true));
      void (async () => {
        let placed = false;
        try {
          deps.connections.take(address);
          placed = true;
          if (!deps.originAllowed(headers.origin)) throw new AppError("ORIGIN_NOT_ALLOWED");
          const p = GROUP_ID.test(groupId) ? await deps.progress(groupId) : null;
          if (!p) throw new AppError("NOT_FOUND", "No such group.");
          if (aborted) return;
          const upgrade = ++upgrades;
          const first = JSON.stringify(groupPush(p));
          deps.upgrade(res, () =>
            res.upgrade(
              { groupId, address, upgrade },
              headers["sec-websocket-key"] ?? "",
              headers["sec-websocket-protocol"] ?? "",
              headers["sec-websocket-extensions"] ?? "",
              context,
            ),
          );
          placed = false; // the socket holds it now, until its close
          const ws = opening.get(upgrade);
          opening.delete(upgrade);
          // Gone when uWS closed it meanwhile (its close has run).
          ws?.cork(() => {
            ws.subscribe(topic(groupId));
            ws.send(first, false);
          });
        } catch (err) {
          if (!aborted) res.cork(() => writeResult(res, errorBody(err)));
        } finally {
          if (placed) deps.connections.release(address);
        }
      })();
    },
    open: (ws) => void opening.set(ws.getUserData().upgrade, ws),
    close: (ws) => {
      const { address, upgrade } = ws.getUserData();
      opening.delete(upgrade);
      deps.connections.release(address);
    },
    message: (ws, data, isBinary) => {
      // Only pings are understood here; anything else gets an error frame.
      const text = isBinary ? "" : Buffer.from(data).toString("utf8");
      const ping = text.includes('"ping"');
      ws.send(JSON.stringify(ping ? { type: "pong" } : { type: "error", code: "UNKNOWN_TYPE", message: "Only ping is accepted here." }), false);
    },
  });

  io.on("connection", (socket) => {
    socket.on("watch_group", (payload: unknown, ack?: unknown) => {
      const groupId = (payload as { groupId?: unknown } | null)?.groupId;
      const reply = typeof ack === "function" ? (ack as (m: unknown) => void) : () => {};
      if (typeof groupId !== "string" || !GROUP_ID.test(groupId)) return reply({ type: "error", code: "INVALID_PARAMS", message: "groupId is required." });
      deps.progress(groupId).then(
        (p) => {
          if (!p) return reply({ type: "error", code: "NOT_FOUND", message: "No such group." });
          void socket.join(ioRoom(groupId));
          reply(groupPush(p));
        },
        (err: unknown) => reply({ type: "error", ...errorBody(err).body }),
      );
    });
    socket.on("unwatch_group", (payload: unknown) => {
      const groupId = (payload as { groupId?: unknown } | null)?.groupId;
      if (typeof groupId === "string") void socket.leave(ioRoom(groupId));
    });
  });

  const onMessage = (channel: string, message: string) => {
    if (channel !== deps.channel) return;
    try {
      const push = JSON.parse(message) as { type: string; group: GroupProgress };
      app.publish(topic(push.group.id), message, false);
      (io.local.to(ioRoom(push.group.id)).emit as (ev: string, m: unknown) => boolean)(push.type, push);
    } catch (err) {
      log.warn({ err }, "bad group message");
    }
  };
  deps.subscriber.on("smessage", onMessage);
  void deps.subscriber.ssubscribe(deps.channel).catch((err: unknown) => log.error({ err }, "cannot subscribe to group changes"));
  deps.subscriber.on("ready", () => void deps.subscriber.ssubscribe(deps.channel).catch(() => {}));
}
