// Acceptance 5: reconnecting with the last position gets exactly what was missed, or a fresh snapshot.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../src/metrics.js";
import { createRoomStore } from "../src/realtime/room-store.redis.js";
import { redisKeys } from "../src/redis/keys.js";
import { redisUrl } from "./support/env.js";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, WsClient, type Frame } from "./support/clients.js";

type Room = { streamId: string; hostWs: WsClient; url: string };

const seqsOf = (frames: Frame[]) => frames.filter((f) => f.type === "comment").map((f) => f.seq as number);
const batchSeqs = (frames: Frame[]) =>
  frames.filter((f) => f.type === "batch").flatMap((f) => (f.events as Frame[]).map((e) => e.seq as number));

describe("recovery", () => {
  let server: TestServer;
  let redis: Redis;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { ROOM_EVENTS_MAXLEN: "1000" });
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await server?.stop();
    redis?.disconnect();
  });

  async function room(): Promise<Room> {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const url = `${server.ws}/live-stream/${streamId}/ws`;
    const hostWs = await WsClient.connect(url, { token: host.token });
    await hostWs.next("snapshot");
    return { streamId, hostWs, url };
  }

  async function say(r: Room, from: number, count: number) {
    for (let i = from; i < from + count; i++) r.hostWs.send({ type: "comment", id: `c${i}`, comment: { content: `m${i}` } });
    await r.hostWs.until((f) => f.filter((x) => x.type === "ack").length >= from + count - 1, 20_000, "acks");
  }

  const rangeReads = async () => {
    const m = await server.metrics.redisLatency.get();
    return m.values.find((v) => v.metricName?.endsWith("_count") && v.labels.op === "range")?.value ?? 0;
  };

  it.each([
    ["from the node's memory", 5, false],
    ["from the Redis stream", 700, true],
  ])("reconnect inside the window: missed comments %s, no gap, no duplicate", async (_how, missedCount, fromRedis) => {
    const r = await room();
    const viewer = await WsClient.connect(r.url);
    const snap = await viewer.next("snapshot");
    await say(r, 1, 3);
    await viewer.until((f) => seqsOf(f).length === 3, 10_000, "3 comments");
    const last = seqsOf(viewer.frames).at(-1)!;
    viewer.close();
    await viewer.closed;

    await say(r, 4, missedCount);
    const readsBefore = await rangeReads();
    const back = await WsClient.connect(`${r.url}?epoch=${String(snap.epoch)}&seq=${last}`);
    const again = await back.next("snapshot");
    expect(again).toMatchObject({ recovered: true, epoch: snap.epoch, recentComments: [] });
    expect((await rangeReads()) > readsBefore).toBe(fromRedis);
    await back.until((f) => seqsOf(f).length === missedCount, 10_000, "missed comments");
    await say(r, 4 + missedCount, 2);
    await back.until((f) => seqsOf(f).length === missedCount + 2, 10_000, "live comments");
    const seqs = seqsOf(back.frames);
    expect(seqs).toEqual(Array.from({ length: missedCount + 2 }, (_, i) => last + 1 + i));
    const contents = back.of("comment").map((f) => (f.comment as { content: string }).content);
    expect(contents[0]).toBe("m4");
    back.close();
    r.hostWs.close();
  });

  it("batched clients recover the same way, in one batch frame", async () => {
    const r = await room();
    const viewer = await WsClient.connect(`${r.url}?batch=1`);
    const snap = await viewer.next("snapshot");
    await say(r, 1, 2);
    await viewer.until((f) => batchSeqs(f).length === 2, 10_000, "2 events");
    viewer.close();
    await viewer.closed;
    await say(r, 3, 7);
    const back = await WsClient.connect(`${r.url}?batch=1&epoch=${String(snap.epoch)}&seq=2`);
    expect(await back.next("snapshot")).toMatchObject({ recovered: true });
    await back.until((f) => batchSeqs(f).length === 7, 10_000, "7 events");
    expect(batchSeqs(back.frames)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    back.close();
    r.hostWs.close();
  });

  it("outside the window (trimmed history): recovered false and a fresh snapshot", async () => {
    const r = await room();
    const viewer = await WsClient.connect(r.url);
    const snap = await viewer.next("snapshot");
    viewer.close();
    await say(r, 1, 2500);
    const back = await WsClient.connect(`${r.url}?epoch=${String(snap.epoch)}&seq=0`);
    const again = await back.next("snapshot");
    expect(again).toMatchObject({ recovered: false, epoch: snap.epoch, seq: 2500 });
    const recent = again.recentComments as Frame[];
    expect(recent.length).toBe(30);
    expect(recent.at(-1)).toMatchObject({ seq: 2500, comment: { content: "m2500" } });
    back.close();
    r.hostWs.close();
  });

  it("after the room's stream is lost (epoch change): recovered false, for the connected and the reconnecting", async () => {
    const r = await room();
    const viewer = await WsClient.connect(r.url);
    const snap = await viewer.next("snapshot");
    await say(r, 1, 3);
    await viewer.until((f) => seqsOf(f).length === 3, 10_000, "3 comments");

    const k = redisKeys(services.redisPrefix).room;
    await redis.del(k.epoch(r.streamId), k.seq(r.streamId), k.events(r.streamId));
    await say(r, 4, 1);

    const resync = await viewer.next("snapshot");
    const pushed = viewer.frames.slice(viewer.frames.indexOf(resync));
    expect(resync.recovered).toBe(false);
    expect(resync.epoch).not.toBe(snap.epoch);
    await viewer.until((f) => f.slice(f.indexOf(resync)).some((x) => x.type === "comment"), 10_000, "comment after resync");
    expect(pushed.find((f) => f.type === "comment")).toMatchObject({ seq: 1, comment: { content: "m4" } });

    const back = await WsClient.connect(`${r.url}?epoch=${String(snap.epoch)}&seq=3`);
    const again = await back.next("snapshot");
    expect(again).toMatchObject({ recovered: false, epoch: resync.epoch });
    expect((again.recentComments as Frame[]).map((c) => c.seq)).toEqual([1]);
    back.close();
    viewer.close();
    r.hostWs.close();
  });

  it("refuses a malformed position at the upgrade", async () => {
    const r = await room();
    await expect(WsClient.connect(`${r.url}?epoch=abc&seq=-4`)).rejects.toMatchObject({ status: 400 });
    await expect(WsClient.connect(`${r.url}?seq=4`)).rejects.toMatchObject({ status: 400 });
    r.hostWs.close();
  });
});

