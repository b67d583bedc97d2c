// socket.io sockets get the raw WebSocket's backpressure: critical events only past the soft
// limit, closed at the hard one. The stalled reader speaks engine.io over a plain WebSocket so
// its TCP socket can stop being read.
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { metric } from "./support/http.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { devSession, devStream, sleep, waitFor, WsClient, type Frame } from "./support/clients.js";

const HARD_LIMIT = 1024 * 1024;
const FRAME_MAX = 8 * 1024;
const FILLER = "漢".repeat(1990);

/** A socket.io client over engine.io's WebSocket transport, by hand: it answers pings while it reads, and its TCP socket can be paused. */
class EngineIoClient {
  readonly events: Frame[] = [];
  closeCode: number | null = null;
  disconnectPacket = false;
  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const text = (data as Buffer).toString();
      if (text === "2") return ws.send("3");
      if (text.startsWith("41")) this.disconnectPacket = true;
      if (text.startsWith("42")) {
        const [, message] = JSON.parse(text.slice(2)) as [string, Frame];
        this.events.push(message);
      }
    });
    ws.on("close", (code) => (this.closeCode = code));
  }

  static async connect(baseWs: string, auth: Record<string, unknown>) {
    const ws = new WebSocket(`${baseWs}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    const client = new EngineIoClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send(`40${JSON.stringify(auth)}`);
    await waitFor(() => client.events.some((e) => e.type === "snapshot"), "socket.io snapshot");
    return client;
  }

  comments() {
    return this.events.filter((e) => e.type === "comment").map((e) => (e.comment as { content: string }).content);
  }

  private get tcp() {
    return (this.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  }
  pause() {
    this.tcp.pause();
  }
  resume() {
    this.tcp.resume();
  }
  close() {
    this.ws.terminate();
  }
}

describe("socket.io backpressure", () => {
  let server: SpawnedServer;
  const services = useTestServices();

  beforeAll(async () => {
    server = await spawnServer(services.databaseUrl, services.redisPrefix, {
      COMMENT_MAX_LENGTH: "2000",
      COMMENT_BURST: "20",
      WS_MAX_BACKPRESSURE_BYTES: String(HARD_LIMIT),
      WS_SOFT_BACKPRESSURE_BYTES: String(64 * 1024),
      WS_SWEEP_MS: "100",
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function room() {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const url = `${server.ws}/live-stream/${streamId}/ws`;
    const hostWs = await WsClient.connect(url, { token: host.token });
    await hostWs.next("snapshot");
    return { streamId, url, hostWs };
  }

  it("a stalled socket.io reader past the soft limit gets host messages but no ordinary comments, and is not closed", async () => {
    const { streamId, url, hostWs } = await room();
    const viewers = await Promise.all(Array.from({ length: 20 }, (_, i) => devSession(server.url, `v${i}`)));
    const talkers = await Promise.all(viewers.map((v) => WsClient.connect(url, { token: v.token })));
    const slow = await EngineIoClient.connect(server.ws, { streamId });
    slow.pause();

    let sent = 0;
    while ((await metric(server.url, "pinlive_ws_lagging")) < 1) {
      expect(sent).toBeLessThan(5000);
      for (let i = 0; i < 20; i++) hostWs.send({ type: "comment", comment: { content: `h${sent++} ${FILLER}` } });
      await sleep(150);
    }
    talkers.forEach((t, i) => t.send({ type: "comment", comment: { content: `viewer ${i}` } }));
    hostWs.send({ type: "comment", id: "last", comment: { content: "host after viewers" } });
    await hostWs.until((f) => f.some((x) => x.id === "last"), 10_000, "ack");
    // Every viewer comment reached the room (a healthy reader saw them) while the slow one lagged.
    await talkers[0]!.until((f) => f.filter((x) => x.type === "comment" && String((x.comment as { content: string }).content).startsWith("viewer ")).length === 20, 10_000, "viewer comments");
    await sleep(300);
    slow.resume();
    await waitFor(() => slow.comments().includes("host after viewers"), "host comment after resume", 30_000);
    expect(slow.comments().filter((c) => c.startsWith("viewer "))).toEqual([]);
    expect(slow.comments().filter((c) => /^h\d/.test(c)).length).toBe(sent);
    expect(slow.closeCode).toBeNull();
    // Drained: back on the full feed.
    await waitUntilLagging(0);
    talkers[0]!.send({ type: "comment", comment: { content: "viewer again" } });
    await waitFor(() => slow.comments().includes("viewer again"), "ordinary comments again once drained");
    slow.close();
    for (const c of [...talkers, hostWs]) c.close();
  });

  async function waitUntilLagging(n: number) {
    const deadline = Date.now() + 10_000;
    while ((await metric(server.url, "pinlive_ws_lagging")) !== n) {
      if (Date.now() > deadline) throw new Error(`pinlive_ws_lagging never became ${n}`);
      await sleep(100);
    }
  }

  it("closes a socket.io reader that stays stalled once its buffer reaches WS_MAX_BACKPRESSURE_BYTES", async () => {
    const { streamId, url, hostWs } = await room();
    const reader = await WsClient.connect(url);
    await reader.next("snapshot");
    const before = await metric(server.url, "pinlive_slow_consumer_closed_total");
    const slow = await EngineIoClient.connect(server.ws, { streamId });
    slow.pause();

    // Paced by a healthy reader, until the server has closed the stalled one, and a round after.
    let sent = 0;
    const round = async () => {
      for (let i = 0; i < 100; i++) hostWs.send({ type: "comment", comment: { content: `${sent++} ${FILLER}` } });
      await reader.until((f) => f.filter((x) => x.type === "comment").length === sent, 30_000, `comment ${sent}`);
    };
    while ((await metric(server.url, "pinlive_slow_consumer_closed_total")) === before) {
      expect(sent).toBeLessThan(10_000);
      await round();
    }
    await round();
    expect(await metric(server.url, "pinlive_ws_send_buffer_peak_bytes")).toBeLessThanOrEqual(2 * HARD_LIMIT + FRAME_MAX);
    slow.resume();
    await waitFor(() => slow.closeCode !== null, "the stalled socket closed", 30_000);
    expect(slow.comments().length).toBeGreaterThan(0);
    expect(slow.comments().length).toBeLessThan(sent);
    // The healthy reader lost nothing.
    const seqs = reader.of("comment").map((f) => f.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    reader.close();
    hostWs.close();
  });
});
