import { randomBytes, timingSafeEqual } from "node:crypto";
import { connect, type Socket } from "node:net";
import uWS, { type HttpResponse, type TemplatedApp, type us_listen_socket, type WebSocket } from "uWebSockets.js";
import type { Logger } from "../log.js";

/** Where the anchor connects (a path no client has a reason to ask for). */
export const ANCHOR_PATH = "/_uws/upgrade-anchor";
/** How soon a lost anchor connects again. */
const RECONNECT_MS = 1_000;
/** How long `start` waits for the anchor before the node serves without it (and keeps trying). */
const START_WAIT_MS = 2_000;
/** At most one "anchor is down" warning per this many ms. */
const WARN_EVERY_MS = 30_000;

/**
 * Upgrades a request to a WebSocket after an await, without uWS closing the new socket.
 *
 * uWS v20.30 (the one we can install) can close a WebSocket it has just upgraded outside its own
 * request handler: `res.cork(() => res.upgrade(…))` shrinks the socket's memory in place, and cork()
 * then reads the HTTP response's state from bytes that now belong to the WebSocket or to the heap.
 * When they happen to read "connection: close", it shuts the socket down (uNetworking/uWebSockets
 * #1928, fixed upstream by #1929). The client sees 1006 with no frame, and the server's close handler
 * runs inside the upgrade. From one upgrade in a few thousand to a few in a hundred, depending on the
 * frames `open` sends and the state of the heap.
 *
 * cork() leaves that check out when another socket is corked already. So the upgrade runs inside a
 * cork of an anchor: a WebSocket this node opens to itself, on a loopback listener of its own (port 0,
 * so no other process sharing the API port answers it), on a path that takes only this process's
 * secret. `start` waits for it. Should it be lost, upgrades are corked as before until it is open
 * again (a second later), with a warning.
 */
export function createUpgradeAnchor(app: TemplatedApp, log: Logger) {
  const secret = Buffer.from(randomBytes(16).toString("hex"));
  let anchor: WebSocket<object> | null = null;
  let client: Socket | null = null;
  let listener: us_listen_socket | null = null;
  let port = 0;
  let retry: NodeJS.Timeout | null = null;
  let started: Promise<boolean> | null = null;
  let stopped = false;
  let warnedAt = 0;
  let opened: (() => void)[] = [];

  const secretMatches = (given: string) => {
    const b = Buffer.from(given);
    return b.length === secret.length && timingSafeEqual(b, secret);
  };
  const warnDown = (why: string) => {
    if (stopped || Date.now() - warnedAt < WARN_EVERY_MS) return;
    warnedAt = Date.now();
    log.warn({ why }, "the upgrade anchor is down; WebSocket upgrades are corked as before until it is back (uNetworking/uWebSockets#1928)");
  };

  app.ws<object>(ANCHOR_PATH, {
    idleTimeout: 0,
    maxPayloadLength: 16,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      // Synchronous, inside uWS's own request handler: this upgrade is not the one that can misfire.
      if (!secretMatches(req.getHeader("x-anchor-secret"))) {
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
    if (stopped || client) return;
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `GET ${ANCHOR_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\nX-Anchor-Secret: ${secret.toString()}\r\n\r\n`,
      );
    });
    client = socket;
    let answered = false;
    // The 101, then nothing: the anchor never sends. Any other answer is not our anchor.
    socket.on("data", (chunk: Buffer) => {
      if (answered) return;
      answered = true;
      if (!chunk.toString("latin1").startsWith("HTTP/1.1 101")) {
        warnDown(`answered ${chunk.toString("latin1").split("\r\n")[0]}`);
        socket.destroy();
      }
    });
    socket.on("error", (err) => warnDown(err.message));
    socket.on("close", () => {
      if (client === socket) client = null;
      if (!stopped) retry ??= setTimeout(dial, RECONNECT_MS).unref();
    });
    socket.unref();
  }

  /** Runs `fn` inside the anchor's cork when the anchor is open, else as it is. */
  const inAnchor = (fn: () => void) => {
    if (anchor) anchor.cork(fn);
    else fn();
  };

  /** Runs `run` (which calls res.upgrade) corked, inside the anchor's cork when it is open. */
  const upgrade = (res: HttpResponse, run: () => void) => inAnchor(() => res.cork(run));

  /**
   * The same response, its cork() run inside the anchor's cork when the anchor is open: for code that
   * upgrades in its own `res.cork` (engine.io's uWS server).
   */
  const anchored = (res: HttpResponse): HttpResponse => {
    const cork = res.cork.bind(res);
    res.cork = (cb: () => void) => {
      inAnchor(() => cork(cb));
      return res;
    };
    return res;
  };

  return {
    /**
     * Listens on a loopback port of its own and opens the anchor to it; resolves true once the anchor
     * is open, false after START_WAIT_MS (the node serves meanwhile and keeps trying). Once.
     */
    start(): Promise<boolean> {
      started ??= new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          warnDown("not open after start");
          resolve(false);
        }, START_WAIT_MS).unref();
        opened.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
        app.listen("127.0.0.1", 0, (socket) => {
          if (!socket) {
            clearTimeout(timer);
            warnDown("no loopback port to listen on");
            return resolve(false);
          }
          listener = socket;
          port = uWS.us_socket_local_port(socket);
          dial();
        });
      });
      return started;
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
      if (listener) uWS.us_listen_socket_close(listener);
      listener = null;
    },
  };
}

export type UpgradeAnchor = ReturnType<typeof createUpgradeAnchor>;
