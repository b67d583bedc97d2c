import { pino, type Logger } from "pino";

export type { Logger };

/** The process logger: JSON lines on stdout, one child per subsystem. */
export function createLogger(level: string, nodeId: string): Logger {
  return pino({ level, base: { node: nodeId } });
}
