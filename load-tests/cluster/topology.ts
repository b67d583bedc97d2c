import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "../../test/support/databases.js";
import { startRedisCluster } from "../../test/cluster/support/local-cluster.js";
import { children, freePort, startServer, type Server } from "../fanout/server-process.js";
import { BUILT_SERVER } from "../../scripts/build-server.js";
import { benchRedis } from "../shared/redis.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** pinlive nodes on one Redis setup, with the pids whose CPU the report shows. */
export type Topology = {
  title: string;
  nodes: Server[];
  /** Each Redis master's pid (the standalone server's, or each shard's). */
  redisPids: number[];
  stop: () => Promise<void>;
};

/** What the servers need to take any load the bench offers without refusing it: no rate limits, no sampling. */
const SERVER_ENV = {
  NODE_ENV: "development",
  LOG_LEVEL: "warn",
  ROOM_TTL_SEC: "3600",
  COMMENT_RATE_PER_SEC: "100000",
  COMMENT_BURST: "100000",
  ROOM_READABLE_COMMENTS_PER_SEC: "1000000",
  WS_MAX_CONNECTIONS_PER_IP: "0",
  WS_SOFT_BACKPRESSURE_BYTES: "33554432",
  WS_MAX_BACKPRESSURE_BYTES: "67108864",
  JOBS_WORKER: "false",
};

/** A private redis-server as the cluster's nodes run (no persistence, hz 50), so one Redis and a shard compare fairly. */
async function standaloneRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--hz", "50"], { stdio: "ignore" });
  children.add(child);
  const redis = benchRedis(`redis://127.0.0.1:${port}`);
  for (let i = 0; ; i++) {
    try {
      await redis.connect();
      await redis.ping();
      break;
    } catch (err) {
      redis.disconnect();
      if (i > 50) throw err;
      await sleep(100);
    }
  }
  redis.disconnect();
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGKILL");
      children.delete(child);
      await sleep(100);
    },
  };
}

/**
 * `nodes` pinlive processes sharing a fresh PostgreSQL database and key prefix, on a private
 * standalone Redis (`shards: 0`) or a private Redis Cluster of 1 or 3 masters (each with a replica).
 */
export async function startTopology(o: { nodes: number; shards: 0 | 1 | 3; log: (msg: string) => void }): Promise<Topology> {
  const undo: (() => Promise<unknown>)[] = [];
  let stopping: Promise<void> | null = null;
  /** Undoes everything, newest first, once (later calls wait for the first). */
  const stop = () =>
    (stopping ??= (async () => {
      for (const step of undo.reverse()) await step().catch(() => undefined);
    })());
  try {
    const database = await createTestDatabase("pinlive_bench");
    undo.push(() => database.drop());
    let redisEnv: Record<string, string>;
    let redisPids: number[];
    let title: string;
    if (o.shards === 0) {
      const redis = await standaloneRedis();
      undo.push(redis.stop);
      redisEnv = { REDIS_URL: redis.url };
      redisPids = [redis.pid];
      title = `${o.nodes} node(s), one Redis`;
    } else {
      const cluster = await startRedisCluster({ masters: o.shards });
      undo.push(() => cluster.stop());
      redisEnv = { REDIS_CLUSTER_NODES: cluster.nodesEnv };
      redisPids = (await cluster.nodes()).filter((n) => n.master).map((n) => cluster.pid(n.port));
      title = `${o.nodes} node(s), Redis Cluster of ${o.shards} shard(s)`;
    }
    const prefix = `bench-${randomBytes(4).toString("hex")}`;
    const nodes: Server[] = [];
    for (let i = 0; i < o.nodes; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), "pinlive-bench-"));
      undo.push(() => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })));
      const env = { ...SERVER_ENV, ...redisEnv, REDIS_PREFIX: prefix, NODE_ID: `bench-${i}`, DATABASE_URL: database.url, DATA_DIR: dataDir };
      // One at a time: the first migrates the database.
      const server = await startServer(ROOT, BUILT_SERVER, env, 120_000);
      undo.push(() => server.stop());
      nodes.push(server);
      o.log(`  node ${i} ready at ${server.base}`);
    }
    return { title, nodes, redisPids, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
