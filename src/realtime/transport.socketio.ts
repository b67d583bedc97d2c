import { Server, type Socket } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import type { TemplatedApp } from "uWebSockets.js";
import type { Config } from "../config.js";
import type { Authenticate } from "../domain/auth.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { AppError, CLOSE_CODES } from "../protocol/errors.js";
import { Position, type ClientToServerEvents, type ServerToClientEvents } from "../protocol/messages.js";
import type { OriginCheck } from "../http/origin.js";
import { errorBody } from "../http/uws-http.js";
import type { EventEntry, FanoutSink, Identity, RoomClient } from "./client.js";
import { GROUP_WATCH_EVENTS } from "./group-watch.js";
import { dispatch } from "./dispatch.js";
import type { Hub } from "./hub.js";

interface SocketData {
  streamId: string;
  identity: Identity | null;
  position: Position | null;
}

type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const roomName = (roomId: string) => `live:${roomId}`;
const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;

class SocketIoClient implements RoomClient {
  readonly transport = "socketio" as const;
  readonly batch = false;
  role: RoomClient["role"] = null;
  closed = false;

  constructor(
    private readonly socket: LiveSocket,
    readonly identity: Identity | null,
  ) {}

  send(frame: string) {
    if (this.closed) return;
    const message = JSON.parse(frame) as { type: keyof ServerToClientEvents };
    (this.socket.emit as (ev: string, m: unknown) => void)(message.type, message);
  }

  startLive(roomId: string) {
    if (!this.closed) void this.socket.join(roomName(roomId));
  }

  close(_code: number, _reason: string) {
    if (this.closed) return;
    this.closed = true;
    this.socket.disconnect(true);
  }
}

export interface SocketIoTransportDeps {
  app: TemplatedApp;
  config: Config;
  log: Logger;
  metrics: Metrics;
  hub: Hub;
  authenticate: Authenticate;
  originAllowed: OriginCheck;
  pubClient: Redis;
  subClient: Redis;
  adapterKey: string;
}

/**
 * socket.io for browsers (the host console), attached to the same uWS app, with the Redis adapter.
 * Handshake `auth: { token?, streamId, epoch?, seq? }`. Event names and payloads are the protocol's
 * message types; a command may take an ack callback, which receives the ack or error reply.
 */
export function attachSocketIoTransport(deps: SocketIoTransportDeps) {
  const { config, log, metrics, hub } = deps;
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>({
    serveClient: false,
    maxHttpBufferSize: config.ws.maxPayloadBytes,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    allowRequest: (req, callback) => callback(null, deps.originAllowed(req.headers.origin)),
    cors: { origin: (origin, cb) => cb(null, deps.originAllowed(origin)), credentials: true },
    adapter: createAdapter(deps.pubClient, deps.subClient, { key: deps.adapterKey }),
  });
  io.attachApp(deps.app);

  io.use((socket, next) => {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    void (async () => {
      try {
        const streamId = typeof auth.streamId === "string" ? auth.streamId : "";
        if (!STREAM_ID.test(streamId)) throw new AppError("STREAM_NOT_FOUND");
        const token = typeof auth.token === "string" ? auth.token : null;
        const identity = token ? await deps.authenticate(token) : null;
        if (token && !identity) throw new AppError("AUTH_FAILED");
        let position: Position | null = null;
        if (auth.epoch !== undefined || auth.seq !== undefined) {
          const p = Position.safeParse({ epoch: auth.epoch, seq: auth.seq });
          if (!p.success) throw new AppError("INVALID_PARAMS", "epoch and seq must be given together.");
          position = p.data;
        }
        await hub.prepare(streamId);
        socket.data = { streamId, identity, position };
        next();
      } catch (err) {
        if (!(err instanceof AppError)) log.error({ err }, "socket.io handshake failed");
        const { body } = errorBody(err);
        next(Object.assign(new Error(body.message), { data: { code: body.code } }));
      }
    })();
  });

  io.on("connection", (socket) => {
    const client = new SocketIoClient(socket, socket.data.identity);
    socket.onAny((event: string, ...args: unknown[]) => {
      if (GROUP_WATCH_EVENTS.has(event)) return;
      const ack = typeof args.at(-1) === "function" ? (args.pop() as (reply: unknown) => void) : null;
      const payload = args[0];
      const raw = typeof payload === "object" && payload !== null && !Array.isArray(payload) ? { ...payload, type: event } : { type: event };
      dispatch({ hub, log, metrics }, client, raw, (reply) => {
        if (ack) ack(reply);
        else if (reply.type === "error" || reply.type === "pong") (socket.emit as (ev: string, m: unknown) => void)(reply.type, reply);
      });
    });
    socket.on("disconnect", () => {
      client.closed = true;
      hub.leave(client);
    });
    hub.join(client, socket.data.streamId, socket.data.position).catch((err: unknown) => {
      if (!(err instanceof AppError)) log.error({ err }, "join failed");
      const { body } = errorBody(err);
      socket.emit("error", { type: "error", code: body.code, message: body.message });
      client.close(CLOSE_CODES.STREAM_DELETED.code, body.code);
    });
  });

  const local = (roomId: string) => io.local.to(roomName(roomId));
  const hasMembers = (roomId: string) => (io.of("/").adapter.rooms.get(roomName(roomId))?.size ?? 0) > 0;
  const emit = (roomId: string, message: { type: string }) =>
    (local(roomId).emit as (ev: string, m: unknown) => boolean)(message.type, message);

  const sink: FanoutSink = {
    events(roomId: string, _epoch: string, entries: readonly EventEntry[]) {
      if (!hasMembers(roomId)) return;
      for (const e of entries) emit(roomId, e.event);
    },
    push(roomId: string, _frame: string, message: { type: string }) {
      if (hasMembers(roomId)) emit(roomId, message);
    },
  };

  return {
    io,
    sink,
    async close() {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
      });
    },
  };
}