describe("a node whose room subscription drops", () => {
  let server: TestServer;
  let redis: Redis;
  const nodeId = `resync-${Date.now()}`;
  const services = useTestServices();

  beforeAll(async () => {
    // Counts every minute: only the reconnect itself can trigger the catch-up here.
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { NODE_ID: nodeId, COUNTS_INTERVAL_MS: "60000" });
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await server?.stop();
    redis?.disconnect();
  });

  it("catches up on state, mutes and events published while it was away", async () => {
    const host = await devSession(server.url, "Host");
    const fan = await devSession(server.url, "Fan");
    const streamId = await devStream(server.url, host.token);
    const url = `${server.ws}/live-stream/${streamId}/ws`;
    const viewer = await WsClient.connect(url);
    const fanWs = await WsClient.connect(url, { token: fan.token });
    await viewer.next("snapshot");
    await fanWs.next("snapshot");

    // Another node's writes, made while this node's subscriber is disconnected.
    const other = createRoomStore(redis, redisKeys(services.redisPrefix), createMetrics(), { maxLen: 1000, ttlSec: 3600, statsBucketMs: 10_000 });
    const subscriber = (await redis.client("LIST")) as string;
    const id = /id=(\d+) [^\n]*name=pinlive-rooms-sub-/.exec(subscriber.split("\n").find((l) => l.includes(`rooms-sub-${nodeId}`))!)![1]!;
    await redis.client("KILL", "ID", id);
    await other.setState(streamId, "pinned", JSON.stringify({ text: "while away", by: "Host", at: 1 }), JSON.stringify({ type: "pinned", pin: { text: "while away", by: "Host", at: 1 } }));
    await other.setMute(streamId, fan.userId, Date.now() + 60_000);
    await other.append(streamId, [{ body: `"type":"comment","comment":{"id":"away1","userId":"${host.userId}","username":"Host","content":"missed?","timestamp":1,"role":"host"}}`, sampleable: false }], 100);

    await viewer.until((f) => f.some((x) => x.type === "pinned"), 10_000, "pinned after reconnect");
    await viewer.until((f) => f.some((x) => x.type === "comment" && (x.comment as { id: string }).id === "away1"), 10_000, "missed comment");
    expect(viewer.of("pinned")[0]).toMatchObject({ pin: { text: "while away" } });
    fanWs.send({ type: "comment", id: "x", comment: { content: "am I muted?" } });
    expect(await fanWs.next("error")).toMatchObject({ code: "MUTED" });
    viewer.close();
    fanWs.close();
  });
});

describe("a node that misses a room's last message", () => {
  let server: TestServer;
  let redis: Redis;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { COUNTS_INTERVAL_MS: "200" });
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await server?.stop();
    redis?.disconnect();
  });

  it("notices from the counts report and fetches it from the stream", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const viewer = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    await viewer.next("snapshot");
    // Sequenced and stored, but the publish never reaches this node (pub/sub is at-most-once).
    const k = redisKeys(services.redisPrefix).room;
    const seq = await redis.incr(k.seq(streamId));
    const frame = `{"seq":${seq},"type":"comment","comment":{"id":"lost1","userId":"${host.userId}","username":"Host","content":"lost","timestamp":1,"role":"host"}}`;
    await redis.xadd(k.events(streamId), `${seq}-1`, "e", frame);
    await viewer.until((f) => f.some((x) => x.type === "comment" && (x.comment as { id: string }).id === "lost1"), 10_000, "lost comment");
    expect(viewer.of("comment")).toEqual([JSON.parse(frame)]);
    viewer.close();
  });
});
