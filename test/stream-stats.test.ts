// A show's stats (recorded while the room is open) and the stream's own word filter, across two nodes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream, sleep, waitUntil, WsClient } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";
import { payInSandbox, wechatUser } from "./support/wechat.js";
import { redisUrl } from "./support/env.js";
import { Redis } from "ioredis";

type Point = { at: number; viewers: number; likes: number; comments: number; orders: number; gmvFen: number };
const sum = (points: Point[], k: keyof Point) => points.reduce((s, p) => s + p[k], 0);
const env = { STATS_BUCKET_SEC: "1", COUNTS_INTERVAL_MS: "200", COMMENT_BURST: "20", COMMENT_RATE_PER_SEC: "20", SENSITIVE_WORDS: "scam" };

describe("stream stats and the word filter", () => {
  let a: TestServer;
  let b: SpawnedServer;
  let call: HttpClient;
  let admin: string;
  const services = useTestServices();

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestServer(services.databaseUrl, services.redisPrefix, env), spawnServer(services.databaseUrl, services.redisPrefix, env)]);
    call = httpClient(a.url);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("records viewers, likes and comments per bucket while the room is open, and paid orders with their GMV", async () => {
    const host = await devSession(a.url, "Host");
    const streamId = await devStream(a.url, host.token);
    const stats = async (since = 0) => {
      const res = await call<Point[]>("GET", `/v1/streams/${streamId}/stats?since=${since}`, { token: host.token });
      expect(res.status).toBe(200);
      return res.body;
    };
    expect(await stats()).toEqual([]); // nobody in the room yet: nothing recorded

    const url = (base: string) => `${base}/live-stream/${streamId}/ws`;
    const hostWs = await WsClient.connect(url(a.ws), { token: host.token });
    const fans = await Promise.all(["Ann", "Bo", "Cy"].map((n) => devSession(a.url, n)));
    // Viewers on both nodes: each node reports its own, one of them writes each bucket's point.
    const sockets = await Promise.all(fans.map((f, i) => WsClient.connect(url(i === 0 ? a.ws : b.ws), { token: f.token })));
    for (const ws of [hostWs, ...sockets]) await ws.next("snapshot");
    await waitUntil(async () => (await stats()).some((p) => p.viewers === 4), "a point with 4 viewers");

    sockets[0]!.send({ type: "comment", comment: { content: "hello" } });
    sockets[1]!.send({ type: "comment", comment: { content: "hi from node b" } });
    sockets[2]!.send({ type: "comment", comment: { content: "nice tea" } });
    sockets[1]!.send({ type: "like", count: 5 });
    sockets[2]!.send({ type: "like", count: 2 });
    await hostWs.until((f) => f.filter((x) => x.type === "comment").length === 3, 10_000, "3 comments");
    await waitUntil(async () => {
      const p = await stats();
      return sum(p, "comments") === 3 && sum(p, "likes") === 7;
    }, "3 comments and 7 likes in the series");
    await sleep(1500); // a few more buckets go by
    const points = await stats();
    expect(points.length).toBeGreaterThanOrEqual(2);
    expect(points.map((p) => p.at)).toEqual([...points.map((p) => p.at)].sort((x, y) => x - y));
    for (const p of points) expect(p.at % 1000).toBe(0);
    expect(new Set(points.map((p) => p.at)).size).toBe(points.length); // one point per bucket, whichever node wrote it
    expect(sum(points, "orders")).toBe(0);
    const last = points.at(-1)!;
    expect((await stats(last.at)).map((p) => p.at)).toEqual([last.at]);

    // A paid order of the stream lands in the point of the bucket it was paid in.
    const p = await makeProduct(call, admin, { priceFen: 12800, stock: 10 }, "Longjing");
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });
    const buyer = await wechatUser(call, "Mei");
    const order = await call<{ id: string; totalFen: number }>("POST", "/v1/orders", {
      token: buyer.token,
      headers: { "idempotency-key": "stats-1" },
      body: { items: [{ skuId: p.skuId, quantity: 2 }], addressId: buyer.addressId, streamId },
    });
    const params = (await call<Record<string, unknown>>("POST", `/v1/orders/${order.body.id}/pay`, { token: buyer.token })).body;
    expect(await payInSandbox(call, params)).toBe("requestPayment:ok");
    await waitUntil(async () => sum(await stats(), "orders") === 1, "the paid order in the series");
    expect(sum(await stats(), "gmvFen")).toBe(25600);

    const other = await devSession(a.url, "Other");
    expect((await call("GET", `/v1/streams/${streamId}/stats`, { token: other.token })).status).toBe(403);
    expect((await call("GET", `/v1/streams/${streamId}/stats`)).status).toBe(401);
    expect((await call("GET", `/v1/streams/${streamId}/stats`, { token: admin })).status).toBe(200);
    for (const ws of [hostWs, ...sockets]) ws.close();
  });

  it("masks the stream's own words on every node from the moment they change, and only in that stream", async () => {
    const host = await devSession(a.url, "Host");
    const streamId = await devStream(a.url, host.token);
    const otherStream = await devStream(a.url, host.token);
    const troll = await devSession(a.url, "Troll");
    const words = (id: string) => `/v1/streams/${id}/sensitive-words`;
    expect((await call("GET", words(streamId), { token: host.token })).body).toEqual({ words: [], globalWords: ["scam"] });

    // Node B has the room open (and its words loaded) before the change.
    const onB = await WsClient.connect(`${b.ws}/live-stream/${streamId}/ws`, { token: troll.token });
    const watcherA = await WsClient.connect(`${a.ws}/live-stream/${streamId}/ws`);
    await onB.next("snapshot");
    await watcherA.next("snapshot");
    const say = async (ws: WsClient, content: string, watcher: WsClient) => {
      const before = watcher.of("comment").length;
      ws.send({ type: "comment", comment: { content } });
      await watcher.until((f) => f.filter((x) => x.type === "comment").length > before, 10_000, `comment "${content}"`);
      return (watcher.of("comment").at(-1)!.comment as { content: string }).content;
    };
    expect(await say(onB, "fake tea, scam", watcherA)).toBe("fake tea, ****");

    const put = await call<{ words: string[] }>("PUT", words(streamId), { token: host.token, body: { words: ["Fake", " 山寨 ", "fake"] } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ words: ["Fake", "山寨"], globalWords: ["scam"] });
    // The change reaches node B's open room through the room's channel.
    await waitUntil(async () => (await say(onB, "FAKE 山寨货 scam", watcherA)) === "**** **货 ****", "node B masks the new words");

    // A node that opens the room later loads them, from PostgreSQL when the room's Redis state lost them;
    // another stream is not affected.
    const redis = new Redis(redisUrl);
    await redis.hdel(`${services.redisPrefix}:{room:${streamId}}:state`, "words");
    await redis.quit();
    const late = await spawnServer(services.databaseUrl, services.redisPrefix, env);
    try {
      const onLate = await WsClient.connect(`${late.ws}/live-stream/${streamId}/ws`, { token: troll.token });
      await onLate.next("snapshot");
      expect(await say(onLate, "so fake", watcherA)).toBe("so ****");
      onLate.close();
    } finally {
      await late.stop();
    }
    const elsewhere = await WsClient.connect(`${b.ws}/live-stream/${otherStream}/ws`, { token: troll.token });
    await elsewhere.next("snapshot");
    expect(await say(elsewhere, "fake scam", elsewhere)).toBe("fake ****");

    expect((await call("GET", words(streamId), { token: host.token })).body).toMatchObject({ words: ["Fake", "山寨"] });
    const stranger = await devSession(a.url, "Stranger");
    expect((await call("PUT", words(streamId), { token: stranger.token, body: { words: [] } })).status).toBe(403);
    expect((await call("PUT", words(streamId), { token: host.token, body: { words: ["x".repeat(41)] } })).status).toBe(400);
    // Clearing the list on B's side too.
    await call("PUT", words(streamId), { token: host.token, body: { words: [] } });
    await waitUntil(async () => (await say(onB, "fake again", watcherA)) === "fake again", "words cleared on node B");
    for (const ws of [onB, watcherA, elsewhere]) ws.close();
  });
});
