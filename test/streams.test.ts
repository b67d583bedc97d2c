// Live streams over HTTP, and seed 003's stream page call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, WsClient } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";

type Detail = { stream: { id: string; status: string; hostId: string; title: string }; products: { id: string; price: number }[] };

describe("live streams", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("creates a stream the caller hosts, attaches products, and serves seed 003's page", async () => {
    const host = await devSession(server.url, "Host");
    const created = await call<{ id: string; streamKey: string; hostId: string }>("POST", "/v1/streams", { token: admin, body: { title: "Spring tea", hostUserId: host.userId } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ hostId: host.userId, status: "idle" });
    expect(created.body.streamKey).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);

    const tea = await makeProduct(call, admin, { priceFen: 12800, stock: 5 }, "Tea");
    const fan = await makeProduct(call, admin, { priceFen: 3900, stock: 5 }, "Fan");
    const set = await call<{ id: string }[]>("PUT", `/v1/streams/${created.body.id}/products`, { token: host.token, body: { productIds: [fan.productId, tea.productId] } });
    expect(set.body.map((p) => p.id)).toEqual([fan.productId, tea.productId]);

    // Seed 003: loadStreamInfo() reads res.data.stream (isLive = status === 'live') and res.data.products.
    const seed = await call<Detail>("GET", `/api/live-stream/${created.body.id}`);
    expect(seed.body.stream).toMatchObject({ id: created.body.id, status: "idle", title: "Spring tea" });
    expect(seed.body.products.map((p) => p.price)).toEqual([39, 128]);

    // Going live from the host's socket shows in the stream info.
    const ws = await WsClient.connect(`${server.ws}/live-stream/${created.body.id}/ws`, { token: host.token });
    await ws.next("snapshot");
    ws.send({ type: "stream_start", id: "go" });
    await ws.until((f) => f.some((x) => x.type === "ack" && x.id === "go"), 10_000, "ack");
    expect((await call<Detail>("GET", `/api/live-stream/${created.body.id}`)).body.stream.status).toBe("live");
    expect((await call<Detail["stream"][]>("GET", "/v1/streams?status=live")).body.map((s) => s.id)).toContain(created.body.id);
    ws.close();

    const rotated = await call<{ streamKey: string }>("POST", `/v1/streams/${created.body.id}/key`, { token: host.token });
    expect(rotated.body.streamKey).not.toBe(created.body.streamKey);
  });

  it("gives seed 003's page each product's image and description, and the stream's cover and counts", async () => {
    const host = await devSession(server.url, "Host");
    const s = (await call<{ id: string }>("POST", "/v1/streams", { token: admin, body: { title: "Pictured", hostUserId: host.userId } })).body;
    const p = await call<{ id: string }>("POST", "/v1/admin/products", {
      token: admin,
      body: { sn: `SEED3-${Date.now()}`, name: "Tea", description: "Spring tea.", pictures: ["https://img.test/tea.jpg"], skus: [{ priceFen: 100, stock: 1 }] },
    });
    await call("PUT", `/v1/streams/${s.id}/products`, { token: host.token, body: { productIds: [p.body.id] } });
    await call("PATCH", `/v1/streams/${s.id}`, { token: host.token, body: { coverUrl: "https://img.test/cover.jpg" } });
    const seed = await call<{ stream: Record<string, unknown>; products: Record<string, unknown>[] }>("GET", `/api/live-stream/${s.id}`);
    expect(seed.body.products[0]).toMatchObject({ id: p.body.id, image: "https://img.test/tea.jpg", description: "Spring tea." });
    expect(seed.body.stream).toMatchObject({ coverUrl: "https://img.test/cover.jpg", viewerCount: 0, likeCount: 0, scheduledAt: null, startedAt: null, endedAt: null });
  });

  it("keeps a stream's products and key to its host (or an admin)", async () => {
    const host = await devSession(server.url, "Host");
    const other = await devSession(server.url, "Other");
    expect((await call("POST", "/v1/streams", { token: host.token, body: { title: "Self-made" } })).body).toMatchObject({ code: "FORBIDDEN" });
    const s = (await call<{ id: string }>("POST", "/v1/streams", { token: admin, body: { title: "Mine", hostUserId: host.userId } })).body;
    expect((await call("PUT", `/v1/streams/${s.id}/products`, { token: other.token, body: { productIds: [] } })).body).toMatchObject({ code: "FORBIDDEN" });
    expect((await call("POST", `/v1/streams/${s.id}/key`, { token: other.token })).body).toMatchObject({ code: "FORBIDDEN" });
    expect((await call("POST", `/v1/streams/${s.id}/key`, { token: admin })).status).toBe(200);
    expect((await call("GET", "/api/live-stream/nope")).body).toMatchObject({ code: "STREAM_NOT_FOUND" });
    expect((await call("POST", "/v1/streams", { body: { title: "x" } })).status).toBe(401);
  });
});
