import { AppError } from "./protocol/errors.js";

/** Socket and postgres.js connection error codes: the service could not be reached or went away. */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
/**
 * ioredis's words for a connection that is down, gone or silent (no offline queue, command timeout),
 * and a Redis Cluster's while a shard fails over (slots not served, redirections running out, the
 * cluster reconnecting, a node still loading or a master just turned replica, and a MOVED that an
 * auto-pipelined batch could not follow: that command did not run).
 */
const REDIS_DOWN =
  /Stream isn't writeable|Connection is closed|Command timed out|Reached the max retries per request|^CLUSTERDOWN|^TRYAGAIN|^MOVED|^ASK|^LOADING|^READONLY|^MASTERDOWN|Too many Cluster redirections|Cluster isn't ready|None of startup nodes is available|Failed to refresh slots cache|Cluster is (?:ended|disconnected|disconnecting)/;

/**
 * True when `err` (or one of its causes) says PostgreSQL or Redis is unreachable rather than that
 * the request was wrong: connection errors, PostgreSQL's connection-exception class (08…),
 * `statement_timeout` and cancels (57014), shutdowns (57P01–57P03), too many connections (53300).
 */
export function isOutage(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 5 && typeof e === "object" && e !== null; i++, e = (e as { cause?: unknown }).cause) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || /^08/.test(code) || code === "57014" || /^57P0[123]$/.test(code) || code === "53300")) return true;
    if (name === "MaxRetriesPerRequestError") return true;
    if (typeof message === "string" && REDIS_DOWN.test(message)) return true;
  }
  return false;
}

/**
 * The one place unexpected errors become protocol errors: an AppError stays itself, an outage of
 * PostgreSQL or Redis is UNAVAILABLE (503, retryable), anything else is null (a bug: INTERNAL).
 */
export function asAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (isOutage(err)) return new AppError("UNAVAILABLE", "A service the server needs is unreachable right now; try again shortly.");
  return null;
}

/**
 * `p`, or UNAVAILABLE ("<what> did not answer in <ms> ms", with Retry-After when given) after `ms`;
 * `p` itself runs on. For a caller that must not wait longer for Redis or PostgreSQL than its bound.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, retryAfterSec?: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new AppError("UNAVAILABLE", `${what} did not answer in ${ms} ms.`, undefined, retryAfterSec)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
