// Sampling: a room that gets more viewer comments than ROOM_READABLE_COMMENTS_PER_SEC delivers at
// most that many a second (by Redis's clock, across nodes), every host message, and each sender
// its own comment whether or not it was kept.
import { Redis } from "ioredis";
import { io as ioClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { redisUrl } from "./support/env.js";
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, sleep, waitFor, WsClient, type Frame } from "./support/clients.js";

const READABLE_PER_SEC = 5;
const SENDERS = 16;
const ROUNDS = 25;
/** The host speaks every other round. */
const HOST_EVERY = 2;

type Comment = { content: string; role: string };

/** One sender's view: the frames it got, over raw WebSocket or socket.io. */
interface Sender {
  frames: Frame[];
  send(id: string, content: string): void;
  close(): void;
}

function rawSender(ws: WsClient): Sender {
  return { frames: ws.frames, send: (id, content) => ws.send({ type: "comment", id, comment: { content } }), close: () => ws.close() };
}

async function ioSender(url: string, streamId: string, token: string): Promise<Sender> {
  const socket = ioClient(url, { transports: ["websocket"], auth: { streamId, token }, reconnection: false });
  const frames: Frame[] = [];
  socket.onAny((_event: string, msg: Frame) => frames.push(msg));
  await waitFor(() => frames.some((m) => m.type === "snapshot"), "socket.io snapshot");
  return {
    frames,
    send: (id, content) => socket.emit("comment", { id, comment: { content } }, (reply: Frame) => frames.push(reply)),
    close: () => socket.close(),
  };
}

const commentsIn = (frames: Frame[]) => frames.filter((f) => f.type === "comment").map((f) => ({ ...(f.comment as Comment), seq: f.seq as number | undefined, sampled: f.sampled === true }));

describe("comment sampling", () => {
  const services = useTestServices();
  let a: TestServer;
  let b: SpawnedServer;
  const redis = new Redis(redisUrl);
  const redisSecond = async () => Number((await redis.time())[0]);

  beforeAll(async () => {
    const env = { ROOM_READABLE_COMMENTS_PER_SEC: String(READABLE_PER_SEC), COMMENT_RATE_PER_SEC: "1000", COMMENT_BURST: "1000" };
    [a, b] = await Promise.all([startTestServer(services.databaseUrl, services.redisPrefix, env), spawnServer(services.databaseUrl, services.redisPrefix, env)]);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    redis.disconnect();
  });

  it("keeps at most ROOM_READABLE_COMMENTS_PER_SEC viewer comments a second across nodes, every host message, and echoes each sender's own", async () => {
    const host = await devSession(a.url, "Host");
    const streamId = await devStream(a.url, host.token);
    const path = `/live-stream/${streamId}/ws`;
    const nodes = [a, b];
    const watchers = await Promise.all(nodes.map((n) => WsClient.connect(`${n.ws}${path}`)));
    const hostWs = await WsClient.connect(`${b.ws}${path}`, { token: host.token });
    const senders: Sender[] = [];
    for (let i = 0; i < SENDERS; i++) {
      const user = await devSession(a.url, `fan${i}`);
      const node = nodes[i % 2]!;
      if (i === 0) senders.push(await ioSender(node.url, streamId, user.token));
      else {
        const ws = await WsClient.connect(`${node.ws}${path}`, { token: user.token });
        await ws.next("snapshot");
        senders.push(rawSender(ws));
      }
    }
    await Promise.all([...watchers, hostWs].map((w) => w.until((f) => f.some((x) => x.type === "snapshot"), 10_000, "snapshot")));

    const startSecond = await redisSecond();
    for (let round = 0; round < ROUNDS; round++) {
      senders.forEach((s, i) => s.send(`c${round}`, `fan${i} #${round}`));
      if (round % HOST_EVERY === 0) hostWs.send({ type: "comment", id: `h${round}`, comment: { content: `host #${round}` } });
      await sleep(100);
    }
    const acks = (s: Sender) => s.frames.filter((f) => f.type === "ack" && typeof f.id === "string" && f.id.startsWith("c"));
    await waitFor(() => senders.every((s) => acks(s).length === ROUNDS), "every comment answered", 30_000);
    const hostContents = Array.from({ length: ROUNDS }, (_, r) => r).filter((r) => r % HOST_EVERY === 0).map((r) => `host #${r}`);
    await hostWs.until((f) => f.filter((x) => x.type === "ack" && String(x.id).startsWith("h")).length === hostContents.length, 10_000, "host acks");
    const endSecond = await redisSecond();

    const kept = senders.flatMap((s) => acks(s).filter((x) => typeof x.seq === "number"));
    const sampled = senders.flatMap((s) => acks(s).filter((x) => x.sampled === true));
    expect(kept.length + sampled.length).toBe(SENDERS * ROUNDS);
    expect(sampled.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    // The budget is per second of Redis's clock, shared by both nodes.
    expect(kept.length).toBeLessThanOrEqual(READABLE_PER_SEC * (endSecond - startSecond + 1));

    for (const w of watchers) {
      await w.until(() => commentsIn(w.frames).filter((c) => c.role === "host").length === hostContents.length, 10_000, "every host message");
      await w.until(() => commentsIn(w.frames).filter((c) => c.role === "viewer").length === kept.length, 10_000, "every kept viewer comment");
      const got = commentsIn(w.frames);
      // Host messages are never sampled; viewers see exactly the kept comments, each once, in seq order.
      expect(got.filter((c) => c.role === "host").map((c) => c.content)).toEqual(hostContents);
      expect(got.every((c) => !c.sampled)).toBe(true);
      const seqs = got.map((c) => c.seq!);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    }
    expect(commentsIn(watchers[0]!.frames)).toEqual(commentsIn(watchers[1]!.frames));

    // Every sender saw each of its own comments exactly once: in the room, or echoed to it alone.
    senders.forEach((s, i) => {
      const own = commentsIn(s.frames).filter((c) => c.content.startsWith(`fan${i} #`));
      expect(own.map((c) => c.content).sort()).toEqual(Array.from({ length: ROUNDS }, (_, r) => `fan${i} #${r}`).sort());
      expect(own.filter((c) => c.sampled).length).toBe(acks(s).filter((x) => x.sampled === true).length);
    });
    for (const c of [...watchers, hostWs, ...senders]) c.close();
  });
});
