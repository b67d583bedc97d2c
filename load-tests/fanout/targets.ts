import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createTestDatabase } from "../../test/support/databases.js";
import { BUILT_SERVER } from "../../scripts/build-server.js";
import type { TargetName } from "./options.js";
import { socketIoSender, wsSender, type Sender } from "./senders.js";

/** Where viewers connect and the open sender connections of one room. */
export type Room = { client: "ws" | "socketio"; viewerUrl: string; senders: Sender[] };

export type Target = {
  name: TargetName;
  title: string;
  file: string;
  env: Record<string, string>;
  readyMs: number;
  open: (base: string, senders: number) => Promise<Room>;
  /** The server's own figures since the previous call (hub: event-loop lag, drops from /metrics); never throws. */
  probe?: (base: string) => Promise<Record<string, number>>;
  /** Removes whatever the run left outside the process (data dir, Redis keys); never throws. */
  cleanup: () => Promise<void>;
};

const CONNECT_MS = 10_000;
/** The hub's tick (its default), given to the hub and to the batching baseline alike. */
const HUB_TICK_MS = 50;
/** Temp dirs still to delete; bench.ts removes them on exit. */
export const tempDirs = new Set<string>();

async function post<T>(base: string, path: string, body: object, token?: string): Promise<T> {
  const res = await fetch(`http://${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST ${path} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

const PICKED = /^(nodejs_eventloop_lag_(?:p99|max)_seconds|pinlive_dropped_total\{reason="\w+"\}|pinlive_slow_consumer_closed_total) (\S+)$/;

/** Event-loop lag (reset by every scrape) and, from the hub, the cumulative drop counters of a server's /metrics. */
async function scrapeMetrics(base: string): Promise<Record<string, number>> {
  try {
    const res = await fetch(`http://${base}/metrics`, { signal: AbortSignal.timeout(5000) });
    const out: Record<string, number> = {};
    for (const line of (await res.text()).split("\n")) {
      const m = PICKED.exec(line);
      if (m) out[m[1]!.replace("_seconds", "_ms")] = m[1]!.endsWith("_seconds") ? Number(m[2]) * 1000 : Number(m[2]);
    }
    return out;
  } catch {
    return {};
  }
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  redis.on("error", () => undefined);
  const deadline = Date.now() + 10_000;
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0" && Date.now() < deadline);
  } catch {
    // best effort: the keys expire on their own
  } finally {
    redis.disconnect();
  }
}

/**
 * A fresh PostgreSQL database for one hub run, so the server's RSS is the hub's own (the embedded
 * PGlite default costs ~600 MB of its own). Null when PostgreSQL is not reachable: PGlite then.
 */
async function createBenchDatabase() {
  try {
    return await createTestDatabase("pinlive_bench");
  } catch {
    return null;
  }
}

async function hub(name: "hub" | "hub-single", batch: boolean): Promise<Target> {
  const prefix = `bench-${randomBytes(4).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "pinlive-bench-"));
  tempDirs.add(dataDir);
  const redisUrl = "redis://127.0.0.1:6379";
  const database = await createBenchDatabase();
  return {
    name,
    title: batch ? "pinlive hub, ?batch=1 (one frame per 50 ms tick)" : "pinlive hub, one frame per event",
    file: BUILT_SERVER,
    readyMs: 90_000,
    env: {
      NODE_ENV: "development",
      LOG_LEVEL: "warn",
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      ROOM_TTL_SEC: "3600",
      HUB_TICK_MS: String(HUB_TICK_MS),
      DATA_DIR: dataDir,
      ...(database ? { DATABASE_URL: database.url } : {}),
      COMMENT_RATE_PER_SEC: "100000",
      COMMENT_BURST: "100000",
      ROOM_READABLE_COMMENTS_PER_SEC: "1000000",
      WS_MAX_BACKPRESSURE_BYTES: "67108864",
      WS_SOFT_BACKPRESSURE_BYTES: "33554432",
      WS_MAX_CONNECTIONS_PER_IP: "0",
    },
    open: async (base, count) => {
      const host = await post<{ token: string }>(base, "/v1/dev/sessions", { nickname: "bench-host" });
      const { streamId } = await post<{ streamId: string }>(base, "/v1/dev/streams", { title: "bench" }, host.token);
      const tokens = [host.token];
      for (let i = 1; i < count; i++) {
        tokens.push((await post<{ token: string }>(base, "/v1/dev/sessions", { nickname: `bench-sender-${i}` })).token);
      }
      const room = `ws://${base}/live-stream/${encodeURIComponent(streamId)}/ws`;
      const q = batch ? "&batch=1" : "";
      const senders = await Promise.all(tokens.map((t) => wsSender(`${room}?token=${encodeURIComponent(t)}${q}`, CONNECT_MS)));
      return { client: "ws", viewerUrl: batch ? `${room}?batch=1` : room, senders };
    },
    probe: scrapeMetrics,
    cleanup: async () => {
      await deleteKeys(redisUrl, prefix);
      await database?.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      tempDirs.delete(dataDir);
    },
  };
}

/** The bare uWS.js baseline: batchMs 0 publishes each comment, otherwise one batch frame per tick. */
function bareUws(name: "uws" | "uws-batch", batchMs: number): Target {
  return {
    name,
    title: batchMs > 0 ? `bare uWS.js, one batch frame per ${batchMs} ms tick` : "bare uWS.js, app.publish per comment",
    file: "load-tests/fanout/baseline.uws.ts",
    readyMs: 20_000,
    env: { BATCH_MS: String(batchMs) },
    open: async (base, count) => ({
      client: "ws",
      viewerUrl: `ws://${base}/ws`,
      senders: await Promise.all(Array.from({ length: count }, () => wsSender(`ws://${base}/ws?sender=1`, CONNECT_MS))),
    }),
    probe: scrapeMetrics,
    cleanup: () => Promise.resolve(),
  };
}

/** The targets by name; hub targets get a fresh data dir and Redis prefix each. */
export async function makeTarget(name: TargetName): Promise<Target> {
  switch (name) {
    case "hub":
      return hub("hub", true);
    case "hub-single":
      return hub("hub-single", false);
    case "uws":
      return bareUws(name, 0);
    case "uws-batch":
      return bareUws(name, HUB_TICK_MS);
    case "socketio":
      return {
        name,
        title: "plain socket.io on node:http, io.to(room).emit per comment",
        file: "load-tests/fanout/baseline.socketio.ts",
        readyMs: 20_000,
        env: {},
        open: async (base, count) => ({
          client: "socketio",
          viewerUrl: `http://${base}`,
          senders: await Promise.all(Array.from({ length: count }, () => socketIoSender(`http://${base}`, CONNECT_MS))),
        }),
        cleanup: () => Promise.resolve(),
      };
  }
}
