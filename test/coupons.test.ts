// Live coupons: a rush of claims never goes past the quantity, one each; checkout uses a claim once,
// a cancel gives it back; the room sees the coupon and its conflated `left`.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream, WsClient } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";
import { payInSandbox, wechatUser } from "./support/wechat.js";

type Coupon = { id: string; title: string; discountFen: number; minSpendFen: number; quantity: number; left: number; expiresAt: number; streamId: string; status: string };
type Claim = { couponId: string; discountFen: number; claimedAt: number; usedOrderId: string | null };
type Order = { id: string; status: string; itemsFen: number; discountFen: number; couponId: string | null; totalFen: number; streamId: string | null };
type ErrorBody = { code: string };

describe("live coupons", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  const services = useTestServices();
  let keyNo = 0;
  const key = () => ({ "idempotency-key": `c-${Date.now()}-${keyNo++}` });

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function query<T>(run: (sql: postgres.Sql) => Promise<T>) {
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      return await run(sql);
    } finally {
      await sql.end();
    }
  }

  /** A host whose stream sells `productIds` (a coupon is only for its stream's products). */
  async function hostWithStream(name: string, productIds: string[] = []) {
    const host = await devSession(server.url, name);
    const streamId = await devStream(server.url, host.token);
    if (productIds.length > 0) await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds } });
    return { ...host, streamId };
  }

  const drop = (token: string, streamId: string, body: Record<string, unknown>) =>
    call<Coupon>("POST", `/v1/streams/${streamId}/coupons`, { token, body: { title: "¥5 off", discountFen: 500, quantity: 10, ...body } });

  it("gives exactly 50 of 50 coupons to 500 concurrent claimers, one each, and shows the room a conflated left", async () => {
    const host = await hostWithStream("Host");
    const viewer = await WsClient.connect(`${server.ws}/live-stream/${host.streamId}/ws`);
    await viewer.next("snapshot");

    const dropped = await drop(host.token, host.streamId, { title: "¥10 off tonight", discountFen: 1000, quantity: 50, durationSec: 600 });
    expect(dropped.status).toBe(201);
    const couponId = dropped.body.id;
    expect(dropped.body).toMatchObject({ quantity: 50, left: 50, status: "active", streamId: host.streamId });
    expect((await viewer.next("coupon")).coupon).toMatchObject({ id: couponId, left: 50, discountFen: 1000, title: "¥10 off tonight" });

    const users: { token: string; userId: string }[] = [];
    for (let i = 0; i < 500; i += 50) users.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => devSession(server.url, `fan${i + j}`)))));

    const results = await Promise.all(
      users.map((u) => call<Claim & ErrorBody>("POST", `/v1/coupons/${couponId}/claim`, { token: u.token }).then((r) => ({ ...r, userId: u.userId }))),
    );
    const won = results.filter((r) => r.status === 200);
    const lost = results.filter((r) => r.status !== 200);
    expect(won).toHaveLength(50);
    expect(lost).toHaveLength(450);
    expect(lost.every((r) => r.status === 409 && r.body.code === "COUPON_GONE")).toBe(true);
    expect(won.every((r) => r.body.couponId === couponId && r.body.usedOrderId === null)).toBe(true);

    // PostgreSQL, the truth: 50 rows, one per winner, and the counter at the quantity.
    const truth = await query(async (sql) => {
      const [c] = await sql<{ claimed: number }[]>`select claimed from coupons where id = ${couponId}`;
      const rows = await sql<{ user_id: string }[]>`select user_id from coupon_claims where coupon_id = ${couponId}`;
      return { claimed: c!.claimed, users: rows.map((r) => r.user_id) };
    });
    expect(truth.claimed).toBe(50);
    expect(truth.users).toHaveLength(50);
    expect(new Set(truth.users)).toEqual(new Set(won.map((r) => r.userId)));

    // One each: claiming again answers the same claim; a loser stays refused.
    const winner = users.find((u) => u.userId === won[0]!.userId)!;
    const again = await call<Claim>("POST", `/v1/coupons/${couponId}/claim`, { token: winner.token });
    expect(again).toMatchObject({ status: 200, body: { couponId, claimedAt: won[0]!.body.claimedAt } });
    const loser = users.find((u) => u.userId === lost[0]!.userId)!;
    expect((await call<ErrorBody>("POST", `/v1/coupons/${couponId}/claim`, { token: loser.token })).body.code).toBe("COUPON_GONE");
    expect((await call<Claim[]>("GET", "/v1/me/coupons", { token: winner.token })).body.map((c) => c.couponId)).toEqual([couponId]);
    expect((await call<Claim[]>("GET", "/v1/me/coupons", { token: loser.token })).body).toEqual([]);

    // `left` reached the room conflated: it ends at 0, in far fewer pushes than claims.
    await viewer.until((f) => f.some((x) => x.type === "coupon" && (x.coupon as Coupon | null)?.left === 0), 10_000, "left 0");
    expect(viewer.of("coupon").length).toBeLessThan(25);
    expect((await call<Coupon>("GET", `/v1/coupons/${couponId}`)).body).toMatchObject({ left: 0, quantity: 50, status: "active" });

    // A viewer joining later finds the coupon in the snapshot.
    const late = await WsClient.connect(`${server.ws}/live-stream/${host.streamId}/ws`);
    const snap = (await late.next("snapshot")) as unknown as { state: { coupon: Coupon | null } };
    expect(snap.state.coupon).toMatchObject({ id: couponId, left: 0, quantity: 50 });

    // Ending it clears the room; claims stay refused.
    expect((await call<Coupon>("POST", `/v1/coupons/${couponId}/end`, { token: host.token })).body).toMatchObject({ status: "ended" });
    await late.until((f) => f.some((x) => x.type === "coupon" && x.coupon === null), 10_000, "coupon cleared");
    expect((await call<ErrorBody>("POST", `/v1/coupons/${couponId}/claim`, { token: loser.token })).body.code).toBe("COUPON_GONE");
    viewer.close();
    late.close();
  });

  it("applies a claimed coupon at checkout once, gives it back on cancel, and refuses it where it does not apply", async () => {
    const p = await makeProduct(call, admin, { priceFen: 3000, stock: 100 });
    const host = await hostWithStream("Host2", [p.productId]);
    const coupon = (await drop(host.token, host.streamId, { discountFen: 1000, minSpendFen: 5000, quantity: 10 })).body;
    const stockOf = async () => (await call<{ stock: number }>("GET", `/v1/products/${p.productId}`)).body.stock;
    const mei = await wechatUser(call, "Mei");
    const other = await wechatUser(call, "Lan");
    const order = (u: { token: string; addressId: string }, quantity: number, couponId: string, headers = key()) =>
      call<Order & ErrorBody>("POST", "/v1/orders", { token: u.token, headers, body: { items: [{ skuId: p.skuId, quantity }], addressId: u.addressId, couponId } });

    // Not claimed yet: refused, nothing placed.
    expect((await order(mei, 2, coupon.id)).body.code).toBe("COUPON_NOT_APPLICABLE");
    expect((await call("POST", `/v1/coupons/${coupon.id}/claim`, { token: mei.token })).status).toBe(200);

    // Below the minimum spend (3000 < 5000): refused, nothing placed, the claim still unused.
    const below = await order(mei, 1, coupon.id);
    expect(below).toMatchObject({ status: 409, body: { code: "COUPON_NOT_APPLICABLE" } });
    expect(await stockOf()).toBe(100);

    // 2 × 3000 = 6000 ≥ 5000: total 5000.
    const headers = key();
    const placed = await order(mei, 2, coupon.id, headers);
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ itemsFen: 6000, discountFen: 1000, totalFen: 5000, couponId: coupon.id });
    expect((await order(mei, 2, coupon.id, headers)).body.id).toBe(placed.body.id);
    expect((await call<Claim[]>("GET", "/v1/me/coupons", { token: mei.token })).body).toEqual([]);

    // Used once: a second order with it is refused; another user cannot use my claim.
    expect((await order(mei, 2, coupon.id)).body.code).toBe("COUPON_NOT_APPLICABLE");
    expect((await order(other, 2, coupon.id)).body.code).toBe("COUPON_NOT_APPLICABLE");
    expect(await stockOf()).toBe(98);

    // Cancelling gives the coupon back; then five concurrent orders race for it and one wins.
    expect((await call<Order>("POST", `/v1/orders/${placed.body.id}/cancel`, { token: mei.token, body: {} })).body.status).toBe("cancelled");
    expect((await call<Claim[]>("GET", "/v1/me/coupons", { token: mei.token })).body).toMatchObject([{ couponId: coupon.id, usedOrderId: null }]);
    const race = await Promise.all(Array.from({ length: 5 }, () => order(mei, 2, coupon.id)));
    expect(race.filter((r) => r.status === 201)).toHaveLength(1);
    expect(race.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.code === "COUPON_NOT_APPLICABLE")).toBe(true);
    expect(await stockOf()).toBe(98);
    const winner = race.find((r) => r.status === 201)!.body;
    expect(winner).toMatchObject({ totalFen: 5000, discountFen: 1000 });

    // WeChat Pay charges the discounted total, and the notification matches it.
    const params = (await call<Record<string, unknown>>("POST", `/v1/orders/${winner.id}/pay`, { token: mei.token })).body;
    expect(await payInSandbox(call, params)).toBe("requestPayment:ok");
    let status = "";
    for (let i = 0; i < 100 && status !== "paid"; i++) {
      status = (await call<Order>("GET", `/v1/orders/${winner.id}`, { token: mei.token })).body.status;
      if (status !== "paid") await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe("paid");

    // A discount larger than the items takes off at most half of them (COUPON_MAX_DISCOUNT_PERCENT).
    const big = (await drop(host.token, host.streamId, { discountFen: 5000, quantity: 5 })).body;
    await call("POST", `/v1/coupons/${big.id}/claim`, { token: other.token });
    expect((await order(other, 1, big.id)).body).toMatchObject({ itemsFen: 3000, discountFen: 1500, totalFen: 1500, streamId: host.streamId });
  });

  it("keeps an expired coupon used after a cancel, and refuses it at checkout", async () => {
    const p = await makeProduct(call, admin, { priceFen: 1000, stock: 10 });
    const host = await hostWithStream("Host3", [p.productId]);
    const coupon = (await drop(host.token, host.streamId, { discountFen: 100, quantity: 5 })).body;
    const u = await wechatUser(call, "Yun");
    await call("POST", `/v1/coupons/${coupon.id}/claim`, { token: u.token });
    const body = { items: [{ skuId: p.skuId, quantity: 1 }], addressId: u.addressId, couponId: coupon.id };
    const placed = await call<Order>("POST", "/v1/orders", { token: u.token, headers: key(), body });
    expect(placed.body).toMatchObject({ totalFen: 900, discountFen: 100 });
    await query((sql) => sql`update coupons set expires_at = now() - interval '1 second' where id = ${coupon.id}`);
    expect((await call<Order>("POST", `/v1/orders/${placed.body.id}/cancel`, { token: u.token, body: {} })).body.status).toBe("cancelled");
    const [claim] = await query((sql) => sql<{ used_order_id: string | null }[]>`select used_order_id from coupon_claims where coupon_id = ${coupon.id}`);
    expect(claim!.used_order_id).toBe(placed.body.id);
    expect((await call<Claim[]>("GET", "/v1/me/coupons", { token: u.token })).body).toEqual([]);
    expect((await call<ErrorBody>("POST", "/v1/orders", { token: u.token, headers: key(), body })).body.code).toBe("COUPON_NOT_APPLICABLE");
    expect((await call<ErrorBody>("POST", `/v1/coupons/${coupon.id}/claim`, { token: (await devSession(server.url, "New")).token })).body.code).toBe("COUPON_GONE");
  });

  it("lets only the host (or an admin) drop and end coupons, and refuses bad input", async () => {
    const host = await hostWithStream("Host4");
    const stranger = await devSession(server.url, "Stranger");
    expect(await drop(stranger.token, host.streamId, {})).toMatchObject({ status: 403, body: { code: "FORBIDDEN" } });
    expect(await drop(host.token, "no-such-stream", {})).toMatchObject({ status: 404, body: { code: "STREAM_NOT_FOUND" } });
    expect((await call("POST", `/v1/streams/${host.streamId}/coupons`, { body: { title: "x", discountFen: 1, quantity: 1 } })).status).toBe(401);
    for (const bad of [
      { discountFen: 0 },
      { discountFen: -100 },
      { discountFen: 1.5 },
      { discountFen: "500" },
      { quantity: 0 },
      { quantity: 100_001 },
      { minSpendFen: -1 },
      { title: "  " },
      { durationSec: 1 },
    ]) {
      expect(await drop(host.token, host.streamId, bad), JSON.stringify(bad)).toMatchObject({ status: 400, body: { code: "INVALID_PARAMS" } });
    }
    const ok = await drop(admin, host.streamId, { quantity: 100_000 });
    expect(ok.status).toBe(201);
    expect((await call("POST", `/v1/coupons/${ok.body.id}/end`, { token: stranger.token })).body).toMatchObject({ code: "FORBIDDEN" });
    expect((await call("POST", `/v1/coupons/${ok.body.id}/claim`)).status).toBe(401);

    for (const [method, path] of [
      ["GET", "/v1/coupons/nope"],
      ["POST", "/v1/coupons/nope/claim"],
      ["POST", "/v1/coupons/nope/end"],
    ] as const) {
      expect(await call(method, path, { token: stranger.token }), path).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    }
    const u = await wechatUser(call, "Bo");
    const p = await makeProduct(call, admin, { priceFen: 100, stock: 1 });
    const res = await call("POST", "/v1/orders", { token: u.token, headers: key(), body: { items: [{ skuId: p.skuId, quantity: 1 }], addressId: u.addressId, couponId: "bad id!" } });
    expect(res).toMatchObject({ status: 400, body: { code: "INVALID_PARAMS" } });
  });
});
