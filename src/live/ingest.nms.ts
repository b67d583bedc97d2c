// The parts of node-media-server 4 the ingest uses, typed. We use its protocol engine (RTMP and
// FLV sessions, the per-path broadcast with its GOP cache), not its `NodeMediaServer` class: that
// one cannot listen on port 0, calls process.exit when a port is taken, writes a JSON store to
// ./data, serves an admin console, accepts unauthenticated HTTP/WS-FLV publishing, and keeps a
// publisher "live" for 30 s after it disconnects. The package has no `exports`, so these paths
// are reachable; the version is pinned by package-lock.json and test/rtmp.test.ts covers them.
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "../log.js";

const require = createRequire(import.meta.url);

/** One stream path's fan-out (`/live/<id>`): its publisher, players and GOP cache. */
export interface NmsBroadcast {
  /** Milliseconds a disconnected publisher keeps the path (NMS default 30 000). */
  publishGraceMs: number;
  getPublishStatus(): "publishing" | "reconnecting" | "idle";
}

/** An RTMP connection; its handlers are instance fields, read when `run()` wires the socket. */
export interface NmsRtmpSession {
  id: string;
  ip: string;
  isPublisher: boolean;
  streamApp: string;
  streamName: string;
  streamHost: string;
  streamQuery: Record<string, string | string[] | undefined>;
  broadcast: NmsBroadcast;
  rtmp: {
    streamId: number;
    respondPublish(): void;
    sendStatusMessage(streamId: number, level: "status" | "error", code: string, description: string): void;
  };
  run(): void;
  onConnect: (req: { app: string; name: string; host: string; query: NmsRtmpSession["streamQuery"] }) => void;
  onData: (data: Buffer) => void;
  onPush: () => void;
  onPlay: () => void;
  onPacket: (packet: unknown) => void;
}

/** An HTTP-FLV player; NMS expects an express request (`params`, `query`, `hostname`). */
export interface NmsFlvSession {
  sendBuffer: (buffer: Buffer) => void;
  run(): void;
}

export type FlvRequest = IncomingMessage & { params: { app: string; name: string }; query: Record<string, never>; hostname: string };

export const RtmpSession = require("node-media-server/src/session/rtmp_session.js") as new (socket: Socket) => NmsRtmpSession;
export const FlvSession = require("node-media-server/src/session/flv_session.js") as new (req: FlvRequest, res: ServerResponse) => NmsFlvSession;

const nmsLogger = require("node-media-server/src/core/logger.js") as { level: string; log(message: string, level?: string): void };

/**
 * Sends NMS's console logging to our logger: its errors (bad clients) as warn, the rest as debug.
 * NMS's logger is one per process, so the last app created in a process gets the lines.
 */
export function routeNmsLogs(log: Logger) {
  nmsLogger.level = "trace";
  nmsLogger.log = (message, level = "info") => {
    if (level === "error" || level === "warn") log.warn(message);
    else if (level === "trace") log.trace(message);
    else log.debug(message);
  };
}
