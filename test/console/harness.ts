import { spawnSync } from "node:child_process";
import { mkdirSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { staffAccount } from "../support/admin.js";
import { sleep } from "../support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "../support/http.js";
import { startTestServer, type EnvOverrides, type TestServer } from "../support/servers.js";
import { useTestServices } from "../support/services.js";

const ROOT = resolve(import.meta.dirname, "../..");
export const SHOTS = join(ROOT, "artifacts/screenshots/console");

/** Debian's Chromium with the flags every browser test uses (never a downloaded browser). */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Builds console/dist when it is missing or stale, with the same check `npm test` and the demo use
 * (scripts/lib.sh), one build at a time across test files.
 */
export function ensureConsoleBuilt() {
  const lock = join(tmpdir(), `pinlive-console-build-${Buffer.from(ROOT).toString("base64url")}`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`console build lock ${lock} held too long`);
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 180_000) rmdirSync(lock);
      spawnSync("sleep", ["0.5"]);
    }
  }
  try {
    const r = spawnSync("bash", ["-c", "source scripts/lib.sh && ensure_console_build"], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`console build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}

export interface Staff {
  id: string;
  username: string;
  password: string;
  token: string;
}

/**
 * One console test file's world: a real pinlive server on the machine's Redis and PostgreSQL serving
 * the built console, Chromium, an admin and two hosts with passwords. Read the fields inside tests.
 */
export function useConsole(env: EnvOverrides = {}) {
  const services = useTestServices();
  const h = {
    server: null as unknown as TestServer,
    browser: null as unknown as Browser,
    call: null as unknown as HttpClient,
    url: "",
    admin: null as unknown as Staff,
    host: null as unknown as Staff,
    otherHost: null as unknown as Staff,
    databaseUrl: "",
    /** Messages the pages logged as errors, for failure output. */
    pageErrors: [] as string[],
  };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    h.databaseUrl = services.databaseUrl;
    h.server = await startTestServer(services.databaseUrl, services.redisPrefix, env);
    h.url = h.server.url;
    h.call = httpClient(h.url);
    h.browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, headless: true });
    const make = async (username: string, role: "host" | "admin", nickname: string): Promise<Staff> => {
      const password = `${username}-Pa55word`;
      const account = await staffAccount(services.databaseUrl, { username, password, role, nickname });
      const login = await h.call<{ token: string }>("POST", "/v1/auth/staff-login", { body: { username, password } });
      if (login.status !== 200) throw new Error(`staff login: ${login.status} ${JSON.stringify(login.body)}`);
      return { id: account.id, username, password, token: login.body.token };
    };
    h.admin = await make("admin_wang", "admin", "王管理");
    h.host = await make("host_li", "host", "李主播");
    h.otherHost = await make("host_zhao", "host", "赵主播");
  }, 240_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      if (h.pageErrors.length) console.error(`page errors:\n${h.pageErrors.join("\n")}`);
      const pages = contexts.flatMap((c) => c.pages());
      for (const [i, p] of pages.entries()) await shot(p, `failed-${ctx.task.name.slice(0, 40)}-${i}`).catch(() => undefined);
    }
    h.pageErrors.length = 0;
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await h.browser?.close();
    await h.server?.stop();
  });

  /** A fresh browser context (own storage) and page at the given size. */
  async function page(viewport = { width: 1280, height: 800 }): Promise<Page> {
    const context = await h.browser.newContext({ viewport, locale: "zh-CN", timezoneId: "Asia/Shanghai", deviceScaleFactor: 1 });
    contexts.push(context);
    const p = await context.newPage();
    p.on("pageerror", (e) => h.pageErrors.push(`pageerror: ${e.message}`));
    p.on("console", (m) => {
      if (m.type() === "error") h.pageErrors.push(`console: ${m.text()}`);
    });
    return p;
  }

  /** Signs in through the sign-in form and waits for the stream list. */
  async function signIn(p: Page, who: Staff) {
    await p.goto(`${h.url}/console/login`);
    await p.getByLabel("用户名").fill(who.username);
    await p.getByLabel("密码", { exact: true }).fill(who.password);
    await p.getByRole("button", { name: "登录" }).click();
    await p.waitForURL(/\/console\/streams$/);
  }

  /** A stream hosted by `host`, created by the admin, with listed products attached. */
  async function stream(host: Staff, title: string, products: { name: string; priceFen: number; stock: number }[] = []) {
    const created = await h.call<{ id: string; streamKey: string }>("POST", "/v1/streams", { token: h.admin.token, body: { title, hostUserId: host.id } });
    if (created.status !== 201) throw new Error(`create stream: ${created.status} ${JSON.stringify(created.body)}`);
    const made = [];
    for (const p of products) made.push({ ...(await makeProduct(h.call, h.admin.token, { priceFen: p.priceFen, stock: p.stock }, p.name)), ...p });
    if (made.length) {
      const put = await h.call("PUT", `/v1/streams/${created.body.id}/products`, { token: h.admin.token, body: { productIds: made.map((m) => m.productId) } });
      if (put.status !== 200) throw new Error(`attach products: ${put.status} ${JSON.stringify(put.body)}`);
    }
    return { id: created.body.id, products: made };
  }

  return { h, page, signIn, stream };
}

/** Saves a screenshot to artifacts/screenshots/console/<name>.png. */
export async function shot(p: Page, name: string, fullPage = false) {
  mkdirSync(SHOTS, { recursive: true });
  await sleep(150); // let charts and transitions settle
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}
