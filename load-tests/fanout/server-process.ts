import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { BUILT_NODE_ARGS, BUILT_SERVER, ensureServerBuild } from "../../scripts/build-server.js";

/** Every child still running; bench.ts kills them all on exit. */
export const children = new Set<ChildProcess>();

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Resident set size of a live process, in bytes; NaN once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system, all threads) of a live process, in seconds; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Percent of all cores busy over the next second, other processes included: a noisy host skews every figure. */
export async function hostBusy(): Promise<number> {
  const read = () => {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = read();
    await sleep(1000);
    const b = read();
    return 100 * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total));
  } catch {
    return NaN;
  }
}

export type Server = {
  pid: number;
  base: string;
  /** The last lines the server printed (stdout and stderr), for diagnosis. */
  tail: string[];
  /** pino lines at level warn (40) or above, by msg. */
  warnings: Map<string, number>;
  stop: () => Promise<void>;
};

/**
 * Runs `node [nodeArgs] <file>` (with `--import tsx` for a `.ts` file, with source maps for the built
 * server, built first when `src/` is newer) so the child's pid is the server's; resolves once GET
 * /readyz answers 200.
 */
export async function startServer(
  root: string,
  file: string,
  env: Record<string, string>,
  readyMs: number,
  nodeArgs: string[] = [],
): Promise<Server> {
  const port = await freePort();
  if (file === BUILT_SERVER) await ensureServerBuild(root);
  const loader = file.endsWith(".ts") ? ["--import", "tsx"] : BUILT_NODE_ARGS;
  const child = spawn(process.execPath, [...nodeArgs, ...loader, file], {
    cwd: root,
    env: { ...process.env, INGEST_ENABLED: "false", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => children.delete(child));
  const tail: string[] = [];
  const warnings = new Map<string, number>();
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    try {
      const rec = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (typeof rec.level === "number" && rec.level >= 40) {
        const key = `${rec.level >= 50 ? "error" : "warn"}: ${String(rec.msg)}`;
        warnings.set(key, (warnings.get(key) ?? 0) + 1);
      }
    } catch {
      // not JSON: kept in tail only
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buf = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      if (buf.length > 64 * 1024) buf = "";
    });
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      child.kill("SIGTERM");
      const killed = await Promise.race([exited.then(() => true), sleep(8000).then(() => false)]);
      if (!killed) child.kill("SIGKILL");
      await Promise.race([exited, sleep(2000)]);
    }
  };
  const base = `127.0.0.1:${port}`;
  const deadline = Date.now() + readyMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const res = await fetch(`http://${base}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return { pid: child.pid ?? -1, base, tail, warnings, stop };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`${file} was not ready within ${readyMs} ms (exit ${child.exitCode ?? child.signalCode}):\n  ${tail.slice(-15).join("\n  ")}`);
}
