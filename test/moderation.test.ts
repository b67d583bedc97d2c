// Host moderation, likes and the word filter, end to end over raw WebSocket.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, sleep, WsClient } from "./support/clients.js";

describe("moderation and likes", () => {
  let server: TestServer;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, {
      SENSITIVE_WORDS: "scam,假货",
      COUNTS_INTERVAL_MS: "200",
      COMMENT_BURST: "20",
      COMMENT_RATE_PER_SEC: "20",
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function room() {
    const host = await devSession(server.url, "Host");
    const user = await devSession(server.url, "Troll");
    const url = `${server.ws}/live-stream/${await devStream(server.url, host.token)}/ws`;
    const hostWs = await WsClient.connect(url, { token: host.token });
    const userWs = await WsClient.connect(url, { token: user.token });
    const watcher = await WsClient.connect(url);
    await watcher.next("snapshot");
    return { url, host, user, hostWs, userWs, watcher, close: () => [hostWs, userWs, watcher].forEach((c) => c.close()) };
  }

  const contents = (c: WsClient) => c.of("comment").map((f) => (f.comment as { content: string }).content);

  it("mutes and unmutes a user across the room", async () => {
    const r = await room();
    r.hostWs.send({ type: "mute", id: "m", userId: r.user.userId, durationSec: 60 });
    await r.hostWs.until((f) => f.some((x) => x.type === "ack" && x.id === "m"), 10_000, "mute ack");
    await sleep(100);
    r.userWs.send({ type: "comment", id: "c1", comment: { content: "let me talk" } });
    expect(await r.userWs.next("error")).toMatchObject({ code: "MUTED", id: "c1" });
    r.hostWs.send({ type: "unmute", id: "u", userId: r.user.userId });
    await r.hostWs.until((f) => f.some((x) => x.type === "ack" && x.id === "u"), 10_000, "unmute ack");
    await sleep(100);
    r.userWs.send({ type: "comment", id: "c2", comment: { content: "thanks" } });
    await r.watcher.until(() => contents(r.watcher).includes("thanks"), 10_000, "comment after unmute");
    expect(contents(r.watcher)).toEqual(["thanks"]);
    r.close();
  });

  it("deletes a comment for everyone, live and in later snapshots", async () => {
    const r = await room();
    r.userWs.send({ type: "comment", id: "bad", comment: { content: "buy elsewhere" } });
    const c = await r.watcher.next("comment");
    const commentId = (c.comment as { id: string }).id;
    r.hostWs.send({ type: "delete_comment", commentId });
    const deleted = await r.watcher.next("comment_deleted");
    expect(deleted).toMatchObject({ commentId, seq: (c.seq as number) + 1 });
    const late = await WsClient.connect(r.url);
    const snap = await late.next("snapshot");
    expect(snap.recentComments).toEqual([]);
    late.close();
    r.close();
  });

  it("pins a message and turns slow mode on and off", async () => {
    const r = await room();
    r.hostWs.send({ type: "pin", text: "Free shipping today" });
    expect(await r.watcher.next("pinned")).toMatchObject({ pin: { text: "Free shipping today", by: "Host" } });
    r.hostWs.send({ type: "slow_mode", seconds: 30 });
    expect(await r.watcher.next("slow_mode")).toMatchObject({ seconds: 30 });
    r.userWs.send({ type: "comment", id: "s1", comment: { content: "first" } });
    await r.userWs.until((f) => f.some((x) => x.id === "s1"), 10_000, "s1 reply");
    r.userWs.send({ type: "comment", id: "s2", comment: { content: "second" } });
    expect(await r.userWs.next("error")).toMatchObject({ code: "SLOW_MODE", id: "s2" });
    r.hostWs.send({ type: "comment", id: "h", comment: { content: "hosts are exempt" } });
    await r.watcher.until(() => contents(r.watcher).includes("hosts are exempt"), 10_000, "host comment");
    const late = await WsClient.connect(r.url);
    expect(await late.next("snapshot")).toMatchObject({ state: { slowModeSec: 30, pinned: { text: "Free shipping today" } } });
    r.hostWs.send({ type: "slow_mode", seconds: 0 });
    await r.watcher.next("slow_mode");
    r.hostWs.send({ type: "pin", text: null });
    expect(await r.watcher.next("pinned")).toMatchObject({ pin: null });
    r.userWs.send({ type: "comment", id: "s3", comment: { content: "third" } });
    await r.watcher.until(() => contents(r.watcher).includes("third"), 10_000, "comment after slow mode");
    late.close();
    r.close();
  });

  it("masks sensitive words", async () => {
    const r = await room();
    r.userWs.send({ type: "comment", comment: { content: "this is a SCAM, 假货!" } });
    const c = await r.watcher.next("comment");
    expect(c.comment).toMatchObject({ content: "this is a ****, **!" });
    r.close();
  });

  it("counts likes across the room, conflated", async () => {
    const r = await room();
    for (let i = 0; i < 10; i++) r.userWs.send({ type: "like", count: 2 });
    r.hostWs.send({ type: "like" });
    await r.watcher.until((f) => f.some((x) => x.type === "like_count" && x.count === 21), 10_000, "like_count 21");
    expect(r.watcher.of("like_count").length).toBeLessThanOrEqual(3);
    r.watcher.send({ type: "like" });
    expect(await r.watcher.next("error")).toMatchObject({ code: "AUTH_REQUIRED" });
    for (let i = 0; i < 150; i++) r.userWs.send({ type: "like", id: `l${i}`, count: 1 });
    await r.userWs.until((f) => f.filter((x) => typeof x.id === "string" && x.id.startsWith("l")).length === 150, 10_000, "like replies");
    expect(r.userWs.of("error").some((e) => e.code === "RATE_LIMITED")).toBe(true);
    r.close();
  });
});
