/**
 * Runs the seeds' page code (test/mini-program/seeds/*.js, verbatim) the way those pages expect:
 * `Page({...})` gives an instance with `data` and `setData`, and `wx.request` returns a promise of
 * `{statusCode, data}` for a root-relative URL with the session token added — what the seeds' app
 * and request interceptor do (seed 001's utils/request.js: base URL + `Authorization: Bearer`).
 * Everything else is the harness's `wx` over the real network.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runInThisContext } from "node:vm";
import { EventChannel, type WxPlatform } from "./wx.js";

const SEEDS = join(dirname(fileURLToPath(import.meta.url)), "..", "seeds");

type Method = (this: SeedPage, ...args: unknown[]) => unknown;
/** A seed page instance: its data (whatever the page sets) and setData; its methods are typed by the caller. */
export interface SeedPage {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: Record<string, any>;
  setData(patch: Record<string, unknown>, cb?: () => void): void;
}

export interface SeedWx {
  /** What the seed pages passed to wx.shareAppMessage (not a wx API; recorded). */
  shared: Record<string, unknown>[];
}

/** The seeds' `wx`: the harness's, with the promise-style request and socket URLs of the seeds' app. */
export function seedWx(platform: WxPlatform, wx: Record<string, unknown>) {
  const base = () => platform.baseUrl;
  const token = () => {
    const t = platform.device.storage.get("token");
    return typeof t === "string" && t ? t : null;
  };
  const shared: Record<string, unknown>[] = [];
  const connectSocket = wx.connectSocket as (o: Record<string, unknown>) => unknown;
  const request = wx.request as (o: Record<string, unknown>) => unknown;
  return Object.assign({}, wx, {
    shared,
    /** Promise of {statusCode, data}; root-relative URLs against the server; the token in a header. */
    request(o: { url: string; method?: string; data?: unknown; header?: Record<string, string> }) {
      return new Promise((resolve, reject) => {
        const t = token();
        request({
          url: o.url.startsWith("/") ? `${base()}${o.url}` : o.url,
          method: o.method ?? "GET",
          data: o.data,
          header: { ...(o.header ?? {}), ...(t ? { Authorization: `Bearer ${t}` } : {}) },
          success: resolve,
          fail: reject,
        });
      });
    },
    /** The seed's socket URL (`wss://api.example.com/live-stream/:id/ws`) on this server, with the token. */
    connectSocket(o: { url: string; header?: Record<string, string> }) {
      const path = o.url.replace(/^wss?:\/\/[^/]+/, "");
      const t = token();
      return connectSocket({ ...o, url: `${base().replace(/^http/, "ws")}${path}`, header: { ...(o.header ?? {}), ...(t ? { Authorization: `Bearer ${t}` } : {}) } });
    },
    shareAppMessage(o: Record<string, unknown>) {
      shared.push(o);
    },
  });
}

/**
 * Loads a seed page file and makes one instance of it. `missing`: methods the seed page calls but
 * never defines (seed 003's live page calls `this.scrollToLatestComment()`), as no-ops.
 */
export function openSeedPage<Methods extends object>(file: string, wx: unknown, opts: { channel?: EventChannel; missing?: string[] } = {}): SeedPage & Methods {
  const code = readFileSync(join(SEEDS, file), "utf8");
  let definition: Record<string, unknown> | null = null;
  const Page = (def: Record<string, unknown>) => {
    definition = def;
  };
  const run = runInThisContext(`(function (Page, wx) {\n${code}\n})`, { filename: join(SEEDS, file) }) as (page: typeof Page, w: unknown) => void;
  run(Page, wx);
  if (!definition) throw new Error(`${file} did not call Page()`);
  const def: Record<string, unknown> = definition;
  const channel = opts.channel ?? new EventChannel();
  const page = {
    data: JSON.parse(JSON.stringify(def.data ?? {})) as Record<string, unknown>,
    setData(patch: Record<string, unknown>, cb?: () => void) {
      Object.assign(this.data, patch);
      cb?.();
    },
    getOpenerEventChannel: () => channel,
  } as SeedPage & Record<string, unknown>;
  for (const [k, v] of Object.entries(def)) if (typeof v === "function") page[k] = (v as Method).bind(page);
  for (const name of opts.missing ?? []) page[name] ??= () => {};
  return page as SeedPage & Methods;
}
