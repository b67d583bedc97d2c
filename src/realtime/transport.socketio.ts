import { Server, type ServerOptions, type Socket } from "socket.io";
import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t, WebSocketBehavior } from "uWebSockets.js";
import type { Config } from "../config.js";
import type { Authenticate, Identity } from "../auth/identity.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { AppError, CLOSE_CODES, ERRORS, type ErrorCode } from "../protocol/errors.js";
import { Position, type ClientToServerEvents, type ServerToClientEvents } from "../protocol/messages.js";
import type { OriginCheck } from "../uws/origin.js";
import { clientAddress } from "../uws/request.js";
import { errorBody } from "../uws/response.js";
import type { UpgradeAnchor } from "../uws/upgrade-anchor.js";
import type { EventEntry, FanoutSink, RoomClient } from "./client.js";
import { GROUP_WATCH_EVENTS } from "./group-watch.js";
import { dispatch } from "./dispatch.js";
import type { Hub } from "./hub.js";
import type { SlowReaderSweep, SweptSocket } from "./slow-readers.js";
import type { RoomBans } from "./room-bans.js";
import { ConnectionsPerIp } from "./connections-per-ip.js";

interface SocketData {
  streamId: string;
  identity: Identity | null;
  position: Position | null;
}

type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** socket.io rooms of a live room: everything, and critical events only (slow readers). A socket is in one. */
const roomName = (roomId: string) => `live:${roomId}`;
const criticalRoomName = (roomId: string) => `live:${roomId}:critical`;
const roomOf = (roomId: string, lagging: boolean) => (lagging ? criticalRoomName(roomId) : roomName(roomId));
const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What engine.io keeps per connection that the sweep reads: the uWS socket under the websocket transport, and packets not yet handed to it. */
interface EngineConnection {
  transport?: { name?: string; socket?: { getBufferedAmount?: () => number } };
  writeBuffer?: { data?: unknown }[];
}

class SocketIoClient implements RoomClient, SweptSocket {
  readonly transport = "socketio" as const;
  readonly batch = false;
  role: RoomClient["role"] = null;
  closed = false;
  lagging = false;
  private roomId: string | null = null;

  constructor(
    private readonly socket: LiveSocket,
    readonly identity: Identity | null,
    private readonly limitBytes: number,
  ) {}

  send(frame: string) {
    if (this.closed) return;
    const message = JSON.parse(frame) as { type: keyof ServerToClientEvents };
    (this.socket.emit as (ev: string, m: unknown) => void)(message.type, message);
  }

  startLive(roomId: string) {
    if (this.closed) return;
    this.roomId = roomId;
    void this.socket.join(roomOf(roomId, false));
  }

  /** Slow reader: from now on only critical events (ordinary comments are skipped). */
  setLagging(lagging: boolean) {
    if (this.closed || !this.roomId || this.lagging === lagging) return;
    void this.socket.leave(roomOf(this.roomId, this.lagging));
    this.lagging = lagging;
    void this.socket.join(roomOf(this.roomId, lagging));
  }

  /** uWS's send buffer under the websocket transport, plus what engine.io holds for a long-polling client's next poll. */
  bufferedAmount() {
    if (this.closed) return 0;
    const conn = this.socket.conn as unknown as EngineConnection;
    let bytes = 0;
    try {
      if (conn.transport?.name === "websocket") bytes += conn.transport.socket?.getBufferedAmount?.() ?? 0;
    } catch {
      return 0; // the uWS socket is already closed; its disconnect is on its way
    }
    for (const packet of conn.writeBuffer ?? []) {
      if (bytes >= this.limitBytes) break;
      const data = packet.data;
      bytes += typeof data === "string" ? Buffer.byteLength(data) : data instanceof Uint8Array ? data.byteLength : 0;
    }
    return bytes;
  }

  /**
   * socket.io has no close codes: a close the client must not retry is told as an error frame
   * first (an ended session as AUTH_FAILED, its token is gone; a ban, a kick), then the disconnect.
   */
  close(code: number, _reason: string) {
    if (this.closed) return;
    this.closed = true;
    const error = FINAL_ERRORS.get(code);
    if (error) (this.socket.emit as (ev: string, m: unknown) => void)("error", { type: "error", code: error.code, message: error.message });
    this.socket.disconnect(true);
  }
}

const FINAL_ERRORS = new Map<number, { code: ErrorCode; message: string }>([
  [CLOSE_CODES.SESSION_ENDED.code, { code: "AUTH_FAILED", message: "The session ended (signed out, expired or the account changed); sign in again." }],
  [CLOSE_CODES.BANNED.code, { code: "BANNED", message: ERRORS.BANNED.message }],
  [CLOSE_CODES.KICKED.code, { code: "KICKED", message: ERRORS.KICKED.message }],
]);

/**
 * The uWS app as engine.io should see it:
 * - engine.io sets only `maxBackpressure` on its WebSocket route, and uWS then silently skips a
 *   publish to a socket past it. Like the raw route, a socket is instead closed at twice
 *   WS_MAX_BACKPRESSURE_BYTES (the sweep closes it at the limit first).
 * - engine.io upgrades in `res.cork`, after an await for a new session: its upgrades run inside the
 *   upgrade anchor's cork, as ours do (src/uws/upgrade-anchor.ts).
 */
