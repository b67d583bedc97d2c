import { openDatabase } from "../../src/db/client.js";
import { createSession, createUser } from "../../src/db/users.repo.js";

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
