// The database client's transactions against a real PostgreSQL: a statement PostgreSQL cancels for
// its statement_timeout is an error of a healthy connection, so its transaction rolls back at once
// and frees its locks; it is not mistaken for a lost connection (left to the silence cut).
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/support/databases.js";
import { openDatabase, type Database } from "./client.js";

describe("a transaction whose statement runs past statement_timeout", () => {
  let database: Database;
  let url = "";
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const created = await createTestDatabase();
    url = created.url;
    drop = created.drop;
    // statement_timeout is 80 % of the query timeout: 1,600 ms; the silence cut comes at 2,000 ms.
    database = await openDatabase({ url, dataDir: "", queryTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await database?.close();
    await drop();
  });

  it("fails with PostgreSQL's cancel (57014), rolled back: its lock is free and the pool's connection still serves", async () => {
    const lockKey = 740_600_999;
    const failed = database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${lockKey})`);
      await tx.execute(sql`select pg_sleep(30)`);
    });
    // The cancel itself, not the silence cut's ETIMEDOUT of a connection left waiting.
    await expect(failed).rejects.toMatchObject({ cause: { code: "57014" } });
    const other = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await other<{ free: boolean }[]>`select pg_try_advisory_lock(${lockKey}) as free`;
      expect(row!.free).toBe(true);
    } finally {
      await other.end();
    }
    expect(await database.db.execute(sql`select 1 as one`)).toEqual(expect.arrayContaining([{ one: 1 }]));
  });
});
