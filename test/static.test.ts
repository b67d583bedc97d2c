// Serving the built console: content types, cache headers, ETags, gzip, the SPA fallback, redirects.
// Builds nothing: the server is pointed (CONSOLE_DIR) at a folder shaped like Vite's output.
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";

const INDEX = `<!doctype html><html><head><script type="module" src="/console/assets/index-AbCd1234.js"></script></head><body><div id="app"></div></body></html>`;
const APP_JS = `console.log("console app");\n`.repeat(200);

/** A GET with a path exactly as written (fetch would normalize `..`). */
function rawGet(port: number, path: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the console's static files", () => {
  let server: TestServer;
  let dist: string;
  const services = useTestServices();
  const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, { redirect: "manual", ...init });

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), "pinlive-console-"));
    mkdirSync(join(dist, "assets"));
    writeFileSync(join(dist, "index.html"), INDEX);
    writeFileSync(join(dist, "assets", "index-AbCd1234.js"), APP_JS);
    writeFileSync(join(dist, "assets", "index-Zz9_-8yX.css"), "body{margin:0}");
    writeFileSync(join(dist, "assets", "logo-4f3e2d1c.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    writeFileSync(join(dist, "favicon.ico"), Buffer.from([0, 0, 1, 0]));
    writeFileSync(join(dist, "secret.txt"), "inside");
    writeFileSync(join(tmpdir(), "pinlive-outside.txt"), "outside");
    // Links in the folder: one to a file outside it (never served), one to a file inside (served).
    symlinkSync(join(tmpdir(), "pinlive-outside.txt"), join(dist, "assets", "linked-12345678.txt"));
    symlinkSync(join(dist, "secret.txt"), join(dist, "inner-link.txt"));
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { CONSOLE_DIR: dist });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("sends / and /console to /console/", async () => {
    const root = await get("/");
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/console/");
    const bare = await get("/console?x=1");
    expect(bare.status).toBe(301);
    expect(bare.headers.get("location")).toBe("/console/?x=1");
  });

  it("serves index.html un-cached and hashed assets as immutable, with their content types", async () => {
    const index = await get("/console/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await index.text()).toBe(INDEX);

    const cases: [string, string, string][] = [
      ["/console/assets/index-AbCd1234.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"],
      ["/console/assets/index-Zz9_-8yX.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"],
      ["/console/assets/logo-4f3e2d1c.svg", "image/svg+xml", "public, max-age=31536000, immutable"],
      ["/console/favicon.ico", "image/x-icon", "no-cache"],
      ["/console/index.html", "text/html; charset=utf-8", "no-cache"],
    ];
    for (const [path, type, cache] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toBe(type);
      expect(res.headers.get("cache-control"), path).toBe(cache);
    }
    const js = await get("/console/assets/index-AbCd1234.js", { headers: { "accept-encoding": "gzip" } });
    expect(js.headers.get("content-encoding")).toBe("gzip");
    expect(js.headers.get("vary")).toBe("Accept-Encoding");
    expect(await js.text()).toBe(APP_JS); // fetch undoes the gzip
  });

  it("answers client-side routes with the app, and missing files with 404", async () => {
    for (const path of ["/console/streams/demo", "/console/admin/staff/", "/console/login?next=%2Fconsole%2F"]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(await res.text()).toBe(INDEX);
    }
    const missing = await get("/console/assets/gone-12345678.js");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "NOT_FOUND" });
    // Nothing outside the folder, however the path is spelled.
    for (const path of ["/console/../pinlive-outside.txt", "/console/%2e%2e/pinlive-outside.txt", "/console/..%2fpinlive-outside.txt", "/console/%00secret.txt"]) {
      const res = await rawGet(server.port, path);
      expect(res.body, path).not.toContain("outside");
      expect([400, 404], path).toContain(res.status);
    }
    expect((await get("/console/secret.txt")).status).toBe(200);
    const linkedOut = await get("/console/assets/linked-12345678.txt");
    expect(linkedOut.status).toBe(404);
    expect(await linkedOut.text()).not.toContain("outside");
    expect(await (await get("/console/inner-link.txt")).text()).toBe("inside");
  });

  it("revalidates with ETags, answers HEAD, and picks up a rebuild without a restart", async () => {
    const first = await get("/console/");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"/);
    const again = await get("/console/", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");

    const head = await get("/console/assets/index-AbCd1234.js", { method: "HEAD", headers: { "accept-encoding": "identity" } });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(APP_JS.length));

    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(dist, "index.html"), INDEX.replace("app", "app2"));
    const rebuilt = await get("/console/", { headers: { "if-none-match": etag } });
    expect(rebuilt.status).toBe(200);
    expect(await rebuilt.text()).toContain("app2");

    renameSync(join(dist, "index.html"), join(dist, "index.old"));
    const unbuilt = await get("/console/");
    expect(unbuilt.status).toBe(404);
    expect((await unbuilt.json()) as { message: string }).toMatchObject({ message: expect.stringContaining("npm run build:console") as unknown });
    renameSync(join(dist, "index.old"), join(dist, "index.html"));
  });
});
