// A session that ends (logout, expiry, a role change) takes its live sockets with it, on every node.
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import postgres from "postgres";
import { io as ioClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "../src/protocol/errors.js";
import { useTestServices } from "./support/services.js";
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, sleep, waitFor, waitUntil, WsClient } from "./support/clients.js";
import { redisUrl } from "./support/env.js";
import { httpClient } from "./support/http.js";
import { adminToken, staffAccount } from "./support/admin.js";

type Msg = { type: string; [k: string]: unknown };

/** A socket.io viewer that records what it got and why it was disconnected. */
function ioViewer(url: string, auth: Record<string, unknown>) {
  const socket = ioClient(url, { transports: ["websocket"], auth, reconnection: false });
  const got: Msg[] = [];
  let disconnected: { reason: string; at: number } | null = null;
  socket.onAny((_event: string, msg: Msg) => got.push(msg));
  socket.on("disconnect", (reason) => (disconnected = { reason, at: Date.now() }));
  return { socket, got, disconnected: () => disconnected };
}

/** Resolves with the close code and when it came. */
const closedAt = (ws: WsClient) => ws.closed.then((code) => ({ code, at: Date.now() }));

describe("ended sessions", () => {
  const services = useTestServices();
  let a: TestServer;
  let b: SpawnedServer;
  let streamId = "";

  beforeAll(async () => {
    a = await startTestServer(services.databaseUrl, services.redisPrefix);
    b = await spawnServer(services.databaseUrl, services.redisPrefix);
    const host = await devSession(a.url, "Host");
    streamId = await devStream(a.url, host.token);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  async function wxLogin(openid: string) {
    const call = httpClient(a.url);
    const { code } = (await call<{ code: string }>("POST", "/sandbox/wechat/login-code", { body: { openid } })).body;
    return (await call<{ token: string; user: { id: string } }>("POST", "/v1/auth/login", { body: { code, nickname: "Mei" } })).body;
  }
  const room = (server: { ws: string }) => `${server.ws}/live-stream/${streamId}/ws`;

  it("logout closes that session's raw WebSocket and socket.io connections on every node within 1 s, and no other session's", async () => {
    const ended = await wxLogin("oLogoutEverywhere01");
    const other = await wxLogin("oLogoutEverywhere01"); // the same person on another phone
    const rawB = await WsClient.connect(room(b), { token: ended.token });
    const rawA = await WsClient.connect(room(a), { token: ended.token });
    const keep = await WsClient.connect(room(b), { token: other.token });
    const io = ioViewer(b.url, { streamId, token: ended.token });
    await Promise.all([rawA.next("snapshot"), rawB.next("snapshot"), keep.next("snapshot")]);
    await waitFor(() => io.got.some((m) => m.type === "snapshot"), "socket.io snapshot");

    const closes = Promise.all([closedAt(rawA), closedAt(rawB)]);
    const sent = Date.now();
    expect((await httpClient(a.url)("POST", "/v1/auth/logout", { token: ended.token })).status).toBe(204);
    const done = await Promise.race([closes, sleep(3000).then(() => null)]);
    expect(done, "both raw sockets closed").not.toBeNull();
    for (const c of done!) {
      expect(c.code).toBe(CLOSE_CODES.SESSION_ENDED.code);
      expect(c.at - sent).toBeLessThan(1000);
    }
    await waitFor(() => io.disconnected() !== null, "socket.io disconnected", 3000);
    expect(io.disconnected()!.reason).toBe("io server disconnect");
    expect(io.disconnected()!.at - sent).toBeLessThan(1000);
    expect(io.got).toContainEqual(expect.objectContaining({ type: "error", code: "AUTH_FAILED" }));

    // The other session of the same user stays, and still comments.
    await sleep(300);
    expect(keep.closeCode).toBeNull();
    keep.send({ type: "comment", id: "c1", comment: { content: "still here" } });
    expect(await keep.next("ack")).toMatchObject({ id: "c1" });
    keep.close();
  });

  it("closes a socket when its session expires, within 1 s of the deadline", async () => {
    const session = await wxLogin("oExpiringSoon01");
    const hash = createHash("sha256").update(session.token).digest("hex");
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    const [row] = await sql<{ expires_at: Date }[]>`update sessions set expires_at = now() + interval '2 seconds' where token_hash = ${hash} returning expires_at`;
    await sql.end();
    const deadline = row!.expires_at.getTime();
    const raw = await WsClient.connect(room(b), { token: session.token });
    const io = ioViewer(a.url, { streamId, token: session.token });
    await raw.next("snapshot");
    await waitFor(() => io.got.some((m) => m.type === "snapshot"), "socket.io snapshot");

    const closed = await Promise.race([closedAt(raw), sleep(5000).then(() => null)]);
    expect(closed, "closed at expiry").not.toBeNull();
    expect(closed!.code).toBe(CLOSE_CODES.SESSION_ENDED.code);
    expect(closed!.at).toBeGreaterThanOrEqual(deadline - 50);
    expect(closed!.at - deadline).toBeLessThan(1000);
    await waitFor(() => io.disconnected() !== null, "socket.io disconnected at expiry", 2000);
    expect(io.disconnected()!.at - deadline).toBeLessThan(1000);
  });

  it("a role change closes the account's sockets on every node, socket.io with AUTH_FAILED first", async () => {
    await staffAccount(services.databaseUrl, { username: "rolly", password: "0123456789ab", role: "host" });
    const call = httpClient(a.url);
    const login = await call<{ token: string; user: { id: string } }>("POST", "/v1/auth/staff-login", { body: { username: "rolly", password: "0123456789ab" } });
    const raw = await WsClient.connect(room(b), { token: login.body.token });
    const io = ioViewer(b.url, { streamId, token: login.body.token });
    await raw.next("snapshot");
    await waitFor(() => io.got.some((m) => m.type === "snapshot"), "socket.io snapshot");

    const admin = await adminToken(services.databaseUrl);
    const sent = Date.now();
    expect((await call("PATCH", `/v1/admin/staff/${login.body.user.id}`, { token: admin, body: { role: "admin" } })).status).toBe(200);
    const closed = await Promise.race([closedAt(raw), sleep(3000).then(() => null)]);
    expect(closed?.code).toBe(CLOSE_CODES.SESSION_ENDED.code);
    expect(closed!.at - sent).toBeLessThan(1000);
    await waitFor(() => io.disconnected() !== null, "socket.io disconnected", 2000);
    expect(io.got).toContainEqual(expect.objectContaining({ type: "error", code: "AUTH_FAILED" }));
  });

  it("a node cut off from the announcements forgets the HTTP sessions it kept once it subscribes again", async () => {
    const nodeId = `cut-off-${process.pid}-${Date.now()}`;
    const c = await spawnServer(services.databaseUrl, services.redisPrefix, { NODE_ID: nodeId });
    const redis = new Redis(redisUrl);
    try {
      const session = await wxLogin("oMissedTheEnd01");
      const me = async () => (await httpClient(c.url)("GET", "/v1/me", { token: session.token })).status;
      expect(await me()).toBe(200);
      // The session ends with an announcement c does not get (as if its subscription was down).
      const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
      await sql`delete from sessions where token_hash = ${createHash("sha256").update(session.token).digest("hex")}`;
      await sql.end();
      expect(await me(), "kept by c's cache").toBe(200);

      // c's subscriber connection drops; ioredis makes it again and subscribes again.
      const clients = ((await redis.client("LIST")) as string).split("\n");
      const line = clients.find((l) => l.includes(`name=pinlive-rooms-sub-${nodeId}`));
      expect(line, "c's subscriber connection").toBeDefined();
      await redis.client("KILL", "ID", /id=(\d+)/.exec(line!)![1]!);
      await waitUntil(async () => (await me()) === 401, "c refuses the ended session after subscribing again", 10_000);
    } finally {
      redis.disconnect();
      await c.stop();
    }
  });
});
