import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";

/** A standalone Redis or a Redis Cluster: every Redis user takes either (REDIS_CLUSTER_NODES picks). */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server (`url`), or a cluster's seed nodes (`cluster`, which wins when set). */
export type RedisTarget = Pick<Config["redis"], "url" | "cluster">;

export const isCluster = (client: RedisClient): client is Cluster => client.isCluster;

/** Failed health pings in a row after which a connection that still looks ready is dropped and made again. */
const SILENT_PINGS = 2;
/** How often a cluster client asks for the slot map (a failover is learned within this, or at the first MOVED). */
const SLOTS_REFRESH_MS = 2000;

export interface ClientOptions {
  /** Shown in CLIENT LIST as `pinlive-<name>-<nodeId>`. */
  name: string;
  nodeId: string;
  /** A command not answered in this time fails. Unset: no limit (blocking connections). */
  commandTimeoutMs?: number;
  /** Commands sent in one tick go out in one write (per cluster node on a cluster). */
  autoPipelining?: boolean;
  /**
   * The app's own connections: no offline queue (a command fails at once while Redis is away) and a
   * command in flight when its connection drops fails instead of being resent (on a cluster too, where
   * ioredis would otherwise resend it to the new master after a failover). Off: ioredis' defaults
   * (BullMQ's connections, which retry on their own).
   */
  failFast?: boolean;
  /** `maxRetriesPerRequest: null`, which BullMQ's blocking connections require. */
  blocking?: boolean;
  /** A connection silent this long is dropped and made again (for connections that cannot be pinged). */
  socketTimeoutMs?: number;
  /** Sharded pub/sub (SSUBSCRIBE): on a cluster, one subscriber connection per master that owns a subscribed slot. */
  subscriber?: boolean;
}

/**
 * The rush connection: what every request of a rush sends (route limits, the flash gate). Both gather
 * their own calls (one script call a tick, one every 20 ms), so a standalone Redis gets them as they
 * are; on a cluster the limits send one call per counter, which ioredis pipelines per node.
 */
export const rushConnection = (target: RedisTarget): Pick<ClientOptions, "autoPipelining"> => ({ autoPipelining: Boolean(target.cluster) });

/** Makes a client (not yet connected) for a standalone Redis or a cluster, with the same behaviour on both. */
export function createRedisClient(target: RedisTarget, o: ClientOptions): RedisClient {
  const failFast = o.failFast ?? false;
  const common: RedisOptions = {
    connectionName: `pinlive-${o.name}-${o.nodeId}`,
    lazyConnect: true,
    maxRetriesPerRequest: o.blocking ? null : 3,
    ...(o.commandTimeoutMs === undefined ? {} : { commandTimeout: o.commandTimeoutMs, connectTimeout: Math.max(o.commandTimeoutMs, 5000) }),
    ...(failFast ? { autoResendUnfulfilledCommands: false } : {}),
    ...(o.socketTimeoutMs === undefined ? {} : { socketTimeout: o.socketTimeoutMs }),
  };
  if (!target.cluster) {
    return new Redis(target.url, { ...common, ...(failFast ? { enableOfflineQueue: false } : {}), enableAutoPipelining: o.autoPipelining ?? false });
  }
  const { nodes, username, password, tls } = target.cluster;
  return new Cluster(nodes, {
    lazyConnect: true,
    enableAutoPipelining: o.autoPipelining ?? false,
    shardedSubscribers: o.subscriber ?? false,
    slotsRefreshInterval: SLOTS_REFRESH_MS,
    // A busy node answers CLUSTER SLOTS late; ioredis' 1 s default reports that as a node error.
    slotsRefreshTimeout: SLOTS_REFRESH_MS,
    // A node that closed with commands in flight rejects them with "Connection is closed", which
    // ioredis resends after `retryDelayOnFailover`: a script that hands out seqs could run twice.
    // MOVED, ASK, TRYAGAIN and CLUSTERDOWN (never run) are still followed.
    // Without an offline queue a command meets a node still connecting as a closed one, and so does
    // the ready check's CLUSTER INFO: `connectRedis` connects every node as soon as it is named and
    // pings every master before it returns.
    ...(failFast ? { enableOfflineQueue: false, retryDelayOnFailover: 0, enableReadyCheck: false } : {}),
    redisOptions: { ...common, ...(username ? { username } : {}), ...(password ? { password } : {}), ...(tls ? { tls: {} } : {}) },
  });
}

/**
 * Watches a connection that looks ready: when its PINGs go unanswered (a black-holed network, no
 * RST ever comes) it is disconnected and reconnects, instead of staying silent for the kernel's
 * retransmission timeout (many minutes). On a cluster each master's connection is watched; a silent
 * one is dropped and the slot map asked again. Not for blocking connections (their PING waits in line).
 */
