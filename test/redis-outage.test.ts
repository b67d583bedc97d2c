// Redis away (down, or silent): checkout still answers after its commit in bounded time, comments
// fail fast with UNAVAILABLE, and once Redis is back the reconciler gives the order its timer.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, sleep, waitUntil, WsClient } from "./support/clients.js";
import { httpClient, makeProduct } from "./support/http.js";
import { wechatUser } from "./support/wechat.js";
import { adminToken } from "./support/admin.js";
import { redisUrl } from "./support/env.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

describe("Redis outage", () => {
  const services = useTestServices();
  let proxy: TcpProxy;
  let server: TestServer;

  beforeAll(async () => {
    const target = new URL(redisUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { REDIS_URL: proxy.url("redis") });
  });
  afterAll(async () => {
    await proxy?.heal();
    await server?.stop();
    await proxy?.close();
  });

  /** Sends a comment and resolves with the answer (ack or error) and how long it took. */
  async function comment(ws: WsClient, id: string) {
    const started = Date.now();
    ws.send({ type: "comment", id, comment: { content: `comment ${id}` } });
    await ws.until((f) => f.some((x) => x.id === id && (x.type === "ack" || x.type === "error")), 20_000, `answer to ${id}`);
    return { frame: ws.frames.find((x) => x.id === id && (x.type === "ack" || x.type === "error"))!, ms: Date.now() - started };
  }

  it.each(["cut", "blackhole"] as const)("Redis %s: an order is answered after its commit in bounded time, comments fail fast, and the timer comes back", async (fault) => {
    const call = httpClient(server.url);
    await waitUntil(async () => (await fetch(`${server.url}/readyz`)).status === 200, "ready (Redis reachable)");
    const admin = await adminToken(services.databaseUrl);
    const { skuId } = await makeProduct(call, admin, { priceFen: 990, stock: 10 });
    const buyer = await wechatUser(call);
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const ws = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`, { token: buyer.token });
    await ws.next("snapshot");
    expect((await comment(ws, `${fault}-before`)).frame.type).toBe("ack");

    await (fault === "cut" ? proxy.cut() : proxy.blackhole());
    const started = Date.now();
    const placed = await call<{ id: string; status: string }>("POST", "/v1/orders", {
      token: buyer.token,
      body: { items: [{ skuId, quantity: 1 }], addressId: buyer.addressId },
      headers: { "idempotency-key": randomUUID() },
    });
    const took = Date.now() - started;
    expect(placed.status).toBe(201);
    expect(placed.body.status).toBe("pending_payment");
    expect(took).toBeLessThan(3000);

    const during = await comment(ws, `${fault}-during`);
    expect(during.frame).toMatchObject({ type: "error", code: "UNAVAILABLE" });
    expect(during.ms).toBeLessThan(3000);

    await proxy.heal();
    // Redis back: the reconciler (which owns timers missed after a commit) gives the order its timer.
    let at: number | null = null;
    // Generous: after a blackhole the server's Redis client first has to notice its connection is dead.
    for (let i = 0; i < 150 && at === null; i++) {
      await sleep(200);
      await server.app.reconcile();
      at = await server.app.jobs.scheduledAt("order.timeout", placed.body.id).catch(() => null);
    }
    expect(at).not.toBeNull();
    ws.close();
  }, 90_000);
});
