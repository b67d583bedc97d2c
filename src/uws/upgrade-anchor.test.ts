// The upgrade anchor against the real uWS: a WebSocket upgraded after an await, whose open handler
// sends a frame at once, is never closed by uWS inside its own upgrade when the anchor is open.
// Without the anchor the same upgrades are sometimes closed (uNetworking/uWebSockets#1928): the
// control case shows the bug is in this binary, so the first case can fail.
import { connect } from "node:net";
import uWS, { type us_listen_socket } from "uWebSockets.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log.js";
import { createUpgradeAnchor, type UpgradeAnchor } from "./upgrade-anchor.js";

/** A frame whose UTF-8 copy reuses, now and then, the memory cork() misreads (found by scanning sizes). */
const FRAME = `${"p".repeat(76)}hello`;
const HANDSHAKES = 1500;

describe("upgrading after an await", () => {
  let listen: us_listen_socket;
  let port: number;
  let anchor: UpgradeAnchor;
  let upgrading = false;
  const closedInsideUpgrade = { anchored: 0, engine: 0, plain: 0 };

  beforeAll(async () => {
    const app = uWS.App();
    anchor = createUpgradeAnchor(app, createLogger("silent", "test"));
    for (const [path, kind] of [["/anchored", "anchored"], ["/engine", "engine"], ["/plain", "plain"]] as const) {
      app.ws(path, {
        upgrade: (res, req, context) => {
          const key = req.getHeader("sec-websocket-key");
          let aborted = false;
          res.onAborted(() => (aborted = true));
          setImmediate(() => {
            if (aborted) return;
            upgrading = true;
            const upgrade = () => res.upgrade({}, key, "", "", context);
            if (kind === "anchored") anchor.upgrade(res, upgrade);
            // As engine.io does: its own res.cork, on the response anchor.anchored handed it.
            else if (kind === "engine") anchor.anchored(res).cork(upgrade);
            else res.cork(upgrade);
            upgrading = false;
          });
        },
        open: (ws) => void ws.send(FRAME, false),
        close: () => {
          if (upgrading) closedInsideUpgrade[kind] += 1;
        },
      });
    }
    listen = await new Promise<us_listen_socket>((resolve, reject) => app.listen("127.0.0.1", 0, (s) => (s ? resolve(s) : reject(new Error("no listen")))));
    port = uWS.us_socket_local_port(listen);
    expect(await anchor.start()).toBe(true);
  });
  afterAll(() => {
    anchor.stop();
    uWS.us_listen_socket_close(listen);
  });

  /** Opens a WebSocket on `path` and waits for the first frame: true when it came, false when the socket closed first. */
  const handshake = (path: string) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () =>
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`),
      );
      let seen = "";
      socket.on("data", (d: Buffer) => {
        seen += d.toString("latin1");
        if (seen.includes("hello")) {
          socket.destroy();
          resolve(true);
        }
      });
      socket.on("error", () => undefined);
      socket.on("close", () => resolve(seen.includes("hello")));
    });

  it("opens the anchor to its own listener, which takes only its secret", async () => {
    expect(anchor.open).toBe(true);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1", () =>
        socket.write(`GET /_uws/upgrade-anchor HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Anchor-Secret: guess\r\n\r\n`),
      );
      let seen = "";
      socket.on("data", (d: Buffer) => (seen += d.toString("latin1")));
      socket.on("close", () => resolve(seen));
      setTimeout(() => socket.destroy(), 500);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 404/);
  });

  // First, while this process's heap still gives the bug its best odds (it gets rarer as the heap settles).
  it("without the anchor, uWS closes some of the same upgrades inside the upgrade (the bug is in this binary)", async () => {
    for (let i = 0; i < 4 * HANDSHAKES && closedInsideUpgrade.plain === 0; i++) await handshake("/plain");
    // If this fails, the installed uWS no longer has the bug and the anchor can go.
    expect(closedInsideUpgrade.plain).toBeGreaterThan(0);
  });

  /** HANDSHAKES upgrades on an anchored route, the anchor open throughout: none closed inside its upgrade, every client framed. */
  async function expectAllKept(kind: "anchored" | "engine") {
    let framed = 0;
    for (let i = 0; i < HANDSHAKES; i++) {
      expect(anchor.open).toBe(true);
      if (await handshake(`/${kind}`)) framed += 1;
    }
    expect(closedInsideUpgrade[kind]).toBe(0);
    expect(framed).toBe(HANDSHAKES);
  }

  it("keeps every socket upgraded inside the anchor's cork open", () => expectAllKept("anchored"));

  it("keeps every socket upgraded in the cork of a response it anchored (how engine.io upgrades) open", () => expectAllKept("engine"));
});
