import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startServer, type RunningServer } from "../../src/server.js";
import { afterEach } from "vitest";
import { redisUrl } from "./env.js";
import { BUILT_NODE_ARGS, BUILT_SERVER } from "../../scripts/build-server.js";

export type EnvOverrides = Record<string, string>;

/** What every test server runs with: test mode, a free port, the test database and Redis prefix, no per-client limits. */
export const baseEnv = (databaseUrl: string, prefix: string): EnvOverrides => ({
  NODE_ENV: "test",
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "warn",
  REDIS_URL: redisUrl,
  REDIS_PREFIX: prefix,
  DATABASE_URL: databaseUrl,
  DATA_DIR: mkdtempSync(join(tmpdir(), "pinlive-test-")),
  // Every test client comes from 127.0.0.1: limits are tested where they are set (test/rate-limits.test.ts).
  RATE_LIMIT_LOGIN_PER_IP_PER_MIN: "1000000",
  RATE_LIMIT_LOGIN_PER_USER_PER_MIN: "1000000",
  RATE_LIMIT_ORDERS_PER_IP_PER_MIN: "1000000",
  RATE_LIMIT_ORDERS_PER_USER_PER_MIN: "1000000",
  RATE_LIMIT_UPLOADS_PER_IP_PER_MIN: "1000000",
  RATE_LIMIT_UPLOADS_PER_USER_PER_MIN: "1000000",
  WS_MAX_CONNECTIONS_PER_IP: "1000000",
});

/** The real server in this process, on a free port, against the machine's Redis and PostgreSQL. */
export async function startTestServer(databaseUrl: string, prefix: string, env: EnvOverrides = {}) {
  const config = loadConfig({ ...baseEnv(databaseUrl, prefix), ...env });
  const server = await startServer(config, createLogger(config.logLevel, config.nodeId));
  return { ...server, url: `http://127.0.0.1:${server.port}`, ws: `ws://127.0.0.1:${server.port}` };
}

export type TestServer = RunningServer & { url: string; ws: string };

/** Spawned servers still running, with the output they have written so far. */
const running = new Map<number, () => string>();

/** The warnings and errors (pino level 40 and up) in a server's output: the last `n` of them. */
export const warningsOf = (output: string, n = 20) => output.split("\n").filter((l) => /"level":(4|5|6)0\b/.test(l)).slice(-n);

// A test that fails says what the servers it spawned warned about: a server's side of a failure
// (a socket it closed, a request it refused) is otherwise printed only if the server exits.
afterEach((ctx) => {
  if (ctx.task.result?.state !== "fail") return;
  for (const [pid, output] of running) {
    const lines = warningsOf(output());
    process.stderr.write(`spawned server ${pid} while "${ctx.task.name}" failed: ${lines.length === 0 ? "no warning or error logged" : `its last warnings and errors:\n${lines.join("\n")}`}\n`);
  }
});

/** The port a server's output says it listens on (its "listening" log line), or null before that line. */
export function listeningPort(output: string): number | null {
  const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(output);
  return m ? Number(m[1]) : null;
}

/**
 * The real server as its own OS process, built as production runs it (`node dist/main.js`, built by
 * test/global-setup.ts); it must be listening within `startTimeoutMs`.
 */
export async function spawnServer(databaseUrl: string, prefix: string, env: EnvOverrides = {}, startTimeoutMs = 30_000) {
  const child: ChildProcess = spawn(process.execPath, [...BUILT_NODE_ARGS, BUILT_SERVER], {
    env: { ...process.env, ...baseEnv(databaseUrl, prefix), LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // A test run that dies (or a sibling server that fails to start) never leaves this one behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start:\n${output}`));
    }, startTimeoutMs);
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const port = listeningPort(output);
      if (port !== null) {
        clearTimeout(timer);
        resolve(port);
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  running.set(child.pid!, () => output);
  child.once("exit", () => running.delete(child.pid!));
  // A server that dies in the middle of a test says how: its exit and the end of its output.
  let stopping = false;
  child.once("exit", (code, signal) => {
    if (!stopping && code !== 0) process.stderr.write(`spawned server ${child.pid} exited unexpectedly (${code ?? signal}); its last output:\n${output.slice(-4000)}\n`);
  });
  return {
    port,
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    output: () => output,
    exitCode: () => child.exitCode,
    /** Resident memory of the server process in bytes. */
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    /** kill -9: no shutdown at all, as when a machine dies. */
    async kill() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export type SpawnedServer = Awaited<ReturnType<typeof spawnServer>>;
