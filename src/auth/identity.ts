/** Who is behind a request or a connection, from the server's own records; null for an anonymous caller. */
export interface Identity {
  userId: string;
  username: string;
  admin: boolean;
  /** The session it came from: its id (the token's hash), when it expires and when it was found valid (ms). */
  session?: { hash: string; expiresAt: number; checkedAt: number };
}

/** Resolves a session token to the user the server has on record, or null (unknown, expired, disabled). */
export type Authenticate = (token: string) => Promise<Identity | null>;
