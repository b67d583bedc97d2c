// Case 14: every host-only action on a room, tried by a viewer, by another room's host and by a
// console host account that does not host it, over HTTP, the raw WebSocket and socket.io.
// Each is refused with FORBIDDEN and the room, its products, pushes, sales and words stay as they were.
import postgres from "postgres";
import { expect } from "vitest";
import { adminToken, staffAccount } from "../support/admin.js";
import { devSession, devStream, sleep, WsClient } from "../support/clients.js";
import { httpClient, makeProduct } from "../support/http.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { ioViewer } from "./app-support/io-client.js";

const ctx = useCaseServer();

/** The room commands only its host (or an admin) may send, with valid payloads. */
const hostCommands = (victimId: string, commentId: string) => [
  { type: "pin", text: "hijacked" },
  { type: "slow_mode", seconds: 120 },
  { type: "mute", userId: victimId, durationSec: 600 },
  { type: "unmute", userId: victimId },
  { type: "delete_comment", commentId },
  { type: "product_highlight", productId: "p-hijack", title: "Fake deal", priceFen: 1 },
  { type: "stream_start" },
  { type: "stream_end" },
];

faultCase(14, "host-only actions from a viewer and from another room's host", async (log) => {
  const { server, services } = ctx;
  const call = httpClient(server.url);
  const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const admin = await adminToken(services.databaseUrl);
    const host = await devSession(server.url, "Host");
    const viewer = await devSession(server.url, "Viewer");
    const otherHost = await devSession(server.url, "Other host");
    const streamId = await devStream(server.url, host.token, "Tea room");
    const otherStreamId = await devStream(server.url, otherHost.token, "Other room");
    await staffAccount(services.databaseUrl, { username: "consolehost", password: "0123456789ab", role: "host" });
    const staff = (await call<{ token: string }>("POST", "/v1/auth/staff-login", { body: { username: "consolehost", password: "0123456789ab" } })).body.token;

    // The real host sets the room up through the same routes.
    const p = await makeProduct(call, admin, { priceFen: 9900, stock: 100 }, "Longjing");
    const q = await makeProduct(call, admin, { priceFen: 100, stock: 100 }, "Cheap thing");
    const ok = async (status: number, what: string, res: Promise<{ status: number; body: unknown }>) => {
      const r = await res;
      expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(status);
      return r.body as Record<string, string>;
    };
    await ok(200, "attach", call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } }));
    const push = await ok(201, "push", call("POST", `/v1/streams/${streamId}/pushes`, { token: host.token, body: { productId: p.productId, at: Date.now() + 3600_000 } }));
    const coupon = await ok(201, "coupon", call("POST", `/v1/streams/${streamId}/coupons`, { token: host.token, body: { title: "10 off", discountFen: 1000, minSpendFen: 5000, quantity: 10 } }));
    const sale = await ok(201, "sale", call("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body: { skuId: p.skuId, priceFen: 5000, quantity: 5, perUserLimit: 1 } }));
    await ok(200, "words", call("PUT", `/v1/streams/${streamId}/sensitive-words`, { token: host.token, body: { words: ["scam"] } }));
    const stateBefore = async () => ({
      stream: (await sql<{ title: string; status: string; key: string }[]>`select title, status, stream_key_hash as key from live_streams where id = ${streamId}`)[0],
      products: await sql`select product_id from stream_products where stream_id = ${streamId} order by product_id`,
      push: (await sql<{ status: string; at: Date }[]>`select status, fire_at as at from scheduled_pushes where id = ${push.id!}`)[0],
      coupon: (await call<{ status: string }>("GET", `/v1/coupons/${coupon.id!}`)).body.status,
      sale: (await call<{ left: number; status?: string; endsAt?: unknown }>("GET", `/v1/flash-sales/${sale.id!}`)).body,
      words: (await call<{ words: string[] }>("GET", `/v1/streams/${streamId}/sensitive-words`, { token: host.token })).body,
    });
    const before = await stateBefore();

    const url = `${server.ws}/live-stream/${streamId}/ws`;
    const watcher = await WsClient.connect(url, { token: viewer.token });
    await watcher.next("snapshot");
    watcher.send({ type: "comment", comment: { content: "first!" } });
    const commentId = ((await watcher.next("comment")).comment as { id: string }).id;

    const attackers = { viewer: viewer.token, "another room's host": otherHost.token, "a console host of no stream here": staff };
    const refusals: string[] = [];
    let attempts = 0;
    for (const [who, token] of Object.entries(attackers)) {
      const http: [string, string, unknown][] = [
        ["PATCH", `/v1/streams/${streamId}`, { title: "hijacked" }],
        ["POST", `/v1/streams/${streamId}/key`, undefined],
        ["PUT", `/v1/streams/${streamId}/products`, { productIds: [q.productId] }],
        ["POST", `/v1/streams/${streamId}/pushes`, { productId: q.productId, at: Date.now() + 60_000 }],
        ["GET", `/v1/streams/${streamId}/pushes`, undefined],
        ["PATCH", `/v1/pushes/${push.id!}`, { at: Date.now() + 1000 }],
        ["DELETE", `/v1/pushes/${push.id!}`, undefined],
        ["GET", `/v1/streams/${streamId}/stats`, undefined],
        ["GET", `/v1/streams/${streamId}/sensitive-words`, undefined],
        ["PUT", `/v1/streams/${streamId}/sensitive-words`, { words: [] }],
        ["POST", `/v1/streams/${streamId}/coupons`, { title: "free", discountFen: 9000, quantity: 100 }],
        ["GET", `/v1/streams/${streamId}/coupons`, undefined],
        ["POST", `/v1/coupons/${coupon.id!}/end`, undefined],
        ["POST", `/v1/streams/${streamId}/flash-sales`, { skuId: q.skuId, priceFen: 1, quantity: 50, perUserLimit: 50 }],
        ["GET", `/v1/streams/${streamId}/flash-sales`, undefined],
        ["POST", `/v1/flash-sales/${sale.id!}/end`, undefined],
      ];
      for (const [method, path, body] of http) {
        const r = await call<{ code?: string }>(method, path, { token, body });
        attempts++;
        if (r.status !== 403 || r.body.code !== "FORBIDDEN") refusals.push(`${who}: ${method} ${path} → ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
      }
      const ws = await WsClient.connect(url, { token });
      await ws.next("snapshot");
      const io = ioViewer(server.url, { streamId, token });
      await io.snapshot();
      const commands = hostCommands(viewer.userId, commentId);
      commands.forEach((c, i) => ws.send({ ...c, id: `h${i}` }));
      attempts += 2 * commands.length;
      await ws.until((f) => f.filter((x) => x.type === "error" || x.type === "ack").length === commands.length, 10_000, "a reply to each command");
      for (const e of ws.frames.filter((x) => x.type === "error" || x.type === "ack")) if (e.code !== "FORBIDDEN") refusals.push(`${who}: raw WS ${JSON.stringify(e)}`);
      for (const c of commands) {
        const { type, ...payload } = c;
        const reply = await io.command(type, payload);
        if (reply.code !== "FORBIDDEN") refusals.push(`${who}: socket.io ${type} → ${JSON.stringify(reply)}`);
      }
      ws.close();
      io.close();
    }
    log.injected(`a viewer, another room's host and a console host account each tried 16 host-only HTTP calls on the room (and its push, coupon and flash sale) and 8 host commands over raw WS and socket.io`);
    expect(refusals).toEqual([]);
    log.checked(`all ${attempts} attempts answered 403 FORBIDDEN`);

    await sleep(300);
    expect(await stateBefore()).toEqual(before);
    const late = await WsClient.connect(url);
    const snap = await late.next("snapshot");
    expect(snap.state).toMatchObject({ status: "idle", bubble: null, pinned: null, slowModeSec: 0 });
    expect((snap.recentComments as { comment: { id: string } }[]).map((c) => c.comment.id)).toEqual([commentId]);
    expect(watcher.frames.filter((f) => ["pinned", "slow_mode", "product_highlight", "stream_start", "stream_end", "comment_deleted", "muted"].includes(f.type))).toEqual([]);
    watcher.send({ type: "comment", id: "still", comment: { content: "not muted" } });
    expect(await watcher.next("ack")).toMatchObject({ id: "still" });
    log.checked("nothing changed: title, status, key, products, push time, coupon, flash sale and words as before; the room's state, its comment and the viewer's voice untouched");

    // The other host still runs its own room: the refusals were about this room, not the account.
    expect((await call("PATCH", `/v1/streams/${otherStreamId}`, { token: otherHost.token, body: { title: "Mine" } })).status).toBe(200);
    expect((await call("PATCH", `/v1/streams/${streamId}`, { token: host.token, body: { title: "Tea room, live" } })).status).toBe(200);
    log.checked("each host can still change its own stream");
    for (const c of [watcher, late]) c.close();
  } finally {
    await sql.end();
  }
});
