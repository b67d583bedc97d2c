// What a PostgreSQL error says about the write that met it: which SQLSTATE, and whether the write
// surely did not commit (PostgreSQL answered, or was never reached) or its outcome is unknown.

/** Commit's outcome is not known (the connection broke after the commit, or a statement that is its own, was sent). */
export class CommitUnknown extends Error {
  constructor(cause: unknown) {
    super("the commit's outcome is unknown", { cause });
  }
}

export const sqlState = (err: unknown) => (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
export const isUniqueViolation = (err: unknown) => sqlState(err) === "23505";
/** PostgreSQL itself answered with this error: the statement it answers did not commit. */
export const answeredByServer = (err: unknown) => [err, (err as { cause?: unknown }).cause].some((e) => typeof (e as { severity?: unknown } | undefined)?.severity === "string");
/** No connection could be made: the statement never reached PostgreSQL. */
const NEVER_SENT = new Set(["ECONNREFUSED", "CONNECT_TIMEOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
export const neverSent = (err: unknown) => NEVER_SENT.has(sqlState(err) ?? "");
/** A lock was not had within the transaction's lock_timeout (`lockSale` with `waitMs`). */
export const isLockTimeout = (err: unknown) => sqlState(err) === "55P03";
