// DEMO_DATA: the demo catalog, banners and streams with generated pictures; a second start adds
// nothing, and every picture URL serves a PNG of the intended shape.
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { probeImage } from "../src/media/image-probe.js";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { httpClient } from "./support/http.js";

type Product = { id: string; name: string; description: string; image: string; pictures: string[]; skus: { specs: Record<string, string> }[] };
type Stream = { id: string; status: string; coverUrl: string; scheduledAt: string | null; endedAt: string | null };

describe("demo data", () => {
  const services = useTestServices();
  const dataDir = mkdtempSync(join(tmpdir(), "pinlive-demo-"));
  let server: TestServer | null = null;
  afterAll(async () => {
    await server?.stop();
  });

  async function counts() {
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const n = async (table: string) => Number((await sql.unsafe(`select count(*) as n from ${table}`))[0]!.n);
      return {
        users: await n("users where id like 'demo-%'"),
        categories: await n("categories"),
        products: await n("products"),
        skus: await n("skus"),
        banners: await n("banners"),
        streams: await n("live_streams"),
        streamProducts: await n("stream_products"),
        activities: await n("group_activities"),
        images: await n("images"),
        files: readdirSync(join(dataDir, "images")).length,
      };
    } finally {
      await sql.end();
    }
  }

  async function fetchPng(base: string, url: string) {
    const res = await fetch(`${base}${url}`);
    expect(res.status, url).toBe(200);
    expect(res.headers.get("content-type"), url).toBe("image/png");
    return probeImage(Buffer.from(await res.arrayBuffer()));
  }

  it("starts twice without duplicates, and its pictures, banners and covers serve PNGs", async () => {
    const env = { DATA_DIR: dataDir, DEMO_DATA: "true" };
    server = await startTestServer(services.databaseUrl, services.redisPrefix, env);
    const first = await counts();
    const call = httpClient(server.url);
    const products = (await call<{ items: Product[] }>("GET", "/v1/products?pageSize=100")).body.items;
    await server.stop();
    server = null;

    expect(first).toMatchObject({ users: 4, categories: 4, products: 8, skus: 15, banners: 2, streams: 4, activities: 1 });
    expect(first.files).toBe(first.images);

    server = await startTestServer(services.databaseUrl, services.redisPrefix, env);
    expect(await counts()).toEqual(first);
    const again = httpClient(server.url);
    // The same pictures: generated again, byte for byte, so the same content-addressed URLs.
    const products2 = (await again<{ items: Product[] }>("GET", "/v1/products?pageSize=100")).body.items;
    expect(products2.map((p) => [p.id, p.image])).toEqual(products.map((p) => [p.id, p.image]));

    for (const summary of products2) {
      const p = (await again<Product>("GET", `/v1/products/${summary.id}`)).body;
      expect(p.description.length, p.id).toBeGreaterThan(10);
      expect(p.pictures.length, p.id).toBe(2);
      expect(p.skus.every((s) => Object.keys(s.specs).length > 0), p.id).toBe(true);
      for (const url of p.pictures) expect(await fetchPng(server.url, url)).toMatchObject({ width: 600, height: 600 });
    }
    const banners = (await again<{ imageUrl: string; link: string }[]>("GET", "/api/banners")).body;
    expect(banners).toHaveLength(2);
    for (const b of banners) expect(await fetchPng(server.url, b.imageUrl)).toMatchObject({ width: 750, height: 300 });
    for (const c of (await again<{ iconUrl: string }[]>("GET", "/v1/categories")).body) {
      expect(await fetchPng(server.url, c.iconUrl)).toMatchObject({ width: 120, height: 120 });
    }

    const upcoming = (await again<Stream[]>("GET", "/v1/streams?status=upcoming")).body;
    // The room within the hour, one later today (or early tomorrow), one tomorrow evening.
    expect(upcoming.map((s) => s.id)).toEqual(["demo", "demo-teapot-night", "demo-honey-trip"]);
    for (const s of upcoming) expect(Date.parse(s.scheduledAt!), s.id).toBeGreaterThan(Date.now());
    expect(Date.parse(upcoming[2]!.scheduledAt!) - Date.now()).toBeLessThan(2 * 24 * 3600_000);
    const ended = (await again<Stream[]>("GET", "/v1/streams?status=ended")).body;
    expect(ended.map((s) => s.id)).toEqual(["demo-cake-replay"]);
    expect(Date.parse(ended[0]!.endedAt!)).toBeLessThan(Date.now());
    for (const s of [...upcoming, ...ended]) expect(await fetchPng(server.url, s.coverUrl), s.id).toMatchObject({ width: 640, height: 360 });
    const room = (await again<{ stream: Stream; products: { id: string; image: string; description: string }[] }>("GET", "/api/live-stream/demo")).body;
    expect(room.products).toHaveLength(8);
    expect(room.products.every((p) => p.image.startsWith("/images/") && p.description.length > 0)).toBe(true);
  });
});
