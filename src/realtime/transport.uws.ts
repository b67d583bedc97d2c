import uWS, { type TemplatedApp, type WebSocket } from "uWebSockets.js";
import type { Config } from "../config.js";
import { bearerToken } from "../auth/authenticate.js";
import type { Authenticate, Identity } from "../auth/identity.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { AppError, CLOSE_CODES } from "../protocol/errors.js";
import { Position } from "../protocol/messages.js";
import type { OriginCheck } from "../uws/origin.js";
import { copyHeaders, remoteAddressOf } from "../uws/request.js";
import type { UpgradeAnchor } from "../uws/upgrade-anchor.js";
import { errorBody, writeResult } from "../uws/response.js";
import type { EventEntry, FanoutSink, RoomClient } from "./client.js";
import { dispatch } from "./dispatch.js";
import { batchFrame, type Hub } from "./hub.js";
import type { SlowReaderSweep } from "./slow-readers.js";
import type { RoomBans } from "./room-bans.js";
import type { ConnectionsPerIp } from "./connections-per-ip.js";

interface SocketData {
  streamId: string;
  /** The client's address, holding one of its places (ConnectionsPerIp) until the socket closes. */
  address: string;
  identity: Identity | null;
  batch: boolean;
  position: Position | null;
  /** Which upgrade made the socket (uWS copies the data: this is how a close names its upgrade). */
  upgrade: number;
  client?: RawClient;
}

type Ws = WebSocket<SocketData>;

/** uWS topics of a room: one per (framing, full or critical-only). A socket is on exactly one. */
const topics = (roomId: string) => ({
  single: `lr|${roomId}|s`,
  singleCritical: `lr|${roomId}|sc`,
  batch: `lr|${roomId}|b`,
  batchCritical: `lr|${roomId}|bc`,
});
const topicOf = (roomId: string, batch: boolean, lagging: boolean) => {
  const t = topics(roomId);
  return batch ? (lagging ? t.batchCritical : t.batch) : lagging ? t.singleCritical : t.single;
};

const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;
const decoder = new TextDecoder("utf-8", { fatal: false });

class RawClient implements RoomClient {
  readonly transport = "ws" as const;
  role: RoomClient["role"] = null;
  closed = false;
  lagging = false;
  roomId: string | null = null;

  constructor(
    private readonly ws: Ws,
    readonly identity: Identity | null,
    readonly batch: boolean,
  ) {}

  send(frame: string) {
    if (this.closed) return;
    let status = 1;
    this.ws.cork(() => (status = this.ws.send(frame, false)));
    if (status === 2) this.close(CLOSE_CODES.SLOW_CONSUMER.code, "slow consumer");
  }

  startLive(roomId: string) {
    if (this.closed) return;
    this.roomId = roomId;
    this.ws.subscribe(topicOf(roomId, this.batch, false));
  }

  /** Slow reader: from now on only critical events (ordinary comments are skipped). */
  setLagging(lagging: boolean) {
    if (this.closed || !this.roomId || this.lagging === lagging) return;
    this.ws.unsubscribe(topicOf(this.roomId, this.batch, this.lagging));
    this.lagging = lagging;
    this.ws.subscribe(topicOf(this.roomId, this.batch, lagging));
  }

  bufferedAmount() {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string) {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }
}

export interface RawTransportDeps {
  app: TemplatedApp;
  config: Config;
  log: Logger;
  metrics: Metrics;
  hub: Hub;
  authenticate: Authenticate;
  originAllowed: OriginCheck;
  /** The node's slow-reader sweep (shared with socket.io). */
  slowReaders: SlowReaderSweep;
  /** Banned users are refused at the upgrade (403 BANNED). */
  bans: Pick<RoomBans, "isBanned">;
  /** Live sockets per client address (429 RATE_LIMITED at the upgrade past the limit). */
  connections: ConnectionsPerIp;
  /** Upgrades after an await (src/uws/upgrade-anchor.ts: uWS may otherwise close the new socket). */
  upgrade: UpgradeAnchor["upgrade"];
}

