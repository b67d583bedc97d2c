/**
 * # Mini program test harness
 *
 * Runs the mini program's pages (real WXML, WXSS, JS) under miniprogram-simulate + jsdom in
 * vitest, against a real pinlive server started as a child process (real Redis and PostgreSQL).
 * `wx` is implemented over the real network (./wx.ts): nothing a page receives is faked. The test
 * file stays in vitest's node environment; the harness installs jsdom's DOM globals itself.
 *
 * ```ts
 * import { useMiniProgram, screenshot } from "./support/harness.js";
 * const mp = useMiniProgram({ env: { COUNTS_INTERVAL_MS: "200" } }); // server + wx + app.js, per file
 * it("…", async () => {
 *   const page = await mp.openPage("pages/live/room", { streamId });   // onLoad(query), onShow, onReady
 *   await page.waitFor((p) => p.data.viewerCount > 0, "viewer count");
 *   await page.input(".comment-input", "你好"); await page.tap(".send");  // class selectors of the WXML
 *   expect(page.toasts.map((t) => t.title)).toContain("…");              // toasts since it opened
 *   await screenshot(page, "live-room");  // artifacts/screenshots/mini-program/live-room.png
 *   const boxes = await layout(page, { note: ".bought" }); // boxes as Chromium lays them out (null without it)
 *   await page.unload();                  // onUnload (closes its sockets)
 * });
 * ```
 *
 * - `mp.server` (`url`, `ws`, `kill()`, `output()`), `mp.databaseUrl`, `mp.redisPrefix`, `mp.call`
 *   (HTTP client for test setup), `mp.adminToken()`, `mp.signIn(nickname)` (the current phone logs
 *   in as the pages would: wx.login → sandbox code → POST /v1/auth/login; stored under
 *   `pinlive.session`).
 * - Phones: `mp.useDevice("bob")` switches to another phone (own storage, own WeChat openid).
 *   One phone is active at a time: pages call the global `wx`, which acts for the active phone.
 * - Recorded (`mp.wx.…`): `toasts`, `modals` (confirmed by default; push `false` onto
 *   `modalAnswers` to cancel the next), `loading` (title on screen or null), `navigations`
 *   (`mp.openNavigated()` opens the latest target, with its EventChannel), `payments` (each
 *   wx.requestPayment and the sandbox's errMsg; `cancelNextPayment = true` plays a user who
 *   cancels), `sockets` (each wx.connectSocket: `received` frames, `drop()` cuts it as a lost
 *   network does, `hold()`/`release()` delay its incoming frames as a slow network does),
 *   `goOffline()` / `goOnline()` (onNetworkStatusChange listeners hear it), `chosenFiles` (paths
 *   chooseMedia/chooseImage return).
 * - Page handle (./pages.ts): `data`, `dom`, `text(sel?)`, `find/exists/count(sel)`, `tap(sel)`,
 *   `input(sel, value)`, `confirm(sel, value?)`, `trigger(sel, event, detail)`,
 *   `waitFor(pred, what, ms)`, `toasts`, `show()`, `hide()`, `unload()`, `instance` (call e.g.
 *   `instance.onShareAppMessage()`), `json`.
 * - Limits of miniprogram-simulate's compiler: no `<template>`, `<include>`, `<import>` or `<wxs>`
 *   in WXML (format in JS instead); pages must be `Component({ methods: { onLoad, … } })`.
 *   A page's classes are matched by their WXML names (`.buy-btn`); `a >>> .b` crosses into a
 *   custom component.
 */
import { afterAll, beforeAll } from "vitest";
import { createRequire } from "node:module";
import { join } from "node:path";
import postgres from "postgres";
import { httpClient, type HttpClient } from "../../support/http.js";
import { spawnServer, type EnvOverrides, type SpawnedServer } from "../../support/servers.js";
import { useTestServices } from "../../support/services.js";
import { MINI_PROGRAM_ROOT, MiniProgramRuntime, type PageHandle } from "./pages.js";
import { closeBrowser } from "./screenshot.js";
import { WxPlatform } from "./wx.js";

