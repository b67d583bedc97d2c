// Bans and kicks, across two nodes: a ban closes the user's sockets in the room on every node and
// refuses what the user sends and every reconnect until it is lifted; a kick only closes.
import { io as ioClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "../src/protocol/errors.js";
import { useTestServices } from "./support/services.js";
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, sleep, waitFor, WsClient } from "./support/clients.js";
import { httpClient } from "./support/http.js";
import { adminToken } from "./support/admin.js";

type Msg = { type: string; [k: string]: unknown };

/** A socket.io viewer that records what it got, why it was refused and when it was disconnected. */
function ioViewer(url: string, auth: Record<string, unknown>) {
  const socket = ioClient(url, { transports: ["websocket"], auth, reconnection: false });
  const got: Msg[] = [];
  const state = { refused: null as string | null, disconnected: null as string | null };
  socket.onAny((_event: string, msg: Msg) => got.push(msg));
  socket.on("connect_error", (err: Error & { data?: { code?: string } }) => (state.refused = err.data?.code ?? err.message));
  socket.on("disconnect", (reason) => (state.disconnected = reason));
  return { socket, got, state };
}

const refusal = (p: Promise<unknown>) => p.then(() => null, (err: { status?: number; body?: string }) => ({ status: err.status, code: (JSON.parse(err.body ?? "{}") as { code?: string }).code }));
const contents = (c: WsClient) => c.of("comment").map((f) => (f.comment as { content: string }).content);

