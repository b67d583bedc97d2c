// The k6 suite parses and validates without running a load (`k6 inspect`, every profile), the smoke
// runner says clearly when there is no k6, and the scripts take every message name from the
// generated protocol bundle.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../", import.meta.url).pathname;
const K6_DIR = join(ROOT, "load-tests/k6");
const SCENARIOS = ["viewers", "chat", "host", "flash-rush", "group-race", "reconnect-storm"];
const PROFILES = ["smoke", "load", "stress"] as const;
const NO_K6 = /^k6-smoke: no k6 binary found \(K6_BIN unset, no k6 on PATH, none at .*shared\/bin\/k6\): the k6 smoke run is skipped/m;

function run(file: string, args: string[], env: Record<string, string | undefined>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { env: env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Every k6 JavaScript file of the suite but the generated bundle. */
function k6Sources(): string[] {
  const top = readdirSync(K6_DIR).filter((f) => f.endsWith(".js")).map((f) => join(K6_DIR, f));
  const lib = readdirSync(join(K6_DIR, "lib")).filter((f) => f.endsWith(".js") && f !== "protocol.js").map((f) => join(K6_DIR, "lib", f));
  return [...top, ...lib];
}

describe("k6 suite", () => {
  it("has one script per scenario", () => {
    expect(readdirSync(K6_DIR).filter((f) => f.endsWith(".js")).sort()).toEqual(SCENARIOS.map((s) => `${s}.js`).sort());
  });

  it("the smoke runner prints one clear line when no k6 can be found", async () => {
    // A copy of the runner in a repository with no ../shared/bin/k6 beside it, and no k6 on PATH.
    const dir = mkdtempSync(join(tmpdir(), "pinlive-k6-none-"));
    try {
      mkdirSync(join(dir, "repo", "scripts"), { recursive: true });
      copyFileSync(join(ROOT, "scripts/k6-smoke.sh"), join(dir, "repo", "scripts", "k6-smoke.sh"));
      const env = { PATH: "/usr/bin:/bin", HOME: dir };
      const ci = await run("/bin/bash", [join(dir, "repo", "scripts", "k6-smoke.sh"), "--if-available"], env);
      expect(ci.code).toBe(0);
      expect(ci.stdout).toMatch(NO_K6);
      expect(ci.stdout.trim().split("\n")).toHaveLength(1);
      const asked = await run("/bin/bash", [join(dir, "repo", "scripts", "k6-smoke.sh")], env);
      expect(asked.code).toBe(3);
      expect(asked.stdout).toMatch(NO_K6);
      const wrong = await run("/bin/bash", [join(dir, "repo", "scripts", "k6-smoke.sh")], { ...env, K6_BIN: join(dir, "nope") });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain("is not an executable file");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("k6 inspects every scenario, or the runner says no k6 was found", async () => {
    const which = await run("/bin/bash", [join(ROOT, "scripts/k6-smoke.sh"), "--which"], { ...process.env, K6_BIN: process.env.K6_BIN });
    if (which.code !== 0) {
      expect(which.stdout).toMatch(NO_K6);
      return;
    }
    const k6 = which.stdout.trim();
    // Every scenario at smoke, viewers at load (k6 0.48 compiles each script with Babel: 2-3 s of CPU
    // per inspect, far more on a busy host; one at a time, so the test files running beside this one
    // keep a core). Profiles are tables of numbers in a script.
    const jobs = [...SCENARIOS.map((scenario) => [scenario, "smoke"]), ["viewers", PROFILES[1]]];
    const inspect = async ([scenario, profile]: string[]) => {
      const r = await run(k6, ["inspect", "-e", `PROFILE=${profile}`, "-e", "ADMIN_TOKEN=inspect-only", join(K6_DIR, `${scenario}.js`)], { PATH: process.env.PATH, HOME: process.env.HOME, K6_NO_USAGE_REPORT: "true" });
      expect(r.code, `${scenario} at ${profile}: ${r.stderr}`).toBe(0);
      const options = JSON.parse(r.stdout) as { scenarios: Record<string, unknown>; thresholds: Record<string, unknown[]>; summaryTrendStats: string[] };
      expect(Object.keys(options.scenarios).length, `${scenario} scenarios`).toBeGreaterThan(0);
      expect(Object.keys(options.thresholds).length, `${scenario} thresholds`).toBeGreaterThan(3);
      expect(options.summaryTrendStats).toContain("p(99)");
    };
    for (const job of jobs) await inspect(job);
    // A bad option stops the run before any load, naming the option.
    const bad = await run(k6, ["inspect", "-e", "PROFILE=huge", join(K6_DIR, "viewers.js")], { PATH: process.env.PATH, HOME: process.env.HOME });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain("-e PROFILE=huge: expected one of smoke, load, stress");
  }, 300_000);

  it("imports message names only from the generated protocol bundle, which is src/protocol/client.ts", async () => {
    const bundle = (await import(pathToFileURL(join(K6_DIR, "lib/protocol.js")).href)) as Record<string, unknown>;
    // The source the bundle is built from (`npm run build:clients`), loaded the same way.
    const client = (await import(pathToFileURL(join(ROOT, "src/protocol/client.ts")).href)) as Record<string, unknown> & { SERVER_MESSAGE_TYPES: string[]; COMMAND_TYPES: string[] };
    const runtime = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined).sort();
    expect(runtime(bundle)).toEqual(runtime(client));
    for (const name of ["COMMAND", "EVENT", "STATE", "REPLY", "SNAPSHOT", "BATCH", "ERRORS", "CLOSE_CODES"]) {
      expect(bundle[name], name).toEqual(client[name]);
    }
    const names = new Set<string>([...client.SERVER_MESSAGE_TYPES, ...client.COMMAND_TYPES]);
    for (const file of k6Sources()) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']*protocol\.js)'/g)) {
        for (const imported of m[1]!.split(",").map((s) => s.trim()).filter(Boolean)) expect(bundle, `${file} imports ${imported}`).toHaveProperty(imported);
      }
      // A message `type` compared or built from a literal would be a second copy of the protocol.
      for (const m of text.matchAll(/type\s*(?:[!=]==|:)\s*['"`]([a-z_]+)['"`]/g)) {
        expect(names.has(m[1]!), `${file}: type '${m[1]}' written out instead of taken from protocol.js`).toBe(false);
      }
    }
  });
});
