import type { Db } from "../db/client.js";
import { findUserBySession } from "../db/users.repo.js";
import type { Identity } from "../realtime/client.js";

export type Authenticate = (token: string) => Promise<Identity | null>;

/** Resolves a session token to the user the server has on record; the client's claims play no part. */
export function createAuthenticator(db: Db): Authenticate {
  return async (token) => {
    if (token.length < 16 || token.length > 200) return null;
    const user = await findUserBySession(db, token);
    return user ? { userId: user.id, username: user.nickname, admin: user.role === "admin" } : null;
  };
}

/** The token from `Authorization: Bearer …`, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1]! : null;
}
