import { AppError } from "../protocol/errors.js";
import { asAppError } from "../unavailable.js";
import { CLIENT_COMMAND_TYPES, ClientCommand, type Reply } from "../protocol/messages.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { RoomClient } from "./client.js";
import type { Hub } from "./hub.js";

const KNOWN_TYPES: ReadonlySet<string> = new Set(CLIENT_COMMAND_TYPES);

/** Validates a decoded client message; throws BAD_FRAME, UNKNOWN_TYPE or INVALID_PARAMS. */
export function parseCommand(raw: unknown): ClientCommand {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new AppError("BAD_FRAME", "A frame is a JSON object with a string `type`.");
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== "string") throw new AppError("BAD_FRAME", "A frame is a JSON object with a string `type`.");
  if (!KNOWN_TYPES.has(type)) throw new AppError("UNKNOWN_TYPE", `Unknown type "${type.slice(0, 40)}".`);
  const parsed = ClientCommand.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new AppError("INVALID_PARAMS", `Invalid ${type}: ${issues.map((i) => `${i.path} ${i.message}`).join("; ")}`, issues);
  }
  return parsed.data;
}

const correlationOf = (raw: unknown): string | undefined => {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === "string" && id.length <= 64 ? id : undefined;
};

export type ErrorFrame = Extract<Reply, { type: "error" }>;

export function toErrorFrame(err: unknown, id: string | undefined): ErrorFrame {
  const e = asAppError(err) ?? new AppError("INTERNAL");
  return id === undefined ? { type: "error", code: e.code, message: e.message } : { type: "error", code: e.code, message: e.message, id };
}

/**
 * Runs one decoded client message and answers through `reply`: the ack or pong when it succeeds,
 * an error frame for every failure. Never throws.
 */
export function dispatch(
  deps: { hub: Hub; log: Logger; metrics: Metrics },
  client: RoomClient,
  raw: unknown,
  reply: (message: Reply) => void,
) {
  let cmd: ClientCommand;
  try {
    cmd = parseCommand(raw);
  } catch (err) {
    deps.metrics.messagesIn.inc({ type: "invalid" });
    reply(toErrorFrame(err, correlationOf(raw)));
    return;
  }
  deps.metrics.messagesIn.inc({ type: cmd.type });
  deps.hub.handle(client, cmd).then(
    (r) => reply(r),
    (err: unknown) => {
      if (!(err instanceof AppError)) deps.log.error({ err, type: cmd.type }, "command failed");
      reply(toErrorFrame(err, cmd.id));
    },
  );
}
