import { mkdirSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { Sql as PostgresClient, TransactionSql } from "postgres";
import * as schema from "./schema.js";
import type { Logger } from "../log.js";
import { isOutage } from "../unavailable.js";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * Sends a drizzle query now. Drizzle's queries are lazy (they run when `then` is called) and
 * `await query` calls `then` a microtask later, so queries sent in one transaction without waiting
 * for each other's answers reach PostgreSQL in the order they were written, and take their row
 * locks in that order, only when each is sent with this.
 */
export const sendNow = <T>(query: PromiseLike<T>): Promise<T> => new Promise<T>((resolve, reject) => void query.then(resolve, reject));

/** The rows of `db.execute`'s answer: postgres.js answers an array of rows, PGlite `{ rows }`. */
export const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];

/** An open database with the schema migrated; `close` ends every connection. */
export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  ping(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATION_LOCK = 7_406_001;
const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

export interface DatabaseOptions {
  url: string | null;
  dataDir: string;
  /** A connection not established within this fails (CONNECT_TIMEOUT); postgres.js would wait 30 s. */
  connectTimeoutSec?: number;
  /**
   * A busy connection that hears nothing from PostgreSQL for this long is cut (its query fails,
   * ETIMEDOUT); PostgreSQL's own statement_timeout is 80 % of it, so a slow query is cancelled
   * cleanly first. Idle connections are closed before it. Unset: no limit (tools, tests).
   */
  queryTimeoutMs?: number;
  log?: Logger;
}

/** Where a PostgreSQL URL points, without its password: "host:port/database". */
export function describeDatabase(url: string) {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

/** PostgreSQL when a URL is given, otherwise embedded PGlite under dataDir. Migrations run first. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    const where = describeDatabase(opts.url);
    const connectTimeout = opts.connectTimeoutSec ?? 30;
    opts.log?.info({ database: where, connectTimeoutSec: connectTimeout }, "connecting to PostgreSQL");
    const since = Date.now();
    const waiting = opts.log ? setInterval(() => opts.log!.warn({ database: where, waitedSec: Math.round((Date.now() - since) / 1000) }, "still waiting for PostgreSQL"), 5000) : null;
    // One connection holds an advisory lock so nodes starting together migrate one at a time.
    const migrator = postgres(opts.url, { max: 1, onnotice: () => {}, connect_timeout: connectTimeout });
    try {
      await migrator`select pg_advisory_lock(${MIGRATION_LOCK})`;
      await migrate(drizzle(migrator), { migrationsFolder });
    } catch (err) {
      if (!isOutage(err)) throw err;
      const code = (err as { code?: string }).code ?? (err as Error).message;
      throw new Error(`PostgreSQL at ${where.split("/")[0]} is not reachable (${code} after ${Math.round((Date.now() - since) / 1000)} s); check DATABASE_URL and that PostgreSQL is up`);
    } finally {
      if (waiting) clearInterval(waiting);
      await migrator.end({ timeout: 5 });
    }
    const timeoutMs = opts.queryTimeoutMs;
    const client = postgres(opts.url, {
      max: 10,
      onnotice: () => {},
      connect_timeout: connectTimeout,
      // Reconnect within a second when PostgreSQL comes back: postgres.js's default backoff, shared by
      // the pool and growing with every failed attempt, left queries waiting up to 20 s after a blip.
      backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 1),
      ...(timeoutMs
        ? {
            idle_timeout: (timeoutMs * 0.8) / 1000,
            connection: { statement_timeout: Math.round(timeoutMs * 0.8) },
            socket: (o: { host: string[]; port: number[]; path?: string | false }) => silenceCutter(o, timeoutMs),
          }
        : {}),
    });
    const db = drizzle(survivesLostConnections(preparedStatements(client)), { schema });
    return wrap(db, "postgres", () => client.end({ timeout: 5 }));
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const dir = `${opts.dataDir}/pglite`;
  mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return wrap(db, "pglite", () => client.close());
}

/**
 * A connection to PostgreSQL that is destroyed after `ms` without a byte either way: a black-holed
 * server or network never answers, and postgres.js has no query timeout of its own. The pool's
 * idle_timeout closes idle connections before this, so it cuts only busy ones.
 */
function silenceCutter(o: { host: string[]; port: number[]; path?: string | false }, ms: number): Socket {
  const socket = o.path ? netConnect(o.path) : netConnect(o.port[0]!, o.host[0]);
  socket.setTimeout(ms, () => socket.destroy(Object.assign(new Error(`PostgreSQL did not answer within ${ms} ms`), { code: "ETIMEDOUT" })));
  return socket;
}

/**
 * PostgreSQL cancelled the statement (57014: its statement_timeout, or a cancel request): an outage
 * to the caller (503), but the connection is healthy and rolls the transaction back at once.
 */
const cancelledByPostgres = (err: unknown) => (err as { code?: unknown } | null)?.code === "57014";

type Unsafe = (query: string, params?: unknown[], options?: Record<string, unknown>) => unknown;

/** `unsafe` that prepares: a named statement per query text on each connection (see `preparedStatements`). */
const prepared =
  (unsafe: Unsafe): Unsafe =>
  (query, params = [], options = {}) =>
    unsafe(query, params, { ...options, prepare: true });

/**
 * Drizzle sends every query through postgres.js' `unsafe` without preparing it, and postgres.js
 * then asks PostgreSQL to describe each statement with parameters before it can bind them: two
 * round trips, a parse and a plan for every query. Prepared, a query text is parsed and described
 * once per connection and runs in one round trip after (the order hot path's batch statements and
 * the session lookup have fixed texts; `inArray` lists and multi-row inserts make one statement per
 * length, a bounded set). Transactions get the same through `survivesLostConnections`. Behind a
 * pooler in transaction mode this needs PgBouncer ≥ 1.21 with `max_prepared_statements`.
 */
function preparedStatements<T extends PostgresClient>(client: T): T {
  return Object.assign(client, { unsafe: prepared(client.unsafe.bind(client) as Unsafe) });
}

/**
 * postgres.js 3.4 writes to a closed socket (a TypeError thrown from a timer: the process dies)
 * when a transaction's connection is lost and something still runs on it: its own ROLLBACK after
 * the callback failed, or the callback's next statement after an await that was not a query.
 * The transaction has already failed to its caller (and PostgreSQL rolled it back when the
 * connection went), so this leaves such a transaction's callback unsettled, and refuses its
 * later statements, instead of touching the dead connection. Only a failure of the transaction's
 * own connection does that: a callback that fails for another reason, Redis not answering or
 * PostgreSQL cancelling a statement (`cancelledByPostgres`) among them, is rolled back at once
 * (left unsettled, it held its locks until the connection was cut for silence,
 * DATABASE_QUERY_TIMEOUT_MS later).
 */
function survivesLostConnections<T extends PostgresClient>(client: T): T {
  const begin = client.begin.bind(client) as unknown as (...args: unknown[]) => Promise<unknown>;
  const never = new Promise<never>(() => {});
  const patched = (...args: unknown[]) => {
    const fn = args.at(-1) as (tx: TransactionSql) => Promise<unknown>;
    let lost: Error | null = null;
    /** A statement of this transaction failed as a lost connection does: its connection may be gone. */
    let connectionSuspect = false;
    const result = begin(...args.slice(0, -1), async (tx: TransactionSql) => {
      const guarded = new Proxy(tx, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== "unsafe" || typeof value !== "function") return value;
          const unsafe = prepared((value as Unsafe).bind(target));
          return (...a: Parameters<Unsafe>) => {
            if (lost === null) {
              const query = unsafe(...a) as Promise<unknown>;
              query.catch((err: unknown) => void (isOutage(err) && !cancelledByPostgres(err) && (connectionSuspect = true)));
              return query;
            }
            const failed = Promise.reject(lost);
            failed.catch(() => undefined);
            return Object.assign(failed, { values: () => failed });
          };
        },
      });
      try {
        return await fn(guarded);
      } catch (err) {
        if (lost !== null || connectionSuspect) return never;
        throw err;
      }
    });
    result.catch((err: unknown) => {
      if (isOutage(err)) lost = err instanceof Error ? err : new Error(String(err));
    });
    return result;
  };
  return Object.assign(client, { begin: patched });
}

function wrap(db: Db, kind: Database["kind"], close: () => Promise<void>): Database {
  return {
    db,
    kind,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close,
  };
}
