// Image uploads over HTTP: checked by content, stored once per hash under DATA_DIR, served
// immutable; multipart bodies past the limit answer 413; nothing outside the store is reachable.
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream, WsClient } from "./support/clients.js";
import { httpClient, type HttpClient } from "./support/http.js";
import { testJpeg, testPng, upload } from "./support/images.js";

type Stored = { id: string; url: string; contentType: string; bytes: number; width: number; height: number };
type ErrorBody = { code: string; message: string };

describe("images", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  const dataDir = mkdtempSync(join(tmpdir(), "pinlive-images-"));
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { DATA_DIR: dataDir });
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const rawGet = (path: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      let text = "";
      socket.on("data", (c: Buffer) => (text += c.toString("latin1")));
      socket.on("end", () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), text }));
      socket.on("error", reject);
    });

  it("stores an admin's PNG and JPEG and serves them byte for byte, immutable", async () => {
    for (const [bytes, type, ext, width, height] of [
      [testPng(40, 30, [200, 80, 60]), "image/png", "png", 40, 30],
      [testJpeg, "image/jpeg", "jpg", 24, 16],
    ] as const) {
      const sha = createHash("sha256").update(bytes).digest("hex");
      const res = await upload<Stored>(server.url, "/v1/admin/images", admin, bytes, { filename: `photo.${ext}` });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id: sha, url: `/images/${sha}.${ext}`, contentType: type, bytes: bytes.length, width, height });

      const served = await fetch(`${server.url}${res.body.url}`);
      expect(served.status).toBe(200);
      expect(served.headers.get("content-type")).toBe(type);
      expect(served.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(served.headers.get("etag")).toBe(`"${sha}"`);
      expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
      const again = await fetch(`${server.url}${res.body.url}`, { headers: { "if-none-match": `"${sha}"` } });
      expect(again.status).toBe(304);
      expect(again.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    }
    // The stored file is the upload, named by its hash.
    expect(readdirSync(join(dataDir, "images")).filter((f) => !f.startsWith(".")).length).toBe(2);
  });

  it("refuses what is not a whole image (415), too large (413), and uploads by non-admins (403)", async () => {
    const text = Buffer.from("just some text, not a picture\n");
    const garbage = Buffer.concat([testPng(4, 4).subarray(0, 16), Buffer.from("not really a png after all".repeat(10))]);
    for (const bytes of [text, garbage]) {
      const res = await upload<ErrorBody>(server.url, "/v1/admin/images", admin, bytes, { filename: "x.png", type: "image/png" });
      expect(res).toMatchObject({ status: 415, body: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    }
    // Just over IMAGE_MAX_BYTES (2 MB by default), and far over it: both 413, read to the end.
    for (const size of [2 * 1024 * 1024 + 1, 5 * 1024 * 1024]) {
      const big = Buffer.concat([testPng(4, 4).subarray(0, 8), Buffer.alloc(size - 8, 7)]);
      const res = await upload<ErrorBody>(server.url, "/v1/admin/images", admin, big);
      expect(res).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
    }
    // Wider than 4096 pixels (a header is all it takes to tell).
    const wide = await upload<ErrorBody>(server.url, "/v1/admin/images", admin, testPng(4097, 1));
    expect(wide).toMatchObject({ status: 400, body: { code: "INVALID_PARAMS" } });

    const user = await devSession(server.url, "Not an admin");
    expect(await upload(server.url, "/v1/admin/images", user.token, testPng(5, 5))).toMatchObject({ status: 403, body: { code: "FORBIDDEN" } });
    expect(await upload(server.url, "/v1/admin/images", undefined, testPng(5, 5))).toMatchObject({ status: 401, body: { code: "AUTH_REQUIRED" } });
    // Not multipart, or no `file` field.
    expect((await call<ErrorBody>("POST", "/v1/admin/images", { token: admin, body: { file: "x" } })).body.code).toBe("INVALID_PARAMS");
    expect((await upload<ErrorBody>(server.url, "/v1/admin/images", admin, testPng(5, 5), { field: "image" })).body.code).toBe("INVALID_PARAMS");
  });

  it("decides who may upload while the body arrives: a refused caller is answered with the refusal, whatever the body's size", async () => {
    // Over IMAGE_MAX_BYTES: a server that kept the body for the handler's auth check answers 413 here.
    const big = Buffer.concat([testPng(4, 4).subarray(0, 8), Buffer.alloc(3 * 1024 * 1024, 7)]);
    const user = await devSession(server.url, "Not an admin either");
    expect(await upload(server.url, "/v1/admin/images", undefined, big)).toMatchObject({ status: 401, body: { code: "AUTH_REQUIRED" } });
    expect(await upload(server.url, "/v1/admin/images", "not-a-session-token", big)).toMatchObject({ status: 401, body: { code: "AUTH_FAILED" } });
    expect(await upload(server.url, "/v1/admin/images", user.token, big)).toMatchObject({ status: 403, body: { code: "FORBIDDEN" } });
    expect(await upload(server.url, "/v1/me/avatar", undefined, big)).toMatchObject({ status: 401, body: { code: "AUTH_REQUIRED" } });
    // An admin's too-large upload is still 413, and an avatar under the limit still works.
    expect(await upload(server.url, "/v1/admin/images", admin, big)).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
    expect((await upload(server.url, "/v1/me/avatar", user.token, testPng(6, 6))).status).toBe(200);
  });

  it("stores the same bytes once, however often and however concurrently they are uploaded", async () => {
    const bytes = testPng(64, 64, [20, 120, 90]);
    const results = await Promise.all(Array.from({ length: 5 }, () => upload<Stored>(server.url, "/v1/admin/images", admin, bytes)));
    results.push(await upload<Stored>(server.url, "/v1/admin/images", admin, bytes));
    expect(new Set(results.map((r) => `${r.status} ${r.body.url}`)).size).toBe(1);
    const id = results[0]!.body.id;
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    const rows = await sql`select id from images where id = ${id}`;
    await sql.end();
    expect(rows).toHaveLength(1);
    const files = readdirSync(join(dataDir, "images"));
    expect(files.filter((f) => f.startsWith(id))).toEqual([`${id}.png`]);
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("answers 404 for anything but a stored image's name (no path traversal)", async () => {
    writeFileSync(join(dataDir, "secret.png"), "secret");
    const stored = (await upload<Stored>(server.url, "/v1/admin/images", admin, testPng(3, 3))).body;
    const hash = stored.id;
    for (const path of [
      "/images/../secret.png",
      "/images/..%2Fsecret.png",
      "/images/%2e%2e%2fsecret.png",
      "/images/..%5Csecret.png",
      "/images/../../../../etc/passwd",
      "/images/secret.png",
      `/images/${hash}.jpg`,
      `/images/${hash}.PNG`,
      `/images/${hash.toUpperCase()}.png`,
      `/images/${hash}.png/`,
      `/images/${hash}.png%00.txt`,
      `/images/${"0".repeat(64)}.png`,
      "/images/",
    ]) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(404);
      expect(res.text, path).not.toContain("secret");
    }
    expect((await rawGet(stored.url)).status).toBe(200);
  });

  it("accepts root-relative image URLs for pictures, banners and covers, and makes them absolute under IMAGE_BASE_URL", async () => {
    const picture = (await upload<Stored>(server.url, "/v1/admin/images", admin, testPng(12, 12, [90, 60, 200]))).body.url;
    const product = await call<{ id: string; cover: string; image: string; pictures: string[] }>("POST", "/v1/admin/products", {
      token: admin,
      body: { sn: `IMG-${Date.now()}`, name: "Pictured", pictures: [picture, "https://img.test/2.jpg"], skus: [{ priceFen: 100, stock: 1 }] },
    });
    expect(product.status).toBe(201);
    expect(product.body).toMatchObject({ cover: picture, image: picture, pictures: [picture, "https://img.test/2.jpg"] });
    const banner = await call<{ imageUrl: string }>("POST", "/v1/admin/banners", { token: admin, body: { imageUrl: picture } });
    expect(banner.body.imageUrl).toBe(picture);
    for (const bad of ["/etc/passwd", "/images/../x.png", "javascript:alert(1)", "images/abc.png"]) {
      expect((await call<ErrorBody>("POST", "/v1/admin/banners", { token: admin, body: { imageUrl: bad } })).body.code, bad).toBe("INVALID_PARAMS");
    }

    const cdn = await startTestServer(services.databaseUrl, services.redisPrefix, { DATA_DIR: dataDir, IMAGE_BASE_URL: "https://cdn.pinlive.test/" });
    try {
      const viaCdn = httpClient(cdn.url);
      const detail = await viaCdn<{ cover: string; image: string; pictures: string[] }>("GET", `/v1/products/${product.body.id}`);
      expect(detail.body).toMatchObject({
        cover: `https://cdn.pinlive.test${picture}`,
        image: `https://cdn.pinlive.test${picture}`,
        pictures: [`https://cdn.pinlive.test${picture}`, "https://img.test/2.jpg"],
      });
      const banners = await viaCdn<{ imageUrl: string }[]>("GET", "/api/banners");
      expect(banners.body.map((b) => b.imageUrl)).toContain(`https://cdn.pinlive.test${picture}`);
      // The database keeps the root-relative form.
      const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
      const [row] = await sql<{ pictures: string[] }[]>`select pictures from products where id = ${product.body.id}`;
      await sql.end();
      expect(row!.pictures[0]).toBe(picture);
    } finally {
      await cdn.stop();
    }
  });

  it("lets a host push a product bubble with an uploaded picture (root-relative, as the API gives it without a base URL)", async () => {
    const picture = (await upload<Stored>(server.url, "/v1/admin/images", admin, testPng(16, 16, [1, 2, 3]))).body.url;
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const ws = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`, { token: host.token });
    await ws.next("snapshot");
    ws.send({ type: "product_highlight", id: "p1", productId: "tea", title: "Tea", priceFen: 100, imageUrl: picture });
    ws.send({ type: "product_highlight", id: "p2", productId: "tea", title: "Tea", imageUrl: "/etc/passwd" });
    // Answers carry their command's id and may come in either order (p2 is refused before any lookup).
    await ws.until((f) => ["p1", "p2"].every((id) => f.some((x) => x.id === id)), 10_000, "both answers");
    expect(ws.frames.find((x) => x.id === "p1")).toMatchObject({ type: "ack" });
    expect(ws.frames.find((x) => x.id === "p2")).toMatchObject({ type: "error", code: "INVALID_PARAMS" });
    expect((await ws.next("product_highlight")).product).toMatchObject({ imageUrl: picture });
    ws.close();
  });

  it("keeps the JSON body limit for JSON routes", async () => {
    const res = await call<ErrorBody>("POST", "/v1/admin/banners", { token: admin, body: { imageUrl: "https://img.test/a.png", link: "x".repeat(100_000) } });
    expect(res).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
  });
});

