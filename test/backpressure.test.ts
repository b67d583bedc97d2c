// Acceptance 7: a reader that stops reading is cut off at the limit; server memory stays bounded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "../src/protocol/errors.js";
import { useTestServices } from "./support/services.js";
import { metric } from "./support/http.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { devSession, devStream, sleep, WsClient } from "./support/clients.js";

const MESSAGES = 10_000;
const HARD_LIMIT = 1024 * 1024;
const FRAME_MAX = 8 * 1024;
const STALLED = 6;
/**
 * Each broadcast is ~60 MB: a server that buffered it for 6 stalled readers would hold ~360 MB more.
 * The bound leaves room for the garbage collector's timing, which moves RSS by tens of MB between runs.
 */
const RSS_BOUND_OVER_CONTROL = 128 * 1024 * 1024;
const FILLER = "漢".repeat(1990);

type Paused = { _socket: { pause(): void; resume(): void } };
const rawSocket = (c: WsClient) => (c.ws as unknown as Paused)._socket;

describe("backpressure", () => {
  let server: SpawnedServer;
  const services = useTestServices();

  beforeAll(async () => {
    server = await spawnServer(services.databaseUrl, services.redisPrefix, {
      COMMENT_MAX_LENGTH: "2000",
      WS_MAX_BACKPRESSURE_BYTES: String(HARD_LIMIT),
      WS_SOFT_BACKPRESSURE_BYTES: String(64 * 1024),
      WS_SWEEP_MS: "100",
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Broadcasts MESSAGES host comments into a new room; returns the peak server RSS seen meanwhile. */
  async function broadcast(stalled: boolean) {
    const host = await devSession(server.url, "Host");
    const url = `${server.ws}/live-stream/${await devStream(server.url, host.token)}/ws`;
    const hostWs = await WsClient.connect(url, { token: host.token });
    const reader = await WsClient.connect(url);
    await reader.next("snapshot");
    const slow = await Promise.all(Array.from({ length: stalled ? STALLED : 0 }, () => WsClient.connect(url)));
    for (const c of slow) {
      await c.next("snapshot");
      rawSocket(c).pause();
    }
    let rssPeak = server.rss();
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, server.rss())), 20);
    // Paced by the healthy reader, so what the server holds in flight is small and the stalled
    // socket's buffer is what would show.
    for (let i = 0; i < MESSAGES; i++) {
      hostWs.send({ type: "comment", comment: { content: `${i} ${FILLER}` } });
      if (i % 250 === 249) await reader.until((f) => f.length > i, 30_000, `comment ${i}`);
    }
    await reader.until((f) => f.filter((x) => x.type === "comment").length === MESSAGES, 90_000, "all comments");
    clearInterval(sampler);
    const seqs = reader.of("comment").map((f) => f.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    reader.close();
    hostWs.close();
    return { rssPeak, slow };
  }

  it("closes clients that stop reading during 10,000 broadcasts with SLOW_CONSUMER; memory stays bounded", async () => {
    // Counters are the server's, which a retry of this test shares: compare with what was there before.
    const closedBefore = await metric(server.url, "pinlive_slow_consumer_closed_total");
    const control = await broadcast(false);
    const { rssPeak, slow } = await broadcast(true);

    expect(await metric(server.url, "pinlive_slow_consumer_closed_total")).toBe(closedBefore + STALLED);
    // Closed at the limit by the sweep, or by uWS itself at twice the limit: never more is held.
    expect(await metric(server.url, "pinlive_ws_send_buffer_peak_bytes")).toBeLessThanOrEqual(2 * HARD_LIMIT + FRAME_MAX);
    expect(rssPeak).toBeLessThan(control.rssPeak + RSS_BOUND_OVER_CONTROL);

    for (const c of slow) {
      rawSocket(c).resume();
      // The close frame queues behind the buffered data: a reader that stays stalled past uWS's
      // close timeout is dropped without it (1006), as docs/protocol.md says.
      expect([CLOSE_CODES.SLOW_CONSUMER.code, 1006]).toContain(await c.closed);
      expect(c.of("comment").length).toBeGreaterThan(0);
      expect(c.of("comment").length).toBeLessThan(MESSAGES);
    }
  });

  it("a slow reader past the soft limit keeps getting host messages but loses ordinary comments first", async () => {
    const host = await devSession(server.url, "Host");
    const url = `${server.ws}/live-stream/${await devStream(server.url, host.token)}/ws`;
    const hostWs = await WsClient.connect(url, { token: host.token });
    const viewers = await Promise.all(Array.from({ length: 30 }, async (_, i) => devSession(server.url, `v${i}`)));
    const talkers = await Promise.all(viewers.map((v) => WsClient.connect(url, { token: v.token })));
    const slow = await WsClient.connect(url);
    await slow.next("snapshot");
    rawSocket(slow).pause();

    // Host messages until the kernel buffers are full and the server marks the socket lagging.
    let sent = 0;
    while ((await metric(server.url, "pinlive_ws_lagging")) < 1) {
      expect(sent).toBeLessThan(5000);
      for (let i = 0; i < 20; i++) hostWs.send({ type: "comment", comment: { content: `h${sent++} ${FILLER}` } });
      await sleep(150);
    }
    talkers.forEach((t, i) => t.send({ type: "comment", comment: { content: `viewer ${i}` } }));
    hostWs.send({ type: "comment", id: "last", comment: { content: "host after viewers" } });
    await hostWs.until((f) => f.some((x) => x.id === "last"), 10_000, "ack");
    await sleep(300);
    rawSocket(slow).resume();
    await slow.until((f) => f.some((x) => x.type === "comment" && (x.comment as { content: string }).content === "host after viewers"), 20_000, "host comment");
    const contents = slow.of("comment").map((f) => (f.comment as { content: string }).content);
    expect(contents.filter((c) => c.startsWith("viewer "))).toEqual([]);
    expect(contents.filter((c) => /^h\d/.test(c)).length).toBe(sent);
    expect(slow.closeCode).toBeNull();
    for (const c of [...talkers, slow, hostWs]) c.close();
  });
});
