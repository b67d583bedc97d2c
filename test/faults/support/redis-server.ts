// A private redis-server process for one fault case: killed, restarted (with or without its data)
// and stopped by the case alone, so the machine's shared Redis is never touched.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./ports.js";

export type PrivateRedisOptions = {
  /** Append-only file with fsync on every write (`appendfsync always`): a kill -9 loses nothing acknowledged. */
  aof?: boolean;
};

/** Starts redis-server on a free loopback port with its own data folder. */
export async function startPrivateRedis(opts: PrivateRedisOptions = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "pinlive-redis-"));
  let child: ChildProcess | null = null;
  let output = "";

  const args = () => [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--dir", dir,
    "--save", "",
    "--appendonly", opts.aof ? "yes" : "no",
    "--appendfsync", "always",
    // BullMQ's delayed jobs wake with Redis's clock (STACK.md): hz 100 keeps due jobs on time.
    "--hz", "100",
    "--daemonize", "no",
    "--loglevel", "warning",
  ];

  async function up() {
    const c = spawn("redis-server", args(), { stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    c.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    c.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const killOnExit = () => c.kill("SIGKILL");
    process.once("exit", killOnExit);
    c.once("exit", () => process.off("exit", killOnExit));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`redis-server exited with ${c.exitCode}:\n${output}`);
      const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => {});
      try {
        await probe.connect();
        // Loading an AOF answers LOADING until it is done.
        if ((await probe.ping()) === "PONG") return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async function down(signal: NodeJS.Signals) {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill(signal);
    await exited;
  }

  await up();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? null;
    },
    /** kill -9: no shutdown, no final write; only what the AOF already holds survives. */
    kill: () => down("SIGKILL"),
    /** Starts again on the same port; `wipe` deletes its files first (the data is lost). */
    async start(o: { wipe?: boolean } = {}) {
      if (o.wipe) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
      }
      await up();
    },
    /** A client of this Redis (the caller disconnects it). */
    client: () => new Redis(port, "127.0.0.1"),
    async stop() {
      await down("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;
