import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema.js";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** An open database with the schema migrated; `close` ends every connection. */
export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  ping(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATION_LOCK = 7_406_001;
const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

/** PostgreSQL when a URL is given, otherwise embedded PGlite under dataDir. Migrations run first. */
export async function openDatabase(opts: { url: string | null; dataDir: string }): Promise<Database> {
  if (opts.url) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    // One connection holds an advisory lock so nodes starting together migrate one at a time.
    const migrator = postgres(opts.url, { max: 1, onnotice: () => {} });
    try {
      await migrator`select pg_advisory_lock(${MIGRATION_LOCK})`;
      await migrate(drizzle(migrator), { migrationsFolder });
    } finally {
      await migrator.end({ timeout: 5 });
    }
    const client = postgres(opts.url, { max: 10, onnotice: () => {} });
    const db = drizzle(client, { schema });
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
