import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import type { HttpResponse, TemplatedApp, WebSocket } from "uWebSockets.js";
import type { Logger } from "../log.js";

/** Where the anchor connects (a path no client has a reason to ask for). */
export const ANCHOR_PATH = "/_uws/upgrade-anchor";
/** How soon a lost anchor connects again. */
const RECONNECT_MS = 1_000;

/**
 * Upgrades a request to a WebSocket after an await, without uWS closing the new socket.
 *
 * uWS v20.30 (the one we can install) can close a WebSocket it has just upgraded outside its own
 * request handler: `res.cork(() => res.upgrade(…))` shrinks the socket's memory in place, and cork()
 * then reads the HTTP response's state from bytes that now belong to the WebSocket or to the heap.
 * When they happen to read "connection: close", it shuts the socket down (uNetworking/uWebSockets
 * #1928, fixed upstream by #1929). The client sees 1006 with no frame (its unread frames are lost to
 * the reset), and the server's close handler runs inside the upgrade. Roughly one upgrade in a few
 * thousand, more when the open handler sends a frame of a particular size.
 *
 * cork() leaves that check out when another socket is corked already. So the upgrade runs inside a
 * cork of an anchor: a WebSocket this node opens to itself over loopback once it listens, on a path
 * that takes only this process's secret. The node's `listen` waits for it. Should it be lost, upgrades
 * are corked as before until it is open again (a second later).
 */
export function createUpgradeAnchor(app: TemplatedApp, log: Logger) {
  const secret = randomBytes(16).toString("hex");
  let anchor: WebSocket<object> | null = null;
  let client: Socket | null = null;
  let target: { host: string; port: number } | null = null;
  let retry: NodeJS.Timeout | null = null;
  let stopped = false;
  let opened: (() => void)[] = [];

  app.ws<object>(ANCHOR_PATH, {
    idleTimeout: 0,
    maxPayloadLength: 16,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      // Synchronous, inside uWS's own request handler: this upgrade is not the one that can misfire.
      if (req.getHeader("x-anchor-secret") !== secret) {
        res.writeStatus("404 Not Found").end();
        return;
      }
      res.upgrade({}, req.getHeader("sec-websocket-key"), "", "", context);
    },
    open: (ws) => {
      anchor = ws;
      for (const resolve of opened) resolve();
      opened = [];
    },
    close: (ws) => {
      if (anchor === ws) anchor = null;
    },
  });

  function dial() {
    retry = null;
    if (stopped || !target) return;
    const socket = connect(target.port, target.host, () => {
      socket.write(
        `GET ${ANCHOR_PATH} HTTP/1.1\r\nHost: ${target!.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\nX-Anchor-Secret: ${secret}\r\n\r\n`,
      );
    });
    client = socket;
    socket.on("data", () => undefined); // the 101, then nothing: the anchor never sends
    socket.on("error", (err) => log.debug({ err }, "upgrade anchor: connection error"));
    socket.on("close", () => {
      if (client === socket) client = null;
      if (!stopped) retry ??= setTimeout(dial, RECONNECT_MS).unref();
    });
    socket.unref();
  }

  /** Runs `upgrade` (which calls res.upgrade) corked, inside the anchor's cork when it is open. */
  const upgrade = (res: HttpResponse, run: () => void) => {
    if (anchor) anchor.cork(() => res.cork(run));
    else res.cork(run);
  };

  /**
   * The same response, its cork() run inside the anchor's cork when the anchor is open: for code that
   * upgrades in its own `res.cork` (engine.io's uWS server).
   */
  const anchored = (res: HttpResponse): HttpResponse => {
    const cork = res.cork.bind(res);
    res.cork = (cb: () => void) => {
      if (anchor) anchor.cork(() => cork(cb));
      else cork(cb);
      return res;
    };
    return res;
  };

  return {
    /**
     * Opens the anchor to this node's own listener (its bound port); resolves once it is open, or
     * after `waitMs` (the node serves meanwhile, upgrading as before, and keeps trying).
     */
    connect(host: string, port: number, waitMs = 2_000): Promise<boolean> {
      target = { host, port };
      const open = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), waitMs);
        opened.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      dial();
      return open;
    },
    upgrade,
    anchored,
    /** Whether the anchor is open (tests). */
    get open() {
      return anchor !== null;
    },
    stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      client?.destroy();
      anchor?.close();
      anchor = null;
    },
  };
}

export type UpgradeAnchor = ReturnType<typeof createUpgradeAnchor>;