describe("bans and kicks", () => {
  const services = useTestServices();
  let a: TestServer;
  let b: SpawnedServer;
  let admin = "";

  beforeAll(async () => {
    const env = { COUNTS_INTERVAL_MS: "200" };
    [a, b] = await Promise.all([startTestServer(services.databaseUrl, services.redisPrefix, env), spawnServer(services.databaseUrl, services.redisPrefix, env)]);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  async function stream() {
    const host = await devSession(a.url, "Host");
    const streamId = await devStream(a.url, host.token);
    return { host, streamId, on: (s: { ws: string }) => `${s.ws}/live-stream/${streamId}/ws` };
  }

  it("a host's ban closes the user's sockets in that room on both nodes, refuses what follows and every reconnect, and is listed and lifted", async () => {
    const room = await stream();
    const other = await stream();
    const troll = await devSession(a.url, "Troll");
    const watcher = await WsClient.connect(room.on(a));
    const onA = await WsClient.connect(room.on(a), { token: troll.token });
    const onB = await WsClient.connect(room.on(b), { token: troll.token });
    const elsewhere = await WsClient.connect(other.on(b), { token: troll.token });
    const io = ioViewer(b.url, { streamId: room.streamId, token: troll.token });
    await Promise.all([watcher, onA, onB, elsewhere].map((c) => c.next("snapshot")));
    await waitFor(() => io.got.some((m) => m.type === "snapshot"), "socket.io snapshot");

    const call = httpClient(a.url);
    const ban = await call("PUT", `/v1/streams/${room.streamId}/bans/${troll.userId}`, { token: room.host.token, body: { reason: "spam" } });
    expect(ban.status).toBe(200);
    expect(ban.body).toMatchObject({ streamId: room.streamId, userId: troll.userId, nickname: "Troll", reason: "spam", expiresAt: null });
    // Sent after the ban was answered (node A applied it before answering): never reaches the room.
    onA.send({ type: "comment", comment: { content: "after the ban" } });
    onA.send({ type: "like", count: 5 });

    expect(await onA.closed).toBe(CLOSE_CODES.BANNED.code);
    expect(await onB.closed).toBe(CLOSE_CODES.BANNED.code);
    await waitFor(() => io.state.disconnected !== null, "socket.io disconnected");
    expect(io.state.disconnected).toBe("io server disconnect");
    expect(io.got).toContainEqual(expect.objectContaining({ type: "error", code: "BANNED" }));
    // Another room's socket stays.
    await sleep(300);
    expect(elsewhere.closeCode).toBeNull();

    // Reconnects are refused on both nodes and both transports.
    for (const node of [a, b]) expect(await refusal(WsClient.connect(room.on(node), { token: troll.token }))).toEqual({ status: 403, code: "BANNED" });
    const again = ioViewer(b.url, { streamId: room.streamId, token: troll.token });
    await waitFor(() => again.state.refused !== null, "socket.io refused");
    expect(again.state.refused).toBe("BANNED");
    again.socket.close();
    // Watching anonymously stays possible: a ban takes away taking part, not the public stream.
    const anonymous = await WsClient.connect(room.on(b));
    await anonymous.next("snapshot");

    const listed = await call<Msg[]>("GET", `/v1/streams/${room.streamId}/bans`, { token: room.host.token });
    expect(listed.body.map((x) => x.userId)).toEqual([troll.userId]);
    expect((await call("GET", `/v1/streams/${room.streamId}/bans`, { token: troll.token })).status).toBe(403);

    // Lifted: back in, on both nodes, and heard.
    expect((await call("DELETE", `/v1/streams/${room.streamId}/bans/${troll.userId}`, { token: room.host.token })).status).toBe(204);
    expect((await call("DELETE", `/v1/streams/${room.streamId}/bans/${troll.userId}`, { token: room.host.token })).body).toMatchObject({ code: "NOT_FOUND" });
    expect((await call<Msg[]>("GET", `/v1/streams/${room.streamId}/bans`, { token: room.host.token })).body).toEqual([]);
    const back = await WsClient.connect(room.on(b), { token: troll.token });
    await back.next("snapshot");
    back.send({ type: "comment", id: "c", comment: { content: "sorry" } });
    expect(await back.next("ack")).toMatchObject({ id: "c" });
    await watcher.until(() => contents(watcher).includes("sorry"), 10_000, "the comment after the lift");
    expect(contents(watcher)).toEqual(["sorry"]);
    expect(watcher.of("like_count").every((f) => f.count === 0)).toBe(true);
    for (const c of [watcher, elsewhere, anonymous, back]) c.close();
  });

  it("a kick closes the user's sockets on both nodes with KICKED and nothing lasts", async () => {
    const room = await stream();
    const user = await devSession(a.url, "Noisy");
    const onA = await WsClient.connect(room.on(a), { token: user.token });
    const onB = await WsClient.connect(room.on(b), { token: user.token });
    const io = ioViewer(a.url, { streamId: room.streamId, token: user.token });
    await Promise.all([onA.next("snapshot"), onB.next("snapshot")]);
    await waitFor(() => io.got.some((m) => m.type === "snapshot"), "socket.io snapshot");

    const kick = await httpClient(b.url)("POST", `/v1/streams/${room.streamId}/kicks`, { token: room.host.token, body: { userId: user.userId } });
    expect(kick.status).toBe(204);
    expect(await onA.closed).toBe(CLOSE_CODES.KICKED.code);
    expect(await onB.closed).toBe(CLOSE_CODES.KICKED.code);
    await waitFor(() => io.state.disconnected !== null, "socket.io disconnected");
    expect(io.got).toContainEqual(expect.objectContaining({ type: "error", code: "KICKED" }));

    const back = await WsClient.connect(room.on(a), { token: user.token });
    back.send({ type: "comment", id: "c", comment: { content: "back" } });
    expect(await back.next("ack")).toMatchObject({ id: "c" });
    back.close();
  });

  it("only the room's host or an admin bans and kicks there, never the host or an admin", async () => {
    const room = await stream();
    const stranger = await stream();
    const viewer = await devSession(a.url, "Viewer");
    const call = httpClient(a.url);
    const put = (token: string, userId: string) => call("PUT", `/v1/streams/${room.streamId}/bans/${userId}`, { token, body: {} });
    expect((await put(stranger.host.token, viewer.userId)).status).toBe(403);
    expect((await put(viewer.token, room.host.userId)).status).toBe(403);
    expect((await put(room.host.token, room.host.userId)).body).toMatchObject({ code: "FORBIDDEN" });
    expect((await put(room.host.token, "no-such-user")).body).toMatchObject({ code: "NOT_FOUND" });
    expect((await call("POST", `/v1/streams/${room.streamId}/kicks`, { token: stranger.host.token, body: { userId: viewer.userId } })).status).toBe(403);
    expect((await put(room.host.token, viewer.userId)).status).toBe(200);
    // Again: renewed, still one ban; an admin may ban in any room, with a duration.
    const timed = await call<Msg>("PUT", `/v1/streams/${room.streamId}/bans/${viewer.userId}`, { token: admin, body: { durationSec: 3600 } });
    expect(timed.status).toBe(200);
    expect(Date.parse(timed.body.expiresAt as string) - Date.now()).toBeGreaterThan(3500_000);
    expect((await call<Msg[]>("GET", `/v1/streams/${room.streamId}/bans`, { token: admin })).body).toHaveLength(1);
    expect((await call("PUT", `/v1/admin/bans/${viewer.userId}`, { token: room.host.token, body: {} })).status).toBe(403);
  });

  it("an admin's ban closes the user's sockets in every room, is known to a node that starts later, and lifts everywhere", async () => {
    const one = await stream();
    const two = await stream();
    const user = await devSession(a.url, "Spammer");
    const inOne = await WsClient.connect(one.on(a), { token: user.token });
    const inTwo = await WsClient.connect(two.on(b), { token: user.token });
    await Promise.all([inOne.next("snapshot"), inTwo.next("snapshot")]);

    const call = httpClient(b.url);
    expect((await call("PUT", `/v1/admin/bans/${user.userId}`, { token: admin, body: { reason: "bot" } })).status).toBe(200);
    expect(await inOne.closed).toBe(CLOSE_CODES.BANNED.code);
    expect(await inTwo.closed).toBe(CLOSE_CODES.BANNED.code);
    expect((await call<Msg[]>("GET", "/v1/admin/bans", { token: admin })).body).toMatchObject([{ streamId: null, userId: user.userId, reason: "bot" }]);

    const late = await spawnServer(services.databaseUrl, services.redisPrefix);
    try {
      expect(await refusal(WsClient.connect(two.on(late), { token: user.token }))).toEqual({ status: 403, code: "BANNED" });
      expect((await call("DELETE", `/v1/admin/bans/${user.userId}`, { token: admin })).status).toBe(204);
      const back = await WsClient.connect(one.on(late), { token: user.token });
      await back.next("snapshot");
      back.close();
    } finally {
      await late.stop();
    }
  });
});
