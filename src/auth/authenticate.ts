import type { Db } from "../db/client.js";
import { findSession } from "../db/users.repo.js";
import type { Authenticate } from "./identity.js";

/** Resolves a session token to the user the server has on record; the client's claims play no part. */
export function createAuthenticator(db: Db): Authenticate {
  return async (token) => {
    if (token.length < 16 || token.length > 200) return null;
    const found = await findSession(db, token);
    if (!found) return null;
    const { user } = found;
    return { userId: user.id, username: user.nickname, admin: user.role === "admin", session: { hash: found.tokenHash, expiresAt: found.expiresAt.getTime(), checkedAt: Date.now() } };
  };
}

/** The token from `Authorization: Bearer …`, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1]! : null;
}
