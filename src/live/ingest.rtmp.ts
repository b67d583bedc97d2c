import type { Socket } from "node:net";
import type { Logger } from "../log.js";
import { RtmpSession } from "./ingest.nms.js";
import { STREAM_ID } from "./stream-id.js";

/** Why a publish (or a play) is refused; becomes the RTMP `onStatus` error the encoder shows. */
export type RtmpRefusal = { code: "NetStream.Publish.BadName" | "NetStream.Publish.Denied" | "NetStream.Play.Failed"; reason: string };

export interface RtmpConnectionDeps {
  log: Logger;
  /** Resolves null when `key` is the stream's current publish key. */
  authorize(streamId: string, key: string): Promise<RtmpRefusal | null>;
  /** The stream's publisher started (`live`) or its connection closed (`ended`). */
  announce(streamId: string, status: "live" | "ended"): void;
  idleTimeoutMs: number;
  /** How often a live publisher's key is checked again: a rotated key (or a deleted stream) ends it. */
  keyCheckMs: number;
}

export const RTMP_APP = "live";
const REFUSED_LINGER_MS = 1000;

/**
 * Serves one RTMP connection on NMS's session: publishing only, to `live/<streamId>?key=<key>`.
 * The encoder hears `NetStream.Publish.Start` only once the key checks out and no one else
 * publishes the stream; until then its media is dropped. The stream ends when the socket
 * closes, after `idleTimeoutMs` without a byte (a publisher whose network died), or at the next
 * key check (`keyCheckMs`) after its key stopped being the stream's (rotated on any node).
 */
export function serveRtmpConnection(socket: Socket, deps: RtmpConnectionDeps) {
  const session = new RtmpSession(socket);
  const nms = { push: session.onPush, packet: session.onPacket, data: session.onData, respondPublish: session.rtmp.respondPublish.bind(session.rtmp) };
  let state: "connected" | "checking" | "publishing" | "refused" = "connected";
  /** While publishing: the timer that checks the key again. */
  let keyCheck: NodeJS.Timeout | undefined;
  const log = deps.log.child({ rtmpSession: session.id });

  const refuse = ({ code, reason }: RtmpRefusal) => {
    if (state === "refused") return;
    state = "refused";
    log.info({ streamPath: `${session.streamApp}/${session.streamName}`, code, reason }, "rtmp publish refused");
    if (!socket.writableEnded) {
      session.rtmp.sendStatusMessage(session.rtmp.streamId, "error", code, reason);
      socket.end();
    }
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
  };

  const check = async () => {
    const streamId = session.streamName;
    if (session.streamApp !== RTMP_APP || !STREAM_ID.test(streamId)) {
      return refuse({ code: "NetStream.Publish.BadName", reason: `publish to ${RTMP_APP}/<streamId>?key=<key>` });
    }
    const key = typeof session.streamQuery.key === "string" ? session.streamQuery.key : "";
    const refusal = await deps.authorize(streamId, key);
    if (socket.destroyed || state !== "checking") return;
    if (refusal) return refuse(refusal);
    // The path's broadcast may have been dropped while we checked: look it up again.
    session.onConnect({ app: session.streamApp, name: streamId, host: session.streamHost, query: session.streamQuery });
    if (session.broadcast.getPublishStatus() === "publishing") {
      return refuse({ code: "NetStream.Publish.BadName", reason: "the stream already has a publisher" });
    }
    // NMS would keep a gone publisher "live" for 30 s in case it comes back; we end at once.
    session.broadcast.publishGraceMs = 0;
    nms.push();
    if (!session.isPublisher) return refuse({ code: "NetStream.Publish.BadName", reason: "publish refused" });
    state = "publishing";
    nms.respondPublish();
    log.info({ streamId }, "rtmp publish started");
    deps.announce(streamId, "live");
    keyCheck = setInterval(() => void recheck(streamId, key), deps.keyCheckMs).unref();
  };

  /** Ends the publish when its key is no longer the stream's; a failed check (a database blip) keeps it. */
  const recheck = async (streamId: string, key: string) => {
    const refusal = await deps.authorize(streamId, key).catch((err: unknown) => {
      log.warn({ err, streamId }, "rtmp key check failed; the publisher stays");
      return null;
    });
    if (!refusal || state !== "publishing" || socket.destroyed) return;
    clearInterval(keyCheck);
    log.info({ streamId, reason: refusal.reason }, "rtmp publisher's key is no longer valid; disconnecting");
    session.rtmp.sendStatusMessage(session.rtmp.streamId, "error", "NetStream.Publish.Denied", "the stream key was changed");
    socket.end();
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
  };

  // Answered by `check` once the key is known to be right.
  session.rtmp.respondPublish = () => {};
  session.onPush = () => {
    if (state !== "connected") return void socket.destroy(); // one publish per connection
    state = "checking";
    check().catch((err: unknown) => {
      log.error({ err }, "rtmp publish check failed");
      refuse({ code: "NetStream.Publish.Denied", reason: "try again later" });
    });
  };
  session.onPlay = () => {
    if (state !== "connected") return void socket.destroy();
    refuse({ code: "NetStream.Play.Failed", reason: "RTMP is for publishing; play HTTP-FLV" });
  };
  session.onPacket = (packet) => {
    if (state === "publishing") nms.packet(packet);
  };
  // NMS's parser throws on some malformed input (bad AMF, a connect without tcUrl): drop the client.
  session.onData = (data) => {
    try {
      nms.data(data);
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : err }, "rtmp input rejected");
      socket.destroy();
    }
  };

  socket.setNoDelay(true);
  socket.setTimeout(deps.idleTimeoutMs, () => socket.destroy());
  socket.once("close", () => {
    clearInterval(keyCheck);
    if (state !== "publishing") return;
    log.info({ streamId: session.streamName }, "rtmp publish ended");
    deps.announce(session.streamName, "ended");
  });
  session.run();
}