export { layout, overlaps, screenshot, pngSize, SCREENSHOT_DIR, type Box } from "./screenshot.js";
export { MINI_PROGRAM_ROOT, type PageHandle } from "./pages.js";
export { EventChannel, TestSocket, WxPlatform } from "./wx.js";

const require = createRequire(import.meta.url);
const SESSION_KEY = "pinlive.session";

export interface MiniProgram {
  server: SpawnedServer;
  databaseUrl: string;
  /** The server's REDIS_PREFIX (its BullMQ prefix is `{<prefix>:jobs}`). */
  redisPrefix: string;
  call: HttpClient;
  wx: WxPlatform;
  runtime: MiniProgramRuntime;
  openPage(path: string, query?: Record<string, string | number>): Promise<PageHandle>;
  openNavigated(): Promise<PageHandle>;
  useDevice(name: string): void;
  /** The active phone logs in (as lib/session would) with this nickname; returns the session. */
  signIn(nickname?: string): Promise<{ token: string; userId: string; user: Record<string, unknown> }>;
  /** Forgets the active phone's session. */
  signOut(): void;
  adminToken(): Promise<string>;
  unloadAll(): Promise<void>;
}

/**
 * An admin's session: a WeChat user made admin in the database (no endpoint mints admins; the
 * in-process helper in test/support/admin.ts cannot load under jsdom).
 */
async function makeAdmin(call: HttpClient, databaseUrl: string) {
  const { code } = (await call<{ code: string }>("POST", "/sandbox/wechat/login-code", { body: {} })).body;
  const res = await call<{ token: string; user: { id: string } }>("POST", "/v1/auth/login", { body: { code, nickname: "Admin" } });
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`update users set role = 'admin' where id = ${res.body.user.id}`;
  } finally {
    await sql.end();
  }
  return res.body.token;
}

/**
 * Per test file: a fresh database and Redis prefix, a pinlive server as a child process (with
 * `env` added, e.g. DEMO_DATA), the mini program's config pointed at it, `wx` installed, app.js run.
 */
export function useMiniProgram(opts: { env?: EnvOverrides } = {}): MiniProgram {
  const services = useTestServices();
  const mp = {} as MiniProgram;
  let admin: Promise<string> | null = null;

  beforeAll(async () => {
    const server = await spawnServer(services.databaseUrl, services.redisPrefix, { ...opts.env });
    const wx = new WxPlatform();
    wx.baseUrl = server.url;
    // The one setting of the mini program: where the server is.
    (require(join(MINI_PROGRAM_ROOT, "config.js")) as { BASE_URL: string }).BASE_URL = server.url;
    const runtime = new MiniProgramRuntime(wx);
    runtime.start();
    const call = httpClient(server.url);
    Object.assign(mp, {
      server,
      databaseUrl: services.databaseUrl,
      redisPrefix: services.redisPrefix,
      call,
      wx,
      runtime,
      openPage: (path: string, query?: Record<string, string | number>) => runtime.openPage(path, query),
      openNavigated: () => runtime.openNavigated(),
      useDevice: (name: string) => void wx.useDevice(name),
      async signIn(nickname?: string) {
        const { code } = (await call<{ code: string }>("POST", "/sandbox/wechat/login-code", { body: { openid: wx.device.openid } })).body;
        const res = await call<{ token: string; user: Record<string, unknown> & { id: string }; expiresAt?: string }>("POST", "/v1/auth/login", { body: nickname ? { code, nickname } : { code } });
        if (res.status !== 200 && res.status !== 201) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`);
        const session = { token: res.body.token, user: res.body.user, expiresAt: res.body.expiresAt };
        wx.device.storage.set(SESSION_KEY, JSON.parse(JSON.stringify(session)));
        return { token: res.body.token, userId: res.body.user.id, user: res.body.user };
      },
      signOut: () => void wx.device.storage.delete(SESSION_KEY),
      adminToken: () => (admin ??= makeAdmin(call, services.databaseUrl)),
      unloadAll: () => runtime.unloadAll(),
    } satisfies MiniProgram);
  });

  afterAll(async () => {
    await mp.runtime?.unloadAll();
    await closeBrowser();
    await mp.server?.stop();
  });

  return mp;
}
