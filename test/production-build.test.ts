// The build production runs: `npm run build` writes `dist/` and `console/dist`, `npm prune
// --omit=dev` may drop the development packages, and `npm start` runs `node dist/main.js`. Every
// other suite's spawned servers run the same `dist/main.js` (test/support/servers.ts) from this
// checkout; this file runs it as a production install would: a folder with only the build,
// package.json and the packages `dependencies` need (hard links into node_modules), no `src/`, no
// TypeScript loader, in production mode.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILT_SERVER } from "../scripts/build-server.js";
import { waitFor } from "./support/clients.js";
import { useTestServices } from "./support/services.js";
import { baseEnv, listeningPort } from "./support/servers.js";
import { productionWechatEnv } from "./support/wechat.js";

const ROOT = resolve(import.meta.dirname, "..");

/** A folder as `npm ci && npm run build && npm prune --omit=dev` leaves it, minus the sources. */
function productionInstall(): string {
  const dir = mkdtempSync(join(tmpdir(), "pinlive-production-"));
  const copy = (from: string) => {
    mkdirSync(dirname(join(dir, from)), { recursive: true });
    cpSync(join(ROOT, from), join(dir, from), { recursive: true });
  };
  // `npm test` builds the console first; a lone run of this file builds it here.
  if (!existsSync(join(ROOT, "console/dist/index.html"))) expect(spawnSync("npm", ["run", "-s", "build:console"], { cwd: ROOT }).status).toBe(0);
  copy("package.json");
  copy("dist");
  copy("console/dist");
  const listed = spawnSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: ROOT, encoding: "utf8" });
  const packages = listed.stdout.split("\n").filter((p) => p.startsWith(join(ROOT, "node_modules/"))).map((p) => relative(ROOT, p)).sort();
  expect(packages.length).toBeGreaterThan(10);
  // A nested package comes with its parent's folder.
  let parent = "";
  for (const path of packages) {
    if (parent && path.startsWith(`${parent}/`)) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    const linked = spawnSync("cp", ["-al", join(ROOT, path), join(dir, path)]);
    if (linked.status !== 0) copy(path);
    parent = path;
  }
  expect(existsSync(join(dir, "node_modules/vitest"))).toBe(false);
  expect(existsSync(join(dir, "node_modules/tsx"))).toBe(false);
  return dir;
}

describe("npm start from a production install", () => {
  const services = useTestServices();
  let dir = "";
  let child: ReturnType<typeof spawn>;
  let output = "";

  beforeAll(() => {
    dir = productionInstall();
    const env = {
      ...process.env,
      ...baseEnv(services.databaseUrl, services.redisPrefix),
      ...productionWechatEnv(),
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      // RTMP ingest on: it loads node-media-server's modules.
      INGEST_ENABLED: "true",
      RTMP_PORT: "0",
      FLV_PORT: "0",
    };
    // Its own process group: a failed run kills npm, its shell and the server together (afterAll).
    child = spawn("npm", ["start", "--silent"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  });
  afterAll(() => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs dist/main.js with Node alone and only the dependencies: migrated, ready, the console served, no development routes; SIGTERM ends it with 0", async () => {
    await waitFor(() => listeningPort(output) !== null || child.exitCode !== null, "the listening line", 30_000);
    expect(child.exitCode, output).toBeNull();
    const port = listeningPort(output)!;
    const url = `http://127.0.0.1:${port}`;
    // Production's bare /readyz: ready only once the database (migrated at start) and Redis answer.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const consolePage = await fetch(`${url}/console/`);
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toMatch(/<div id="app">/);
    expect((await fetch(`${url}/v1/dev/sessions`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${url}/v1/streams?status=live`)).status).toBe(200);
    // Node runs dist/ itself, from the install: no TypeScript loader in the process.
    const node = nodePid(child.pid!);
    const cmdline = readFileSync(`/proc/${node}/cmdline`, "utf8").split("\0");
    expect(cmdline).toContain(BUILT_SERVER);
    expect(cmdline.join(" ")).not.toMatch(/tsx/);
    // A process manager's SIGTERM to the server drains it; it exits 0, and npm with it.
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    process.kill(node, "SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toMatch(/"signal":"SIGTERM","msg":"shutting down"[^]*"msg":"stopped"/);
    expect(output).not.toMatch(/"level":(50|60)/);
  });
});

/** `npm start` runs Node under a shell: the process whose arguments include `dist/main.js`. */
function nodePid(npmPid: number): number {
  const children = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const queue = [npmPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(BUILT_SERVER)) return pid;
    queue.push(...children(pid));
  }
  throw new Error(`no process under ${npmPid} runs ${BUILT_SERVER}`);
}
