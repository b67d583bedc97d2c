// Case 9: a viewer stops reading while the room is busy. Its socket is cut at the send-buffer limit;
// the server never holds more than that for it, and everyone else keeps every event in order.
import { expect } from "vitest";
import { CLOSE_CODES } from "../../src/protocol/errors.js";
import { devSession, devStream, WsClient } from "../support/clients.js";
import { faultCase } from "./fault-case.js";
import { metric, useCaseServer } from "./app-support/case-server.js";

const HARD_LIMIT = 256 * 1024;
const SOFT_LIMIT = 32 * 1024;
const FRAME_MAX = 8 * 1024;
/** ~6 KB of UTF-8 per comment. */
const FILLER = "漢".repeat(1990);
/** The most host comments the case sends before giving up on the cut. */
const MAX_COMMENTS = 4000;

type Paused = { _socket: { pause(): void; resume(): void } };
const rawSocket = (c: WsClient) => (c.ws as unknown as Paused)._socket;
const seqs = (c: WsClient) => c.of("comment").map((f) => f.seq as number);

const ctx = useCaseServer({
  COMMENT_MAX_LENGTH: "2000",
  WS_MAX_BACKPRESSURE_BYTES: String(HARD_LIMIT),
  WS_SOFT_BACKPRESSURE_BYTES: String(SOFT_LIMIT),
  WS_SWEEP_MS: "100",
});

faultCase(9, "slow consumer", async (log) => {
  const { server } = ctx;
  const host = await devSession(server.url, "Host");
  const url = `${server.ws}/live-stream/${await devStream(server.url, host.token)}/ws`;
  const hostWs = await WsClient.connect(url, { token: host.token });
  const healthy = await WsClient.connect(url);
  const stalled = await WsClient.connect(url);
  await Promise.all([healthy.next("snapshot"), stalled.next("snapshot")]);
  const closedBefore = await metric(server.url, "pinlive_slow_consumer_closed_total");
  const connectedBefore = await metric(server.url, "pinlive_connections");
  // The sweep cuts at the limit and counts the cut. A burst that carries the buffer from under the soft
  // limit past twice the limit between two sweeps is cut by uWS's own cap instead: that one shows as
  // one connection fewer (uWS.js cannot tell its cut from a reader that left, see transport.uws.ts).
  const cutBy = async () =>
    (await metric(server.url, "pinlive_slow_consumer_closed_total")) > closedBefore
      ? "the sweep"
      : (await metric(server.url, "pinlive_connections")) < connectedBefore
        ? "uWS's own cap"
        : null;

  rawSocket(stalled).pause();
  // Paced by the healthy reader, so what the server holds is the stalled socket's share.
  let sent = 0;
  let cutter: string | null;
  while ((cutter = await cutBy()) === null) {
    expect(sent, "the stalled socket is cut before this many comments").toBeLessThan(MAX_COMMENTS);
    for (let i = 0; i < 50; i++) hostWs.send({ type: "comment", comment: { content: `${sent++} ${FILLER}` } });
    await healthy.until((f) => f.filter((x) => x.type === "comment").length === sent, 30_000, `comment ${sent}`);
  }
  const atCut = sent;
  // The room goes on after the cut: a closed socket gets none of it.
  for (let i = 0; i < 50; i++) hostWs.send({ type: "comment", comment: { content: `${sent++} after the cut` } });
  await healthy.until((f) => f.filter((x) => x.type === "comment").length === sent, 30_000, "the comments after the cut");
  log.injected(`a raw WS viewer stopped reading while the host sent ${atCut} comments of ~6 KB (WS_MAX_BACKPRESSURE_BYTES ${HARD_LIMIT / 1024} KB), then 50 more`);

  const peak = await metric(server.url, "pinlive_ws_send_buffer_peak_bytes");
  expect(peak).toBeLessThanOrEqual(2 * HARD_LIMIT + FRAME_MAX);
  log.checked(`cut by ${cutter} after ${atCut} comments; the server's send-buffer peak was ${Math.round(peak / 1024)} KB (≤ 2 × the limit)`);

  rawSocket(stalled).resume();
  // The close frame queues behind the buffered data: a reader still stalled past uWS's close timeout gets 1006.
  const code = await stalled.closed;
  expect([CLOSE_CODES.SLOW_CONSUMER.code, 1006]).toContain(code);
  const partial = seqs(stalled);
  expect(partial.length).toBeLessThanOrEqual(atCut);
  expect(partial).toEqual(seqs(healthy).slice(0, partial.length));
  log.checked(`the stalled socket closed with ${code} after reading ${partial.length} of ${sent} comments, in order, none twice`);

  const got = seqs(healthy);
  expect(got).toHaveLength(sent);
  expect(got).toEqual(got.map((_, i) => got[0]! + i));
  expect(healthy.closeCode).toBeNull();
  log.checked(`the healthy viewer got all ${sent} comments with consecutive seqs and stayed open`);

  // The room carries on: a new viewer joins and sees the next comment.
  const late = await WsClient.connect(url);
  await late.next("snapshot");
  hostWs.send({ type: "comment", comment: { content: "still live" } });
  await late.until((f) => f.some((x) => x.type === "comment" && (x.comment as { content: string }).content === "still live"), 10_000, "the next comment");
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  log.checked("a new viewer joined and got the next comment; /healthz 200");
  for (const c of [hostWs, healthy, late]) c.close();
});
