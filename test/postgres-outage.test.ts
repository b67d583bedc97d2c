// PostgreSQL unreachable: bounded waits, a clear line at start, 503 UNAVAILABLE (not 500) mid-run,
// no partial rows, and live chat goes on.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, startTestServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, waitUntil, WsClient } from "./support/clients.js";
import { httpClient, makeProduct } from "./support/http.js";
import { wechatUser } from "./support/wechat.js";
import { adminToken } from "./support/admin.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

describe("PostgreSQL unreachable", () => {
  const services = useTestServices();
  let proxy: TcpProxy;
  let viaProxy = "";

  beforeAll(async () => {
    const url = new URL(services.databaseUrl);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    viaProxy = url.toString();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it("at start: says what it waits for, and gives up after DATABASE_CONNECT_TIMEOUT_SEC with a clear message", async () => {
    await proxy.blackhole();
    const started = Date.now();
    const failure = await spawnServer(viaProxy, services.redisPrefix, { DATABASE_CONNECT_TIMEOUT_SEC: "2" }).then(
      () => "started",
      (err: Error) => err.message,
    );
    await proxy.heal();
    expect(failure).toMatch(/server exited with 1/);
    expect(failure).toMatch(/"msg":"connecting to PostgreSQL"/);
    expect(failure).toMatch(/PostgreSQL at 127\.0\.0\.1:\d+ is not reachable/);
    expect(failure).not.toContain(new URL(services.databaseUrl).password || "no-password-in-this-url");
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  describe("mid-run", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(viaProxy, services.redisPrefix, { DATABASE_CONNECT_TIMEOUT_SEC: "2", DATABASE_QUERY_TIMEOUT_MS: "2000" });
    });
    afterAll(async () => {
      await proxy.heal();
      await server?.stop();
    });

    it("answers 503 UNAVAILABLE within the query timeout, writes nothing partial, keeps chat going, and recovers", async () => {
      const call = httpClient(server.url);
      const admin = await adminToken(services.databaseUrl);
      const { skuId } = await makeProduct(call, admin, { priceFen: 500, stock: 5 });
      const buyer = await wechatUser(call);
      const host = await devSession(server.url, "Host");
      const streamId = await devStream(server.url, host.token);
      const ws = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`, { token: buyer.token });
      await ws.next("snapshot");

      await proxy.blackhole();
      for (const [method, path, body] of [
        ["GET", "/v1/products", undefined],
        ["POST", "/v1/orders", { items: [{ skuId, quantity: 1 }], addressId: buyer.addressId }],
      ] as const) {
        const started = Date.now();
        const r = await call<{ code: string }>(method, path, { token: buyer.token, body, headers: { "idempotency-key": randomUUID() } });
        expect(r.status, `${method} ${path}`).toBe(503);
        expect(r.body.code).toBe("UNAVAILABLE");
        expect(Date.now() - started, `${method} ${path}`).toBeLessThan(6000);
      }
      // The live room does not need PostgreSQL to chat.
      ws.send({ type: "comment", id: "pg-down", comment: { content: "still chatting" } });
      expect(await ws.next("ack")).toMatchObject({ id: "pg-down" });

      await proxy.heal();
      await waitUntil(async () => (await call("GET", "/v1/products")).status === 200, "queries work again", 20_000);
      const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
      const [row] = await sql<{ orders: number; stock: number }[]>`select (select count(*)::int from orders) orders, (select stock from skus where id = ${skuId}) stock`;
      await sql.end();
      expect(row).toEqual({ orders: 0, stock: 5 });
      const placed = await call("POST", "/v1/orders", { token: buyer.token, body: { items: [{ skuId, quantity: 1 }], addressId: buyer.addressId }, headers: { "idempotency-key": randomUUID() } });
      expect(placed.status).toBe(201);
      ws.close();
    });
  });
});
