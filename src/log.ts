import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Fields of an error that say what failed without carrying what was sent: codes, PostgreSQL's
 * routine and names, the statement text (its values are `$n` placeholders). Everything else an
 * error carries (drizzle's `params`, postgres.js's `parameters`, `detail` with a duplicate key's
 * value, ioredis's `command.args`, a WeChat answer) is left out.
 */
const SAFE_ERROR_FIELDS = ["code", "errno", "syscall", "severity", "routine", "schema_name", "table_name", "column_name", "constraint_name", "query", "status", "statusCode"] as const;

/** drizzle writes a failed statement's values into its message and stack: "…\nparams: a,b,c". */
const scrub = (text: string) => text.replace(/\nparams: [^\n]*/g, "\nparams: [redacted]");

type ErrorLike = Error & Record<string, unknown>;
const isErrorLike = (v: unknown): v is ErrorLike => typeof v === "object" && v !== null && typeof (v as { message?: unknown }).message === "string";

/** An error as the log shows it: type, message (with its causes'), stack and the safe fields; never a parameter value. */
export function serializeError(err: unknown): unknown {
  if (typeof err === "string") return scrub(err);
  if (!isErrorLike(err)) return err;
  const chain: ErrorLike[] = [];
  for (let e: unknown = err; isErrorLike(e) && chain.length < 5 && !chain.includes(e); e = e.cause) chain.push(e);
  const out: Record<string, unknown> = {
    type: err.constructor?.name ?? err.name,
    message: chain.map((e) => scrub(e.message)).join(": "),
    stack: scrub(err.stack ?? ""),
  };
  for (const e of chain) {
    for (const k of SAFE_ERROR_FIELDS) {
      const v = e[k];
      if (out[k] === undefined && (typeof v === "string" || typeof v === "number")) out[k] = typeof v === "string" ? v.slice(0, 2000) : v;
    }
  }
  return out;
}

/** Secrets and personal data that must never be written, wherever a caller put them (one level deep). */
const REDACT = ["token", "tokenHash", "authorization", "sessionKey", "session_key", "phone", "openid", "unionid", "apiV3Key", "privateKey"].flatMap((k) => [k, `*.${k}`]);

/** The process logger: JSON lines on stdout, one child per subsystem; errors and secrets are made safe to keep. */
export function createLogger(level: string, nodeId: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { node: nodeId },
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: REDACT, censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