/**
 * The mini program's raw WebSocket at /live-stream/:streamId/ws (seed 003's path). Auth and origin
 * are checked during the upgrade, before the socket opens. Returns the fan-out sink and a closer.
 */
export function attachRawTransport(deps: RawTransportDeps) {
  const { app, config, log, metrics, hub } = deps;
  const clients = new Set<RawClient>();
  let closing = false;
  let upgrades = 0;
  /** The upgrade uWS is making now: its socket's close inside it is uWS's own (see upgrade-anchor.ts). */
  let upgrading = 0;

  app.ws<SocketData>("/live-stream/:streamId/ws", {
    compression: uWS.DISABLED,
    // uWS drops frames above its own cap with no close frame (1006); up to 4x our limit we answer 1009.
    maxPayloadLength: config.ws.maxPayloadBytes * 4,
    // Our sweep closes at the limit with SLOW_CONSUMER; uWS's own cut at twice that is the safety
    // net, so a socket is closed rather than ever silently skipped by publish.
    maxBackpressure: config.ws.maxBackpressureBytes * 2,
    closeOnBackpressureLimit: 1,
    idleTimeout: config.ws.idleTimeoutSec,
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      const streamId = req.getParameter(0) ?? "";
      const query = new URLSearchParams(req.getQuery() ?? "");
      const headers = copyHeaders(req);
      const address = remoteAddressOf(res, req, config.http.trustProxy);
      let aborted = false;
      res.onAborted(() => (aborted = true));
      void (async () => {
        let placed = false;
        try {
          if (closing) throw new AppError("UNAVAILABLE");
          deps.connections.take(address);
          placed = true;
          if (!deps.originAllowed(headers.origin)) throw new AppError("ORIGIN_NOT_ALLOWED");
          if (!STREAM_ID.test(streamId)) throw new AppError("STREAM_NOT_FOUND");
          const token = bearerToken(headers.authorization) ?? query.get("token");
          const identity = token ? await deps.authenticate(token) : null;
          if (token && !identity) throw new AppError("AUTH_FAILED");
          if (identity && deps.bans.isBanned(streamId, identity.userId)) throw new AppError("BANNED");
          const position = parsePosition(query);
          await hub.prepare(streamId);
          if (aborted) return;
          if (closing) throw new AppError("UNAVAILABLE");
          const data: SocketData = { streamId, address, identity, batch: query.get("batch") === "1", position, upgrade: ++upgrades };
          upgrading = data.upgrade;
          try {
            deps.upgrade(res, () =>
              res.upgrade(
                data,
                headers["sec-websocket-key"] ?? "",
                headers["sec-websocket-protocol"] ?? "",
                headers["sec-websocket-extensions"] ?? "",
                context,
              ),
            );
          } finally {
            upgrading = 0;
          }
          placed = false; // the socket holds it now, until its close
        } catch (err) {
          if (!(err instanceof AppError)) log.error({ err, streamId }, "upgrade failed");
          if (!aborted) writeResult(res, errorBody(err));
        } finally {
          if (placed) deps.connections.release(address);
        }
      })();
    },

    open: (ws) => {
      const data = ws.getUserData();
      const client = new RawClient(ws, data.identity, data.batch);
      data.client = client;
      clients.add(client);
      deps.slowReaders.add(client);
      hub.join(client, data.streamId, data.position).catch((err: unknown) => {
        if (!(err instanceof AppError)) log.error({ err }, "join failed");
        else log.warn({ code: err.code, streamId: data.streamId }, "join refused; the socket is closed");
        const { body } = errorBody(err);
        client.send(JSON.stringify({ type: "error", code: body.code, message: body.message }));
        const close = err instanceof AppError && err.code === "STREAM_NOT_FOUND" ? CLOSE_CODES.STREAM_DELETED : CLOSE_CODES.SERVER_SHUTDOWN;
        client.close(close.code, body.code);
      });
    },

    message: (ws, message, isBinary) => {
      const client = ws.getUserData().client!;
      if (message.byteLength > config.ws.maxPayloadBytes) {
        metrics.messagesIn.inc({ type: "oversized" });
        client.close(CLOSE_CODES.MESSAGE_TOO_BIG.code, "message too big");
        return;
      }
      let raw: unknown;
      if (isBinary) raw = null;
      else {
        try {
          raw = JSON.parse(decoder.decode(message));
        } catch {
          raw = null;
        }
      }
      dispatch({ hub, log, metrics }, client, raw, (reply) => {
        // Acks only for commands that asked (carried an id): seed clients never see them.
        if (reply.type !== "ack" || reply.id !== undefined) client.send(JSON.stringify(reply));
      });
    },

    drain: (ws) => {
      const client = ws.getUserData().client;
      if (client?.lagging && client.bufferedAmount() < config.ws.softBackpressureBytes / 4) client.setLagging(false);
    },

    close: (ws, code) => {
      const { client, address, streamId, upgrade } = ws.getUserData();
      deps.connections.release(address);
      if (upgrade === upgrading) log.warn({ streamId, code }, "uWS closed a socket inside its own upgrade (uNetworking/uWebSockets#1928); the client reconnects");
      if (!client) return;
      // uWS's own backpressure cut (1006) of a socket already known to be lagging. A burst that
      // carries a socket from under the soft limit past uWS's cap between two sweeps is cut all the
      // same, but goes uncounted: uWS.js gives no buffered amount in close and v20.30 has no dropped
      // handler, so that 1006 cannot be told from a reader that left.
      if (!client.closed && code === 1006 && client.lagging) {
        metrics.slowConsumerClosed.inc();
        metrics.dropped.inc({ reason: "slow_consumer" });
      }
      client.closed = true;
      clients.delete(client);
      deps.slowReaders.delete(client);
      hub.leave(client);
    },
  });

  const sink: FanoutSink = {
    events(roomId: string, epoch: string, entries: readonly EventEntry[]) {
      const t = topics(roomId);
      let delivered = 0;
      const single = app.numSubscribers(t.single);
      if (single > 0) for (const e of entries) app.publish(t.single, e.frame, false);
      delivered += single * entries.length;
      const batch = app.numSubscribers(t.batch);
      if (batch > 0) app.publish(t.batch, batchFrame(epoch, entries), false);
      delivered += batch;
      const singleCritical = app.numSubscribers(t.singleCritical);
      const batchCritical = app.numSubscribers(t.batchCritical);
      if (singleCritical + batchCritical > 0) {
        const critical = entries.filter((e) => e.critical);
        if (critical.length > 0) {
          if (singleCritical > 0) for (const e of critical) app.publish(t.singleCritical, e.frame, false);
          if (batchCritical > 0) app.publish(t.batchCritical, batchFrame(epoch, critical), false);
          delivered += singleCritical * critical.length + batchCritical;
        }
        metrics.dropped.inc({ reason: "slow_consumer" }, (singleCritical + batchCritical) * (entries.length - critical.length));
      }
      metrics.messagesOut.inc(delivered);
    },
    push(roomId: string, frame: string) {
      const t = topics(roomId);
      let delivered = 0;
      for (const topic of [t.single, t.singleCritical, t.batch, t.batchCritical]) {
        const n = app.numSubscribers(topic);
        if (n > 0) {
          app.publish(topic, frame, false);
          delivered += n;
        }
      }
      metrics.messagesOut.inc(delivered);
    },
  };

  return {
    sink,
    get connections() {
      return clients.size;
    },
    /** Stops accepting upgrades and closes every socket with SERVER_SHUTDOWN (clients reconnect elsewhere). */
    close() {
      closing = true;
      for (const c of clients) c.close(CLOSE_CODES.SERVER_SHUTDOWN.code, "server shutdown");
    },
  };
}

function parsePosition(query: URLSearchParams): Position | null {
  const epoch = query.get("epoch");
  const seq = query.get("seq");
  if (epoch === null && seq === null) return null;
  // Both or neither (a missing seq would otherwise be coerced to 0).
  const parsed = Position.safeParse({ epoch, seq: seq ?? undefined });
  if (!parsed.success) throw new AppError("INVALID_PARAMS", "epoch and seq must be given together, seq a whole number.");
  return parsed.data;
}
