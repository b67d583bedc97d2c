import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import type { RedisTarget } from "../../../src/redis/connect.js";

const run = promisify(execFile);
const SCRIPT = new URL("../../../scripts/redis-cluster.sh", import.meta.url).pathname;
/** A cluster bus listens on its node's port + 10000: bases stay below Linux's ephemeral ports (32768+). */
const BASE_MIN = 11000;
const BASE_MAX = 22000;

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

async function freeBase() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = BASE_MIN + Math.floor(Math.random() * (BASE_MAX - BASE_MIN) / 10) * 10;
    const ports = [0, 1, 2, 3, 4, 5].flatMap((i) => [base + i, base + i + 10000]);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error("no free ports for a local Redis Cluster");
}

export interface ClusterNode {
  port: number;
  master: boolean;
  /** Slot ranges it serves (masters). */
  slots: [number, number][];
}

/**
 * A private Redis Cluster on loopback (scripts/redis-cluster.sh): 3 masters (or 1) with a replica
 * each, on free ports, with what tests and benchmarks do to it: find the master of a key, kill -9 a
 * node, wait for its replica to take over, read each node's pid.
 */
export async function startRedisCluster(o: { masters?: 1 | 3 } = {}) {
  const masters = o.masters ?? 3;
  const base = await freeBase();
  const dir = mkdtempSync(join(tmpdir(), "pinlive-cluster-"));
  const env = { ...process.env, PINLIVE_CLUSTER_DIR: dir, REDIS_CLUSTER_MASTERS: String(masters) };
  await run("bash", [SCRIPT, "start", String(base)], { env });
  const ports = Array.from({ length: masters * 2 }, (_, i) => base + i);
  const killed = new Set<number>();
  const alive = () => ports.filter((p) => !killed.has(p));

  /** One short-lived connection to one node. */
  const askNode = async <T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> => {
    const r = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
    r.on("error", () => {});
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  };
  /** The first live node that answers. */
  const ask = async <T>(fn: (r: Redis) => Promise<T>): Promise<T> => {
    let last: unknown;
    for (const port of alive()) {
      try {
        return await askNode(port, fn);
      } catch (err) {
        last = err;
      }
    }
    throw last instanceof Error ? last : new Error("no cluster node answered");
  };

  const cluster = {
    base,
    ports,
    /** REDIS_CLUSTER_NODES for servers: two seeds are enough (the client learns the rest). */
    nodesEnv: `127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`,
    masters,
    target: { url: "", cluster: { nodes: ports.slice(0, 2).map((port) => ({ host: "127.0.0.1", port })), username: null, password: null, tls: false } } satisfies RedisTarget,

    /** The cluster's view from a live node: who is master, which slots each serves (failed nodes left out). */
    async nodes(): Promise<ClusterNode[]> {
      const text = await ask((r) => r.call("CLUSTER", "NODES") as Promise<string>);
      return text
        .trim()
        .split("\n")
        .map((line) => line.split(" "))
        .filter((f) => !f[2]!.includes("fail"))
        .map((f) => ({
          port: Number(/:(\d+)@/.exec(f[1]!)![1]),
          master: f[2]!.includes("master"),
          slots: f.slice(8).filter((s) => /^\d+(-\d+)?$/.test(s)).map((s) => {
            const [a, b] = s.split("-").map(Number);
            return [a!, b ?? a!] as [number, number];
          }),
        }));
    },

    /** The slot of `key`, as the cluster computes it (CLUSTER KEYSLOT). */
    slotOf: (key: string) => ask((r) => r.call("CLUSTER", "KEYSLOT", key) as Promise<number>),

    /** The port of the master serving `key`'s slot now. */
    async masterOf(key: string) {
      const slot = await cluster.slotOf(key);
      const owner = (await cluster.nodes()).find((n) => n.master && n.slots.some(([a, b]) => slot >= a && slot <= b));
      if (!owner) throw new Error(`no master serves slot ${slot}`);
      return owner.port;
    },

    /** The pid of the redis-server on `port`. */
    pid: (port: number) => Number(readFileSync(join(dir, String(port), "redis.pid"), "utf8")),

    /** kill -9 of one Redis node, as when its machine dies. */
    kill(port: number) {
      process.kill(cluster.pid(port), "SIGKILL");
      killed.add(port);
    },

    /** Waits until a live master serves every slot `port` served and every live node says cluster_state:ok. */
    async waitForFailover(port: number, slots: [number, number][], timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const nodes = await cluster.nodes().catch(() => [] as ClusterNode[]);
        const served = (slot: number) => nodes.some((n) => n.master && n.port !== port && n.slots.some(([a, b]) => slot >= a && slot <= b));
        const states = await Promise.all(
          alive().map((p) => askNode(p, async (r) => /cluster_state:ok/.test(await (r.call("CLUSTER", "INFO") as Promise<string>))).catch(() => false)),
        );
        if (slots.every(([a, b]) => served(a) && served(b)) && states.every(Boolean)) return;
        if (Date.now() > deadline) throw new Error(`no replica took over ${port}'s slots in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },

    async stop() {
      await run("bash", [SCRIPT, "stop", String(base)], { env });
    },
  };
  return cluster;
}

export type LocalCluster = Awaited<ReturnType<typeof startRedisCluster>>;