export function watchSilence(client: RedisClient, name: string, timeoutMs: number, log: Logger) {
  const failures = new WeakMap<Redis, number>();
  const checking = new WeakSet<Redis>();
  const check = (conn: Redis) => {
    if (checking.has(conn) || conn.status !== "ready") return;
    checking.add(conn);
    let t: NodeJS.Timeout | undefined;
    Promise.race([conn.ping(), new Promise((_, reject) => (t = setTimeout(() => reject(new Error("timed out")), timeoutMs)))])
      .then(
        () => failures.set(conn, 0),
        () => {
          const n = (failures.get(conn) ?? 0) + 1;
          failures.set(conn, n);
          if (n < SILENT_PINGS || conn.status !== "ready") return;
          failures.set(conn, 0);
          log.warn({ connection: name, redisNode: `${conn.options.host}:${conn.options.port}` }, "redis connection silent; reconnecting");
          conn.disconnect(true);
          if (isCluster(client)) client.refreshSlotsCache();
        },
      )
      .finally(() => {
        clearTimeout(t);
        checking.delete(conn);
      });
  };
  const timer = setInterval(() => {
    if (client.status !== "ready") return;
    for (const conn of isCluster(client) ? client.nodes("master") : [client]) check(conn);
  }, Math.max(500, timeoutMs));
  timer.unref();
  client.once("end", () => clearInterval(timer));
}

/**
 * For readiness checks of connections that cannot be pinged on demand (subscribers): resolves when
 * the connection is up, fails naming its state otherwise. A subscriber still reconnecting after an
 * outage refuses new subscriptions at once (no offline queue), so a node is not ready until it is up.
 */
export function connectionUp(client: RedisClient): Promise<void> {
  return client.status === "ready" ? Promise.resolve() : Promise.reject(new Error(`connection ${client.status}`));
}

/**
 * Calls `fn` whenever subscriptions were made again after a loss (messages may have been missed
 * meanwhile): a standalone connection's reconnect, a cluster's reconnect, or a cluster's sharded
 * subscribers made again after a failover or a slot move.
 */
export function onResubscribed(subscriber: RedisClient, fn: () => void) {
  subscriber.on("ready", fn);
  if (isCluster(subscriber)) subscriber.on("subscribersReady", fn);
}

/** The pub/sub commands whose failures a subscriber connection reports itself (see `warnOnSubscribeFailures`). */
const SUBSCRIBE_COMMANDS = ["subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe"] as const;

/**
 * Some of a subscriber's subscribe commands are sent by code that never waits for them: ioredis
 * itself, subscribing again after a reconnect, and socket.io's Redis adapter, as its rooms come and
 * go. One that fails (Redis silent past the command timeout, the connection gone) would be an
 * unhandled rejection, which ends the process; it is logged at warn instead. Callers that wait for
 * the command still get its failure.
 */
function warnOnSubscribeFailures(client: RedisClient, name: string, log: Logger) {
  const commands = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const command of SUBSCRIBE_COMMANDS) {
    const send = commands[command]!.bind(client);
    commands[command] = (...args: unknown[]) => {
      const sent = send(...args);
      sent.catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err), command, connection: name }, "redis subscribe command failed"));
      return sent;
    };
  }
}

const describe = (target: RedisTarget) =>
  target.cluster ? `the Redis Cluster at ${target.cluster.nodes.map((n) => `${n.host}:${n.port}`).join(",")}` : `Redis at ${target.url}`;

/**
 * Connects and waits for the first PING (on a cluster: every master's); fails with a message that
 * says how to get a Redis. Commands in flight when a connection drops fail instead of being resent:
 * a script that hands out seqs or counts likes must never run twice. While Redis is away nothing
 * waits for it: a command fails at once when the connection is down (no offline queue) and after
 * `commandTimeoutMs` when Redis is silent (and a silent connection is made again).
 */
export async function connectRedis(
  target: RedisTarget,
  name: string,
  nodeId: string,
  log: Logger,
  opts: { commandTimeoutMs: number; autoPipelining?: boolean; subscriber?: boolean },
): Promise<RedisClient> {
  const client = createRedisClient(target, { name, nodeId, failFast: true, ...opts });
  client.on("error", (err: Error) => log.warn({ err: err.message, connection: name }, "redis error"));
  if (opts.subscriber) warnOnSubscribeFailures(client, name, log);
  if (isCluster(client)) {
    client.on("node error", (err: Error, node: string) => log.warn({ err: err.message, connection: name, redisNode: node }, "redis cluster node error"));
    // Connect each master as soon as the cluster names it (at start, after a failover): see above.
    client.on("+node", (node: Redis) => {
      if (node.status === "wait" && !node.options.readOnly) node.connect().catch(() => {});
    });
  }
  try {
    await client.connect();
    if (isCluster(client)) await Promise.all(client.nodes("master").map((n) => n.ping()));
    else await client.ping();
  } catch (err) {
    client.disconnect();
    throw new Error(
      `${describe(target)} is not reachable (${(err as Error).message}). Start one (Debian: apt-get install redis-server; ` +
        `redis-server --daemonize yes; a local cluster: scripts/redis-cluster.sh start), run 'npm run demo' which starts Redis for you, ` +
        `or set REDIS_URL / REDIS_CLUSTER_NODES.`,
    );
  }
  watchSilence(client, name, opts.commandTimeoutMs, log);
  return client;
}
