import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { adminDatabaseUrl } from "./env.js";

/** A fresh, empty PostgreSQL database (for one test file or bench run); `drop` removes it. */
export async function createTestDatabase(namePrefix = "pinlive_t") {
  const name = `${namePrefix}_${randomBytes(5).toString("hex")}`;
  const admin = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
