import { readFile, realpath, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { gzip as gzipCb } from "node:zlib";
import type { HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { Logger } from "../log.js";
import { statusLine, writeResult } from "../uws/response.js";

const gzip = promisify(gzipCb);

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".wasm": "application/wasm",
};
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".map", ".txt", ".svg"]);
/** Vite's output names: `assets/<name>-<hash>.<ext>`; a changed file gets a new name, so it can be kept forever. */
const HASHED = /(^|\/)assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

export const IMMUTABLE = "public, max-age=31536000, immutable";

interface Cached {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzipped: Buffer | null;
  etag: string;
}

/** How a path under the site is answered: a file, the SPA's index.html, or nothing. */
export type Resolved = { file: string; rel: string } | null;

/**
 * A built single-page app served from a folder at `prefix/`: files with their content types,
 * `Cache-Control: immutable` for hashed assets and `no-cache` (revalidated by ETag) for the rest,
 * index.html for paths that are not files (client-side routes), gzip when asked. Files are read
 * from disk when they change (a rebuild needs no restart) and kept in memory.
 */
export function createStaticSite(opts: { root: string; prefix: string; log: Logger }) {
  const root = resolve(opts.root);
  const cache = new Map<string, Cached>();

  async function isFile(file: string) {
    try {
      return (await stat(file)).isFile();
    } catch {
      return false;
    }
  }

  /** Whether `file` is under the root once links are followed (a link in the folder may point anywhere). */
  async function inside(file: string) {
    try {
      const [realRoot, real] = await Promise.all([realpath(root), realpath(file)]);
      return real.startsWith(realRoot + sep);
    } catch {
      return false;
    }
  }

  /** The file for a request path below the prefix ("" is the index), never outside the root. */
  async function resolvePath(rel: string): Promise<Resolved> {
    if (rel.includes("\0")) return null;
    const file = resolve(root, `.${rel.startsWith("/") ? "" : "/"}${rel}`);
    if (file !== root && !file.startsWith(root + sep)) return null;
    if (rel !== "" && !rel.endsWith("/") && (await isFile(file))) return (await inside(file)) ? { file, rel } : null;
    // Client-side routes (no extension) get the app; a missing asset stays missing.
    if (extname(rel) !== "" && !rel.endsWith("/")) return null;
    const index = resolve(root, "index.html");
    return (await isFile(index)) ? { file: index, rel: "index.html" } : null;
  }

  async function load(file: string): Promise<Cached> {
    const s = await stat(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === s.mtimeMs && hit.size === s.size) return hit;
    const body = await readFile(file);
    const gzipped = COMPRESSIBLE.has(extname(file)) && body.length > 1024 ? await gzip(body) : null;
    const entry = { mtimeMs: s.mtimeMs, size: s.size, body, gzipped, etag: `W/"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"` };
    cache.set(file, entry);
    return entry;
  }

  function register(app: TemplatedApp) {
    const prefix = opts.prefix.replace(/\/+$/, "");
    for (const method of ["get", "head"] as const) {
      app[method](prefix, (res, req) => redirect(res, `${prefix}/${req.getQuery() ? `?${req.getQuery()}` : ""}`, 301));
      app[method](`${prefix}/*`, (res, req) => {
        const url = req.getUrl();
        const acceptsGzip = /\bgzip\b/.test(req.getHeader("accept-encoding"));
        const ifNoneMatch = req.getHeader("if-none-match");
        let aborted = false;
        res.onAborted(() => (aborted = true));
        void (async () => {
          let rel: string;
          try {
            rel = decodeURIComponent(url.slice(prefix.length + 1));
          } catch {
            rel = "\0";
          }
          const found = await resolvePath(rel);
          if (!found) {
            if (!aborted) writeResult(res, { status: 404, body: { code: "NOT_FOUND", message: (await isFile(resolve(root, "index.html"))) ? "No such file." : "The console is not built: run npm run build:console." } });
            return;
          }
          const f = await load(found.file);
          if (aborted) return;
          const immutable = HASHED.test(found.rel);
          const headers: Record<string, string> = {
            "content-type": TYPES[extname(found.file)] ?? "application/octet-stream",
            "cache-control": immutable ? IMMUTABLE : "no-cache",
            etag: f.etag,
            "x-content-type-options": "nosniff",
          };
          if (f.gzipped) headers.vary = "Accept-Encoding";
          if (found.rel === "index.html") headers["x-frame-options"] = "DENY";
          const body = f.gzipped && acceptsGzip ? f.gzipped : f.body;
          if (f.gzipped && acceptsGzip) headers["content-encoding"] = "gzip";
          res.cork(() => {
            if (ifNoneMatch && ifNoneMatch.split(",").some((t) => t.trim() === f.etag)) {
              res.writeStatus(statusLine(304));
              for (const [k, v] of Object.entries(headers)) if (k !== "content-type") res.writeHeader(k, v);
              res.endWithoutBody();
              return;
            }
            res.writeStatus(statusLine(200));
            for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
            if (method === "head") res.endWithoutBody(body.length);
            else res.end(body);
          });
        })().catch((err: unknown) => {
          opts.log.error({ err, url }, "static file failed");
          if (!aborted) writeResult(res, { status: 500, body: { code: "INTERNAL", message: "Something went wrong on our side." } });
        });
      });
    }
  }

  return { root, resolvePath, register };
}

/** `location` with a 301 (permanent) or 302 (for now). */
export function redirect(res: HttpResponse, location: string, status: 301 | 302 = 302) {
  res.cork(() => {
    res.writeStatus(statusLine(status));
    res.writeHeader("location", location);
    res.writeHeader("cache-control", "no-cache");
    res.end();
  });
}
