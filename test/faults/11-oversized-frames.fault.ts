// Case 11: frames and bodies above the limit, on the raw WebSocket, socket.io's WebSocket and
// socket.io's HTTP long-polling. Only the sender's connection goes, with the documented answer;
// nothing is buffered whole, and everyone else carries on.
import { expect } from "vitest";
import { CLOSE_CODES } from "../../src/protocol/errors.js";
import { devSession, devStream, WsClient } from "../support/clients.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { ioViewer } from "./app-support/io-client.js";
import { pollingSession } from "./app-support/polling.js";

const LIMIT = 4096;
/** Resident memory the server may grow by while refusing ~20 MB of oversized input. */
const RSS_SLACK = 16 * 1024 * 1024;

const ctx = useCaseServer({ WS_MAX_PAYLOAD_BYTES: String(LIMIT) });

faultCase(11, "oversized frames (raw WS and socket.io polling)", async (log) => {
  const { server } = ctx;
  const host = await devSession(server.url, "Host");
  const streamId = await devStream(server.url, host.token);
  const url = `${server.ws}/live-stream/${streamId}/ws`;
  const bystander = await WsClient.connect(url, { token: host.token });
  const steady = await pollingSession(server.url, { streamId });
  await bystander.next("snapshot");
  const rssBefore = server.rss();

  // Raw WebSocket: over the limit → 1009; past 4× the limit uWS drops the connection (1006), reading nothing.
  const raw = async (send: (c: WsClient) => void) => {
    const c = await WsClient.connect(url);
    c.ws.on("error", () => {}); // the server may reset a socket still writing
    await c.next("snapshot");
    send(c);
    return c.closed;
  };
  const codes = {
    over: await raw((c) => c.send("x".repeat(LIMIT * 2))),
    fragmented: await raw((c) => [0, 1, 2].forEach((i) => c.ws.send("y".repeat(LIMIT / 2 + 100), { fin: i === 2 }))),
    far: await raw((c) => c.send("z".repeat(LIMIT * 8))),
    huge: await raw((c) => c.send(Buffer.alloc(16 * 1024 * 1024, 0x61).toString())),
  };
  log.injected(`raw WS frames of ${(LIMIT * 2) / 1024} KB, 3 fragments adding up past ${LIMIT / 1024} KB, ${(LIMIT * 8) / 1024} KB and 16 MB (limit ${LIMIT / 1024} KB)`);
  expect(codes).toEqual({ over: CLOSE_CODES.MESSAGE_TOO_BIG.code, fragmented: CLOSE_CODES.MESSAGE_TOO_BIG.code, far: 1006, huge: 1006 });
  log.checked("1009 MESSAGE_TOO_BIG up to 4× the limit (whole or fragmented), dropped (1006) beyond, as docs/protocol.md says");

  // socket.io's WebSocket transport: the same limit (maxHttpBufferSize), the sender disconnected.
  const io = ioViewer(server.url, { streamId });
  await io.snapshot();
  const reason = new Promise<string>((r) => io.socket.once("disconnect", r));
  io.socket.emit("comment", { comment: { content: "w".repeat(LIMIT * 2) } });
  log.injected(`a socket.io (WebSocket) event of ${(LIMIT * 2) / 1024} KB`);
  expect(await reason).toBe("transport close");
  log.checked("socket.io over WebSocket: the sender disconnected (transport close)");

  // socket.io's long-polling: an oversized POST is refused before it is read, and the session ends.
  const victim = await pollingSession(server.url, { streamId });
  const oversized = `42${JSON.stringify(["comment", { comment: { content: "p".repeat(LIMIT * 16) } }])}`;
  const bigStatus = await victim.post(oversized);
  const afterBig = await victim.poll();
  const chunkedSession = await pollingSession(server.url, { streamId });
  const chunked = new ReadableStream({
    start(c) {
      for (let i = 0; i < 64; i++) c.enqueue(new TextEncoder().encode("c".repeat(LIMIT)));
      c.close();
    },
  });
  const chunkedStatus = await chunkedSession.post(chunked, { duplex: "half" } as RequestInit);
  const bodyHuge = await fetch(`${victim.url.replace(/sid=[^&]+/, "sid=x")}`, { method: "POST", body: Buffer.alloc(4 * 1024 * 1024, 0x62) });
  await bodyHuge.arrayBuffer();
  log.injected(`socket.io long-polling POSTs: ${Math.floor(oversized.length / 1024)} KB with Content-Length, ${(64 * LIMIT) / 1024} KB chunked (no length), 4 MB to an unknown session`);
  expect({ bigStatus, afterBig: afterBig.status, chunkedStatus, bodyHuge: bodyHuge.status }).toEqual({ bigStatus: 413, afterBig: 400, chunkedStatus: 411, bodyHuge: 400 });
  log.checked("413 for the oversized POST and its session is gone (400 Session ID unknown); 411 for a body without a length; 400 for an unknown session");

  // Everyone else carries on: the raw bystander, the steady polling session, a new socket.io viewer.
  bystander.send({ type: "comment", id: "c", comment: { content: "still here" } });
  expect(await bystander.next("ack")).toMatchObject({ id: "c" });
  expect(await steady.post(`42${JSON.stringify(["ping", { id: "p1" }])}`)).toBe(200);
  await steady.until((p) => p.startsWith('42["pong"') && p.includes('"p1"'), "the steady session's pong");
  await steady.until((p) => p.includes("still here"), "the bystander's comment on the steady session");
  const fresh = ioViewer(server.url, { streamId });
  await fresh.snapshot();
  expect(bystander.closeCode).toBeNull();
  const grown = server.rss() - rssBefore;
  expect(grown).toBeLessThan(RSS_SLACK);
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  log.checked(`the raw bystander and the steady polling session kept working (ack, pong, the next comment), a new socket.io viewer joined; RSS grew ${Math.max(0, Math.round(grown / 1024 / 1024))} MB; /healthz 200`);
  bystander.close();
  fresh.close();
});
