import { openDatabase } from "../../src/db/client.js";
import { createSession, createUser } from "../../src/db/users.repo.js";
import { createStaffAccount } from "../../src/staff/staff.service.js";

/** An admin and a session token for them, made straight in the database (no endpoint mints admins). */
export async function adminToken(databaseUrl: string) {
  const database = await openDatabase({ url: databaseUrl, dataDir: "" });
  try {
    const user = await createUser(database.db, { nickname: "Admin", role: "admin" });
    return (await createSession(database.db, user.id, 3600)).token;
  } finally {
    await database.close();
  }
}

/** A staff account (host or admin) with a password, made straight in the database, as `npm run admin` does. */
export async function staffAccount(databaseUrl: string, input: { username: string; password: string; role: "host" | "admin"; nickname?: string }) {
  const database = await openDatabase({ url: databaseUrl, dataDir: "" });
  try {
    return await createStaffAccount(database.db, { nickname: input.username, ...input });
  } finally {
    await database.close();
  }
}
