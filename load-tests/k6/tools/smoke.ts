// npm run k6:smoke (through scripts/k6-smoke.sh, which finds k6 and the services): starts a server on a
// fresh PostgreSQL database and Redis prefix, runs each k6 scenario at PROFILE=smoke against it, draws
// each summary, and fails when any scenario crossed a threshold or did not run.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { adminToken } from "../../../test/support/admin.js";
import { createTestDatabase } from "../../../test/support/databases.js";
import { startServer } from "../../fanout/server-process.js";
import { BUILT_SERVER } from "../../../scripts/build-server.js";
import { deleteKeys } from "../../shared/redis.js";
import { log, message, runGuard } from "../../shared/run-guard.js";
import { chartSummaryFile } from "./charts.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SCENARIOS = ["viewers", "chat", "host", "flash-rush", "group-race", "reconnect-storm"] as const;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SCENARIO_CAP_MS = 5 * 60_000;
/**
 * In CI a scenario that crossed a threshold runs once more, like a failed vitest test, and is named
 * FLAKY when the second run passes (ARCHITECTURE.md "Known flaky": a socket sometimes closes with 1006
 * just after it opened). A script or set-up failure is not retried.
 */
const RETRIES = process.env.CI ? 1 : 0;

type Outcome = { scenario: string; code: number | null; seconds: number; flaky?: boolean };

/** k6's exit code in words. */
function verdict(code: number | null): string {
  if (code === 0) return "pass";
  if (code === 99) return "FAIL (thresholds crossed)";
  if (code === null) return "FAIL (killed: over time)";
  return `FAIL (k6 exit ${code}: the script or its setup failed)`;
}

function runK6(k6: string, scenario: string, env: Record<string, string>): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(k6, ["run", "--quiet", `load-tests/k6/${scenario}.js`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: "inherit" });
    const timer = setTimeout(() => child.kill("SIGKILL"), SCENARIO_CAP_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ scenario, code, seconds: (Date.now() - started) / 1000 });
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      log(`k6 smoke: cannot run ${k6}: ${message(err)}`);
      resolve({ scenario, code: -1, seconds: 0 });
    });
  });
}

const guard = runGuard("k6 smoke");

guard.run(async () => {
  const k6 = process.env.K6_BIN;
  if (!k6) throw new Error("K6_BIN is not set: run `npm run k6:smoke` (scripts/k6-smoke.sh finds k6)");
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(SCENARIOS as readonly string[]).includes(w));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${SCENARIOS.join(", ")}`);
  const scenarios = wanted.length > 0 ? wanted : [...SCENARIOS];
  guard.deadline(scenarios.length * SCENARIO_CAP_MS + 120_000);

  const summaryDir = process.env.SUMMARY_DIR ?? "load-tests/k6/results";
  mkdirSync(join(ROOT, summaryDir), { recursive: true });
  const prefix = `k6smoke-${randomBytes(4).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "pinlive-k6-smoke-"));
  guard.undo(() => rmSync(dataDir, { recursive: true, force: true }));
  const database = await createTestDatabase("pinlive_k6smoke");
  guard.undo(() => database.drop());
  guard.undo(() => deleteKeys(REDIS_URL, `${prefix}*`));
  // Every VU comes from this machine's one address: no per-address or per-user sign-in and order limits.
  const unlimited = { RATE_LIMIT_LOGIN_PER_IP_PER_MIN: "1000000", RATE_LIMIT_LOGIN_PER_USER_PER_MIN: "1000000", RATE_LIMIT_ORDERS_PER_IP_PER_MIN: "1000000", RATE_LIMIT_ORDERS_PER_USER_PER_MIN: "1000000", WS_MAX_CONNECTIONS_PER_IP: "0" };
  const env = { NODE_ENV: "development", LOG_LEVEL: "warn", REDIS_URL, REDIS_PREFIX: prefix, DATABASE_URL: database.url, DATA_DIR: dataDir, ...unlimited };
  const server = await startServer(ROOT, BUILT_SERVER, env, 90_000);
  guard.undo(() => server.stop());
  const admin = await adminToken(database.url);
  log(`k6 smoke: server on http://${server.base} (database ${new URL(database.url).pathname.slice(1)}, Redis prefix ${prefix}); ${scenarios.length} scenario(s) at PROFILE=smoke`);

  const outcomes: Outcome[] = [];
  for (const scenario of scenarios) {
    guard.signal.throwIfAborted();
    log(`\n== k6 ${scenario}`);
    const scenarioEnv = { BASE_URL: `http://${server.base}`, ADMIN_TOKEN: admin, PROFILE: "smoke", SUMMARY_DIR: summaryDir, K6_NO_USAGE_REPORT: "true" };
    let outcome = await runK6(k6, scenario, scenarioEnv);
    for (let retry = 1; outcome.code === 99 && retry <= RETRIES; retry++) {
      guard.signal.throwIfAborted();
      log(`\n== k6 ${scenario}, run again (retry ${retry} of ${RETRIES}): thresholds crossed`);
      const again = await runK6(k6, scenario, scenarioEnv);
      outcome = { ...again, seconds: outcome.seconds + again.seconds, flaky: again.code === 0 };
    }
    outcomes.push(outcome);
    const json = join(ROOT, summaryDir, `${scenario}.json`);
    if (existsSync(json)) {
      try {
        log(`chart: ${chartSummaryFile(json)}`);
      } catch (err) {
        log(`chart: ${scenario}: ${message(err)}`);
      }
    }
  }

  const warnings = [...server.warnings].map(([k, n]) => `${k} ×${n}`);
  log("\nk6 smoke: scenario           result");
  for (const o of outcomes) log(`           ${o.scenario.padEnd(18)} ${verdict(o.code)}${o.flaky ? ", FLAKY (passed on retry)" : ""} (${o.seconds.toFixed(0)} s)`);
  if (warnings.length > 0) log(`server warn/error logs: ${warnings.join("; ")}`);
  const failed = outcomes.filter((o) => o.code !== 0);
  log(
    failed.length === 0
      ? `k6 smoke: all ${outcomes.length} scenarios passed their thresholds (summaries in ${summaryDir})`
      : `k6 smoke: ${failed.length} of ${outcomes.length} failed: ${failed.map((o) => o.scenario).join(", ")} (summaries in ${summaryDir})`,
  );
  await guard.cleanUp();
  if (failed.length > 0) process.exitCode = 1;
});
