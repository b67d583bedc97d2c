import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db/client.js";
import { createTestDatabase } from "./databases.js";

/** Both database drivers, for contract suites: a fresh PostgreSQL database, and PGlite in a fresh folder. */
export const databaseDrivers = [
  [
    "postgres",
    async () => {
      const db = await createTestDatabase();
      return { open: () => openDatabase({ url: db.url, dataDir: "" }), drop: db.drop };
    },
  ],
  [
    "pglite",
    () => {
      const dataDir = mkdtempSync(join(tmpdir(), "pinlive-pglite-"));
      return Promise.resolve({ open: () => openDatabase({ url: null, dataDir }), drop: () => Promise.resolve() });
    },
  ],
] as const;
