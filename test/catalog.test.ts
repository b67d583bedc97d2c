// Catalog over HTTP: public and seed-page reads, admin-only writes, validation, OpenAPI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession } from "./support/clients.js";

type Json = Record<string, unknown>;

describe("catalog API", () => {
  let server: TestServer;
  let admin: string;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json & Json[] };
  };

  it("lets an admin build the catalog that the public and seed 001's home page read", async () => {
    const cat = await call("POST", "/v1/admin/categories", { name: "Tea", sort: 1 }, admin);
    expect(cat.status).toBe(201);
    const created = await call(
      "POST",
      "/v1/admin/products",
      {
        sn: "LJ-250",
        name: "Longjing 250 g",
        categoryId: cat.body.id,
        pictures: ["https://img.test/lj.jpg"],
        skus: [{ specs: { weight: "250 g" }, priceFen: 12800, stock: 10 }],
      },
      admin,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ priceFen: 12800, price: 128, stock: 10, cover: "https://img.test/lj.jpg" });
    const banner = await call("POST", "/v1/admin/banners", { imageUrl: "https://img.test/banner.jpg", link: "/pages/live" }, admin);
    expect(banner.status).toBe(201);

    // Seed 001 index page: Promise.all of three wx.request calls, each read as `res.data` (an array).
    const [banners, categories, hot] = await Promise.all(["/api/banners", "/api/categories", "/api/products/hot"].map((p) => call("GET", p)));
    expect(banners!.body).toEqual([{ id: banner.body.id, imageUrl: "https://img.test/banner.jpg", link: "/pages/live", sort: 0 }]);
    expect(categories!.body.map((c) => c.name)).toContain("Tea");
    expect(hot!.body[0]).toMatchObject({ id: created.body.id, name: "Longjing 250 g", price: 128 });

    const detail = await call("GET", `/v1/products/${String(created.body.id)}`);
    expect((detail.body.skus as Json[])[0]).toMatchObject({ specs: { weight: "250 g" }, priceFen: 12800, stock: 10 });

    const delist = await call("PATCH", `/v1/admin/products/${String(created.body.id)}`, { listed: false }, admin);
    expect(delist.body.listed).toBe(false);
    expect((await call("GET", `/v1/products/${String(created.body.id)}`)).status).toBe(404);
    expect((await call("GET", "/v1/products?q=longjing")).body.total).toBe(0);
    expect((await call("GET", "/v1/admin/products?q=longjing", undefined, admin)).body.total).toBe(1);
    await call("PATCH", `/v1/admin/products/${String(created.body.id)}`, { listed: true }, admin);
    expect((await call("GET", "/v1/products?q=longjing")).body.total).toBe(1);

    const sku = (detail.body.skus as Json[])[0]!;
    const repriced = await call("PATCH", `/v1/admin/skus/${String(sku.id)}`, { priceFen: 9900 }, admin);
    expect(repriced.body).toMatchObject({ priceFen: 9900, price: 99 });
    // A patch changes only what it sends.
    expect((repriced.body.skus as Json[])[0]).toMatchObject({ specs: { weight: "250 g" } });
    await call("PATCH", `/v1/admin/products/${String(created.body.id)}`, { listed: false }, admin);
    const renamed = await call("PATCH", `/v1/admin/products/${String(created.body.id)}`, { name: "Longjing, spring" }, admin);
    expect(renamed.body).toMatchObject({ name: "Longjing, spring", listed: false, cover: "https://img.test/lj.jpg", categoryId: cat.body.id });
    expect((await call("DELETE", `/v1/admin/products/${String(created.body.id)}`, undefined, admin)).body).toEqual({ ok: true });
    expect((await call("GET", `/v1/products/${String(created.body.id)}`)).status).toBe(404);
  });

  it("refuses catalog writes without a session (401) and from non-admins (403), changing nothing", async () => {
    const viewer = await devSession(server.url, "Viewer");
    const body = { sn: "X-1", name: "x", skus: [{ priceFen: 1, stock: 1 }] };
    expect(await call("POST", "/v1/admin/products", body)).toMatchObject({ status: 401, body: { code: "AUTH_REQUIRED" } });
    expect(await call("POST", "/v1/admin/products", body, viewer.token)).toMatchObject({ status: 403, body: { code: "FORBIDDEN" } });
    expect((await call("GET", "/v1/admin/products?q=X-1", undefined, admin)).body.total).toBe(0);
  });

  it("validates every input with INVALID_PARAMS and never answers 5xx", async () => {
    const bad: [string, string, unknown][] = [
      ["POST", "/v1/admin/products", { sn: "bad sn!", name: "x", skus: [{ priceFen: 1, stock: 1 }] }],
      ["POST", "/v1/admin/products", { sn: "OK-1", name: "x", skus: [] }],
      ["POST", "/v1/admin/products", { sn: "OK-1", name: "x", skus: [{ priceFen: 1.5, stock: 1 }] }],
      ["POST", "/v1/admin/products", { sn: "OK-1", name: "x", skus: [{ priceFen: -1, stock: 1 }] }],
      ["POST", "/v1/admin/products", { sn: "OK-1", name: "x", pictures: ["javascript:alert(1)"], skus: [{ priceFen: 1, stock: 1 }] }],
      ["POST", "/v1/admin/categories", { name: "" }],
      ["PATCH", "/v1/admin/skus/abc", { stock: -5 }],
      ["GET", "/v1/products?page=0", undefined],
      ["GET", "/v1/products?pageSize=1000", undefined],
      ["GET", "/v1/products/has%20space", undefined],
    ];
    for (const [method, path, body] of bad) {
      const res = await call(method, path, body, admin);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.code).toBe("INVALID_PARAMS");
    }
    expect((await call("PATCH", "/v1/admin/skus/nope", { stock: 1 }, admin)).body.code).toBe("NOT_FOUND");
    expect((await call("PATCH", "/v1/admin/skus/nope", {}, admin)).body.code).toBe("NOT_FOUND");
    expect((await call("DELETE", "/v1/admin/categories/nope", undefined, admin)).body.code).toBe("NOT_FOUND");
  });

  it("carries a product's description and cover image on detail, summaries and seed 001's hot list", async () => {
    const text = "明前头采，扁平光滑，豆花香。\nPicked before Qingming.";
    const created = await call(
      "POST",
      "/v1/admin/products",
      { sn: "DESC-1", name: "Described", description: text, pictures: ["https://img.test/d1.jpg", "https://img.test/d2.jpg"], skus: [{ priceFen: 500, stock: 3 }] },
      admin,
    );
    expect(created.body).toMatchObject({ description: text, cover: "https://img.test/d1.jpg", image: "https://img.test/d1.jpg" });
    const id = String(created.body.id);
    const summary = (await call("GET", "/v1/products?q=DESC-1")).body.items as Json[];
    expect(summary[0]).toMatchObject({ id, description: text, image: "https://img.test/d1.jpg" });
    const hot = (await call("GET", "/api/products/hot")).body.find((p) => p.id === id);
    expect(hot).toMatchObject({ description: text, image: "https://img.test/d1.jpg", price: 5 });

    const patched = await call("PATCH", `/v1/admin/products/${id}`, { description: "Shorter." }, admin);
    expect(patched.body).toMatchObject({ description: "Shorter.", name: "Described", image: "https://img.test/d1.jpg" });
    expect((await call("GET", `/v1/products/${id}`)).body.description).toBe("Shorter.");
    const bare = await call("POST", "/v1/admin/products", { sn: "DESC-2", name: "Bare", skus: [{ priceFen: 1, stock: 1 }] }, admin);
    expect(bare.body).toMatchObject({ description: "", cover: "", image: "" });
    expect((await call("PATCH", `/v1/admin/products/${id}`, { description: "x".repeat(10_001) }, admin)).body.code).toBe("INVALID_PARAMS");
  });

  it("serves an OpenAPI description generated from the same schemas", async () => {
    const doc = (await call("GET", "/openapi.json")).body as unknown as { openapi: string; paths: Record<string, Record<string, Json>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/products", "/v1/products/{id}", "/api/products/hot", "/v1/admin/products"]));
    const create = doc.paths["/v1/admin/products"]!.post!;
    expect(create.security).toEqual([{ bearer: [] }]);
    expect(JSON.stringify(create.requestBody)).toContain('"priceFen"');
  });
});
