// Per-address and per-user limits on signing in and placing orders: 429 RATE_LIMITED with Retry-After.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { httpClient, makeProduct, testAddress } from "./support/http.js";
import { adminToken } from "./support/admin.js";
import { testPng, upload } from "./support/images.js";

type ErrorBody = { code: string; retryAfterSec?: number };

/** Stands between the server and WeChat (its own sandbox): counts jscode2session calls, passes them on. */
function countingWechat() {
  let target = "";
  let calls = 0;
  const server: Server = createServer((req, res) => {
    calls++;
    void fetch(`${target}${req.url}`).then(
      async (r) => res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text()),
      () => res.writeHead(502).end(),
    );
  });
  return {
    listen: () => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port))),
    forwardTo: (url: string) => (target = url),
    calls: () => calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("rate limits", () => {
  const services = useTestServices();
  const wechat = countingWechat();
  let server: TestServer;

  beforeAll(async () => {
    const port = await wechat.listen();
    server = await startTestServer(services.databaseUrl, services.redisPrefix, {
      TRUST_PROXY: "true",
      WECHAT_API_BASE: `http://127.0.0.1:${port}`,
      RATE_LIMIT_LOGIN_PER_IP_PER_MIN: "5",
      RATE_LIMIT_LOGIN_PER_USER_PER_MIN: "3",
      RATE_LIMIT_ORDERS_PER_IP_PER_MIN: "8",
      RATE_LIMIT_ORDERS_PER_USER_PER_MIN: "3",
      RATE_LIMIT_UPLOADS_PER_IP_PER_MIN: "100",
      RATE_LIMIT_UPLOADS_PER_USER_PER_MIN: "3",
    });
    wechat.forwardTo(`${server.url}/sandbox/wechat`);
  });
  afterAll(async () => {
    await server?.stop();
    await wechat.close();
  });

  const from = (ip: string) => ({ "x-forwarded-for": ip });
  async function code(openid?: string) {
    return (await httpClient(server.url)<{ code: string }>("POST", "/sandbox/wechat/login-code", { body: openid ? { openid } : {} })).body.code;
  }

  it("limits sign-in attempts per address before WeChat is asked: 429 RATE_LIMITED with Retry-After", async () => {
    const call = httpClient(server.url);
    const before = wechat.calls();
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await call<ErrorBody>("POST", "/v1/auth/login", { body: { code: `bad-code-${i}` }, headers: from("198.51.100.7") }));
    expect(answers.slice(0, 5).map((a) => a.body.code)).toEqual(Array(5).fill("LOGIN_CODE_INVALID"));
    for (const a of answers.slice(5)) {
      expect(a.status).toBe(429);
      expect(a.body.code).toBe("RATE_LIMITED");
      const retryAfter = Number(a.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(a.body.retryAfterSec).toBe(retryAfter);
    }
    expect(wechat.calls() - before).toBe(5); // 12 attempts, 5 upstream calls
    // Another address is not held back.
    expect((await call("POST", "/v1/auth/login", { body: { code: await code() }, headers: from("198.51.100.8") })).status).toBe(200);
  });

  it("limits new sessions per WeChat user, whatever the address", async () => {
    const call = httpClient(server.url);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call<ErrorBody>("POST", "/v1/auth/login", { body: { code: await code("oOneUserManyPhones") }, headers: from(`198.51.100.${20 + i}`) })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("limits order placement per user and per address on every placing route", async () => {
    const call = httpClient(server.url);
    const admin = await adminToken(services.databaseUrl);
    const { skuId } = await makeProduct(call, admin, { priceFen: 100, stock: 1000 });
    async function buyer(ip: string) {
      const login = await call<{ token: string }>("POST", "/v1/auth/login", { body: { code: await code() }, headers: from(ip) });
      const addr = await call<{ id: string }>("POST", "/v1/addresses", { token: login.body.token, body: testAddress, headers: from(ip) });
      return { token: login.body.token, addressId: addr.body.id };
    }
    const place = (b: { token: string; addressId: string }, ip: string) =>
      call<ErrorBody>("POST", "/v1/orders", { token: b.token, body: { items: [{ skuId, quantity: 1 }], addressId: b.addressId }, headers: { ...from(ip), "idempotency-key": randomUUID() } });

    // Per user: 3 a minute, on whichever address.
    const mei = await buyer("203.0.113.1");
    const mine = [];
    for (let i = 0; i < 4; i++) mine.push(await place(mei, `203.0.113.${10 + i}`));
    expect(mine.map((r) => r.status)).toEqual([201, 201, 201, 429]);
    expect(mine[3]!.body.code).toBe("RATE_LIMITED");
    expect(Number(mine[3]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The same counter guards the other placing routes (checked before the route looks at anything else).
    const idem = { ...from("203.0.113.30"), "idempotency-key": randomUUID() };
    for (const [path, body] of [
      ["/api/orders", { items: [{ id: skuId, quantity: 1 }], address: { id: mei.addressId }, totalAmount: 1 }],
      ["/v1/flash-sales/no-such-sale/buy", { quantity: 1, addressId: mei.addressId }],
      ["/v1/group-activities/no-such-activity/groups", { addressId: mei.addressId }],
      ["/v1/groups/no-such-group/join", { addressId: mei.addressId }],
      ["/api/group-buy/create", { productId: "no-such-product" }],
      ["/api/group-buy/no-such-group/join", {}],
    ] as const) {
      const r = await call<ErrorBody>("POST", path, { token: mei.token, body, headers: idem });
      expect(r.body.code, path).toBe("RATE_LIMITED");
    }

    // Per address: 8 a minute from one address, whoever places them.
    const shared = "203.0.113.99";
    const people = await Promise.all([1, 2, 3].map((i) => buyer(`203.0.113.${200 + i}`)));
    const statuses = [];
    for (let i = 0; i < 9; i++) statuses.push((await place(people[i % 3]!, shared)).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 201, 201, 201, 429]);

    // A burst all at once (none waits for another's count to come back from Redis): still exactly 3.
    const hasty = await buyer("203.0.113.150");
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => place(hasty, `198.51.100.${100 + i}`)));
    expect(burst.filter((r) => r.status === 201)).toHaveLength(3);
    expect(burst.filter((r) => r.status === 429 && r.body.code === "RATE_LIMITED")).toHaveLength(7);
  });

  it("limits image uploads per user (each one is kept on disk): the avatar and the admin's pictures", async () => {
    const call = httpClient(server.url);
    const { code: c } = (await call<{ code: string }>("POST", "/sandbox/wechat/login-code", { body: { openid: `uploader-${randomUUID()}` } })).body;
    const me = (await call<{ token: string }>("POST", "/v1/auth/login", { body: { code: c }, headers: from("10.9.0.1") })).body.token;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await upload(server.url, "/v1/me/avatar", me, testPng(8, 8, [i, 1, 2]))).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await upload<ErrorBody>(server.url, "/v1/me/avatar", me, testPng(8, 8, [9, 9, 9]));
    expect(refused.body.code).toBe("RATE_LIMITED");
    expect(refused.body.retryAfterSec).toBeGreaterThan(0);
    const admin = await adminToken(services.databaseUrl);
    const adminStatuses: number[] = [];
    for (let i = 0; i < 4; i++) adminStatuses.push((await upload(server.url, "/v1/admin/images", admin, testPng(8, 8, [i, 3, 4]))).status);
    expect(adminStatuses).toEqual([201, 201, 201, 429]);
  });
});