function asEngineSees(app: TemplatedApp, maxBackpressure: number, anchored: UpgradeAnchor["anchored"]): TemplatedApp {
  // Made once per method: socket.io's adapter calls `publish` through this for every room emit.
  const methods = new Map<PropertyKey, unknown>();
  const proxy: TemplatedApp = new Proxy(app, {
    get(target, prop) {
      if (prop === "ws") {
        return (pattern: string, behavior: WebSocketBehavior<unknown>) => {
          const { upgrade } = behavior;
          target.ws(pattern, {
            ...behavior,
            maxBackpressure,
            closeOnBackpressureLimit: 1,
            ...(upgrade ? { upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => upgrade(anchored(res), req, context) } : {}),
          });
          return proxy;
        };
      }
      const made = methods.get(prop);
      if (made) return made;
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      // Chained calls (`app.any(...).ws(...)`) must stay on the proxy.
      const method = (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return out === target ? proxy : out;
      };
      methods.set(prop, method);
      return method;
    },
  });
  return proxy;
}

/** engine.io's request under uWS: what it copied out of the uWS request. */
interface EngineRequest {
  _query?: Record<string, string>;
  headers: Record<string, string | undefined>;
  connection?: { remoteAddress?: string };
}

/**
 * New engine.io sessions (a handshake: no `sid` yet, long-polling or WebSocket) from an address
 * that holds its limit are answered 429 RATE_LIMITED with Retry-After before they exist; each
 * session holds a place until it closes. The handshake runs in one turn of the event loop, so no
 * two handshakes of one address pass the check together.
 */
function limitConnectionsPerIp(io: Server, connections: ConnectionsPerIp, trustProxy: boolean) {
  const addressOf = (req: EngineRequest) => clientAddress(req.connection?.remoteAddress ?? "", req.headers["x-forwarded-for"], trustProxy);
  io.engine.use((req: EngineRequest, res: { writeHead(status: number, headers: Record<string, string>): void; end(body: string): void }, next: () => void) => {
    if (req._query?.sid !== undefined || connections.allows(addressOf(req))) return next();
    const refused = errorBody(ConnectionsPerIp.refusal());
    res.writeHead(refused.status, { ...refused.headers, "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(refused.body));
  });
  io.engine.on("connection", (conn: { request: EngineRequest; once(event: "close", listener: () => void): void }) => {
    const address = addressOf(conn.request);
    connections.add(address);
    conn.once("close", () => connections.release(address));
  });
}

export interface SocketIoTransportDeps {
  app: TemplatedApp;
  config: Config;
  log: Logger;
  metrics: Metrics;
  hub: Hub;
  authenticate: Authenticate;
  originAllowed: OriginCheck;
  /** The adapter that carries broadcasts between nodes (src/redis/socketio-adapter.ts). */
  adapter: ServerOptions["adapter"];
  /** The node's slow-reader sweep (shared with the raw transport). */
  slowReaders: SlowReaderSweep;
  /** Banned users are refused at the handshake (BANNED). */
  bans: Pick<RoomBans, "isBanned">;
  /** Live sockets per client address (429 RATE_LIMITED at the handshake past the limit). */
  connections: ConnectionsPerIp;
  /** engine.io's upgrades run in the upgrade anchor's cork (src/uws/upgrade-anchor.ts). */
  anchored: UpgradeAnchor["anchored"];
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
    adapter: deps.adapter,
  });
  io.attachApp(asEngineSees(deps.app, config.ws.maxBackpressureBytes * 2, deps.anchored));
  limitConnectionsPerIp(io, deps.connections, config.http.trustProxy);

  io.use((socket, next) => {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    void (async () => {
      try {
        const streamId = typeof auth.streamId === "string" ? auth.streamId : "";
        if (!STREAM_ID.test(streamId)) throw new AppError("STREAM_NOT_FOUND");
        const token = typeof auth.token === "string" ? auth.token : null;
        const identity = token ? await deps.authenticate(token) : null;
        if (token && !identity) throw new AppError("AUTH_FAILED");
        if (identity && deps.bans.isBanned(streamId, identity.userId)) throw new AppError("BANNED");
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
    const client = new SocketIoClient(socket, socket.data.identity, config.ws.maxBackpressureBytes);
    deps.slowReaders.add(client);
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
      deps.slowReaders.delete(client);
      hub.leave(client);
    });
    hub.join(client, socket.data.streamId, socket.data.position).catch((err: unknown) => {
      if (!(err instanceof AppError)) log.error({ err }, "join failed");
      else log.warn({ code: err.code, streamId: socket.data.streamId }, "join refused; the socket is closed");
      const { body } = errorBody(err);
      socket.emit("error", { type: "error", code: body.code, message: body.message });
      client.close(CLOSE_CODES.STREAM_DELETED.code, body.code);
    });
  });

  const emitTo = (room: string, message: { type: string }) =>
    (io.local.to(room).emit as (ev: string, m: unknown) => boolean)(message.type, message);
  const hasMembers = (room: string) => (io.of("/").adapter.rooms.get(room)?.size ?? 0) > 0;

  const sink: FanoutSink = {
    events(roomId: string, _epoch: string, entries: readonly EventEntry[]) {
      const all = roomName(roomId);
      const critical = criticalRoomName(roomId);
      if (hasMembers(all)) for (const e of entries) emitTo(all, e.event);
      if (hasMembers(critical)) {
        let skipped = 0;
        for (const e of entries) {
          if (e.critical) emitTo(critical, e.event);
          else skipped++;
        }
        metrics.dropped.inc({ reason: "slow_consumer" }, skipped * (io.of("/").adapter.rooms.get(critical)?.size ?? 0));
      }
    },
    push(roomId: string, _frame: string, message: { type: string }) {
      for (const room of [roomName(roomId), criticalRoomName(roomId)]) if (hasMembers(room)) emitTo(room, message);
    },
  };

  return {
    io,
    sink,
    async close() {
      // This node's sockets only: without `local` the adapter tells every node to drop all of theirs.
      io.local.disconnectSockets(true);
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
      });
    },
  };
}
