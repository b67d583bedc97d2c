import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { timingSafeEqual } from "node:crypto";
import type { Config } from "../config.js";
import type { Db } from "../db/client.js";
import { findStream, setStreamStatus } from "../db/streams.repo.js";
import type { Logger } from "../log.js";
import type { SetRoomState, StatePush } from "../protocol/messages.js";
import { flvPath, serveFlvPlayer } from "./ingest.flv.js";
import { routeNmsLogs } from "./ingest.nms.js";
import { RTMP_APP, serveRtmpConnection, type RtmpRefusal } from "./ingest.rtmp.js";
import { hashStreamKey, type StreamUrls } from "./streams.service.js";

export interface IngestDeps {
  config: Config["ingest"];
  log: Logger;
  db: Db;
  setRoomState: SetRoomState;
}

/**
 * RTMP ingest and HTTP-FLV playback (node-media-server 4's protocol engine on our own listeners).
 * A publish to `rtmp://host:RTMP_PORT/live/<streamId>?key=<key>` with the stream's current key
 * marks the stream live (`stream_start` to its room); the publisher's connection closing marks it
 * ended (`stream_end`) within moments, and so does its key being rotated (within RTMP_KEY_CHECK_SEC). Viewers play `http://host:FLV_PORT/live/<streamId>.flv`.
 * With ingest off, `listen` and `close` do nothing and `urls` come from the public URLs, if set.
 */
export function createIngest(deps: IngestDeps) {
  const { config, db } = deps;
  const log = deps.log.child({ component: "ingest" });
  const announcements = new Map<string, Promise<void>>();
  const sockets = new Set<Socket>();
  let bound: { rtmp: string; flv: string } | null = null;

  /** In order per stream, so a quick reconnect never ends up "ended". */
  function announce(streamId: string, status: "live" | "ended") {
    const push: StatePush = { type: status === "live" ? "stream_start" : "stream_end", streamId, at: Date.now() };
    const next = (announcements.get(streamId) ?? Promise.resolve())
      .then(async () => {
        await setStreamStatus(db, streamId, status);
        await deps.setRoomState(streamId, "status", status, push);
      })
      .catch((err: unknown) => log.error({ err, streamId, status }, "stream status not announced"));
    announcements.set(streamId, next);
    void next.then(() => {
      if (announcements.get(streamId) === next) announcements.delete(streamId);
    });
  }

  async function authorize(streamId: string, key: string): Promise<RtmpRefusal | null> {
    const stream = await findStream(db, streamId);
    if (!stream) return { code: "NetStream.Publish.BadName", reason: "no such stream" };
    const expected = Buffer.from(stream.streamKeyHash ?? "", "hex");
    const given = Buffer.from(hashStreamKey(key), "hex");
    if (!key || expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return { code: "NetStream.Publish.Denied", reason: "wrong stream key" };
    }
    return null;
  }

  const rtmpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    serveRtmpConnection(socket, { log, authorize, announce, idleTimeoutMs: config.idleTimeoutMs, keyCheckMs: config.keyCheckMs });
  });
  const flvServer = createHttpServer((req, res) => {
    serveFlvPlayer(req, res, { log, streamExists: async (id) => (await findStream(db, id)) !== null }).catch((err: unknown) => {
      log.error({ err }, "flv request failed");
      res.destroy();
    });
  });

  const publicHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const rtmpBase = () => config.rtmpPublicUrl ?? bound?.rtmp ?? null;
  const flvBase = () => config.flvPublicUrl ?? bound?.flv ?? null;
  const urls: StreamUrls = {
    rtmp: (streamId) => (rtmpBase() ? `${rtmpBase()}/${RTMP_APP}/${streamId}` : null),
    flv: (streamId) => (flvBase() ? `${flvBase()}${flvPath(streamId)}` : null),
  };

  return {
    urls,
    /** Opens the RTMP and HTTP-FLV ports (0 picks free ones); resolves with the bound ports. */
    async listen(): Promise<{ rtmpPort: number; flvPort: number } | null> {
      if (!config.enabled) return null;
      routeNmsLogs(log.child({ component: "nms" }));
      const rtmpPort = await listen(rtmpServer, config.host, config.rtmpPort);
      const flvPort = await listen(flvServer, config.host, config.flvPort).catch(async (err: unknown) => {
        await close(rtmpServer);
        throw err;
      });
      bound = { rtmp: `rtmp://${publicHost}:${rtmpPort}`, flv: `http://${publicHost}:${flvPort}` };
      log.info({ rtmpPort, flvPort }, "ingest listening");
      return { rtmpPort, flvPort };
    },
    /** Closes both ports and every connection; resolves once live streams are announced ended. */
    async close() {
      if (!rtmpServer.listening && !flvServer.listening) return;
      const closed = [...sockets].map((s) => new Promise((r) => s.once("close", r)));
      for (const s of sockets) s.destroy();
      flvServer.closeAllConnections();
      await Promise.all([close(rtmpServer), close(flvServer), ...closed]);
      await Promise.all(announcements.values());
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;

function listen(server: Server, host: string, port: number) {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server) {
  return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}
