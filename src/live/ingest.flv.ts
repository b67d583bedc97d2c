import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import { FlvSession, type FlvRequest } from "./ingest.nms.js";
import { RTMP_APP } from "./ingest.rtmp.js";
import { STREAM_ID_CHARS } from "./stream-id.js";

export interface FlvPlayDeps {
  log: Logger;
  /** Whether a stream with this id exists (a player may connect before it goes live). */
  streamExists(streamId: string): Promise<boolean>;
}

const FLV_PATH = new RegExp(`^/live/(${STREAM_ID_CHARS})\\.flv$`);
/** A player this far behind (about 30 s of a 2 Mbit/s stream) is cut off rather than buffered for. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** The path a stream plays at over HTTP-FLV; never carries the publish key. */
export const flvPath = (streamId: string) => `/${RTMP_APP}/${streamId}.flv`;

/**
 * Serves `GET /live/<streamId>.flv`: the FLV header at once, then the stream's metadata, codec
 * headers and current GOP, then live tags, across publisher reconnects, until the player leaves.
 */
export async function serveFlvPlayer(req: IncomingMessage, res: ServerResponse, deps: FlvPlayDeps) {
  const match = FLV_PATH.exec(new URL(req.url ?? "/", "http://flv").pathname);
  if (req.method !== "GET") return end(res, 405, "GET only");
  if (!match || !(await deps.streamExists(match[1]!))) return end(res, 404, "no such stream");
  if (req.socket.destroyed) return;
  res.writeHead(200, { "content-type": "video/x-flv", "cache-control": "no-store", "access-control-allow-origin": "*" });
  const flvReq = Object.assign(req, { params: { app: RTMP_APP, name: match[1]! }, query: {}, hostname: "" }) satisfies FlvRequest;
  const session = new FlvSession(flvReq, res);
  const send = session.sendBuffer;
  session.sendBuffer = (buffer) => {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      deps.log.info({ streamId: match[1] }, "flv player too slow, closed");
      return void res.destroy();
    }
    send(buffer);
  };
  session.run();
}

function end(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { "content-type": "text/plain" }).end(message);
}
