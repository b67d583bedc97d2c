import { reactive } from "vue";
import { io, type Socket } from "socket.io-client";
import type { Comment, PurchaseEvent, RoomEvent, RoomState, SnapshotPush } from "@protocol/messages";
import type { z } from "zod";
import { ApiError } from "../api/errors";
import { applyStatePush, emptyRoomState, isStatePush, SeqTracker, type CommandType, type StatePush } from "@protocol/client";

export type Purchase = z.infer<typeof PurchaseEvent>["purchase"];
/** connecting: first connect; live: in step with the room; reconnecting: lost, catching up soon; closed: given up or left. */
export type RoomStatus = "connecting" | "live" | "reconnecting" | "closed";

export interface RoomView {
  status: RoomStatus;
  /** Why the room cannot be used (a refused handshake or join); null while usable. */
  error: ApiError | null;
  ready: boolean;
  stream: SnapshotPush["stream"] | null;
  you: { userId: string | null; role: "viewer" | "host" | "admin" | null } | null;
  state: RoomState;
  viewerCount: number;
  likeCount: number;
  /** Oldest first, at most MAX_COMMENTS. */
  comments: Comment[];
  /** Newest first, at most MAX_PURCHASES. */
  purchases: Purchase[];
  /** When the connection was lost (ms), while status is reconnecting. */
  lostAt: number | null;
}

const MAX_COMMENTS = 300;
const MAX_PURCHASES = 30;
const ACK_TIMEOUT_MS = 8_000;
/** Handshake refusals that will not pass by retrying. */
const FINAL_CODES = new Set(["AUTH_FAILED", "AUTH_REQUIRED", "STREAM_NOT_FOUND", "FORBIDDEN", "ORIGIN_NOT_ALLOWED", "INVALID_PARAMS", "BANNED"]);

type Listener = { comment: (c: Comment) => void; purchase: (p: Purchase) => void; snapshot: (recovered: boolean) => void };

/**
 * One live room over socket.io, for the console: the snapshot, then events in seq order without
 * gaps or repeats (a gap or a lost connection reconnects with the last position), state pushes
 * applied with the protocol's rules, and host commands answered by their ack.
 */
export class LiveRoom {
  readonly view: RoomView;
  private socket: Socket | null = null;
  private readonly tracker = new SeqTracker();
  private readonly listeners: { [K in keyof Listener]: Set<Listener[K]> } = { comment: new Set(), purchase: new Set(), snapshot: new Set() };
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly streamId: string,
    private readonly token: () => string | null,
    private readonly url: string = window.location.origin,
  ) {
    this.view = reactive<RoomView>({
      status: "connecting",
      error: null,
      ready: false,
      stream: null,
      you: null,
      state: emptyRoomState(),
      viewerCount: 0,
      likeCount: 0,
      comments: [],
      purchases: [],
      lostAt: null,
    });
  }

  on<K extends keyof Listener>(event: K, fn: Listener[K]) {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  connect() {
    if (this.socket) return;
    const socket = io(this.url, {
      path: "/socket.io/",
      transports: ["websocket"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      // A connection attempt that hangs (a proxy that accepts and then says nothing) is given up and retried.
      timeout: 5_000,
      // A function, so every reconnect sends the position reached by then.
      auth: (cb) => cb({ streamId: this.streamId, token: this.token() ?? undefined, ...(this.tracker.position() ?? {}) }),
    });
    this.socket = socket;
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) => {
      const code = err.data?.code;
      if (code && FINAL_CODES.has(code)) return this.fail(new ApiError(code, code === "FORBIDDEN" ? 403 : 400, err.message));
      this.lost();
      // A refusal by the server's middleware is not retried by socket.io itself.
      if (code && !socket.active) this.retryLater();
    });
    socket.on("disconnect", (reason) => {
      if (this.view.status === "closed") return;
      this.lost();
      if (reason === "io server disconnect") this.retryLater();
    });
    socket.on("error", (frame: { code?: string; message?: string }) => {
      // A join the server refused (the stream was deleted): nothing to retry.
      this.fail(new ApiError(frame.code ?? "INTERNAL", 0, frame.message ?? ""));
    });
    socket.onAny((type: string, message: { type?: string }) => this.receive(type, message));
  }

  /**
   * Sends a command built with the protocol's `commands` (socket.io: the event is its type, the
   * payload the rest); resolves with the ack, rejects with an ApiError carrying the code.
   */
  send(command: { type: CommandType }): Promise<{ type: "ack"; id?: string }> {
    const { type, ...payload } = command;
    const socket = this.socket;
    if (!socket?.connected) return Promise.reject(new ApiError("NETWORK", 0, "not connected"));
    return new Promise((resolve, reject) => {
      socket.timeout(ACK_TIMEOUT_MS).emit(type, payload, (err: Error | null, reply?: { type: string; code?: string; message?: string }) => {
        if (err) return reject(new ApiError("TIMEOUT", 0, "no answer from the room"));
        if (!reply || reply.type === "error") return reject(new ApiError(reply?.code ?? "INTERNAL", 0, reply?.message ?? ""));
        resolve(reply as { type: "ack" });
      });
    });
  }

  close() {
    this.view.status = "closed";
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
  }

  private lost() {
    if (this.view.status === "closed") return;
    if (this.view.status !== "reconnecting") this.view.lostAt = Date.now();
    this.view.status = this.view.ready ? "reconnecting" : "connecting";
  }

  private fail(err: ApiError) {
    this.view.error = err;
    this.close();
  }

  private retryLater() {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.view.status !== "closed") this.socket?.connect();
    }, 2_000);
  }

  /** Reconnects with the last position: the server sends what is missing. */
  private resync() {
    const s = this.socket;
    if (!s) return;
    s.disconnect();
    this.lost();
    s.connect();
  }

  private receive(type: string, message: { type?: string }) {
    switch (type) {
      case "snapshot":
        return this.onSnapshot(message as SnapshotPush);
      case "comment":
      case "comment_deleted":
      case "purchase":
        return this.onEvent(message as RoomEvent);
      case "batch":
        for (const e of (message as { events: RoomEvent[] }).events) this.onEvent(e);
        return;
      case "viewer_count":
        this.view.viewerCount = (message as { count: number }).count;
        return;
      case "like_count":
        this.view.likeCount = (message as { count: number }).count;
        return;
      default:
        if (isStatePush(type)) this.view.state = applyStatePush(this.view.state, message as StatePush);
    }
  }

  private onSnapshot(snap: SnapshotPush) {
    const recovered = snap.recovered && snap.epoch === this.tracker.epoch;
    this.tracker.snapshot(snap);
    const v = this.view;
    v.stream = snap.stream;
    if (snap.you) v.you = snap.you;
    v.state = snap.state;
    v.viewerCount = snap.viewerCount;
    v.likeCount = snap.likeCount;
    if (!recovered) v.comments = snap.recentComments.map((e) => e.comment).slice(-MAX_COMMENTS);
    v.ready = true;
    v.status = "live";
    v.lostAt = null;
    v.error = null;
    for (const fn of this.listeners.snapshot) fn(recovered);
  }

  private onEvent(event: RoomEvent) {
    const verdict = this.tracker.offer(event);
    if (verdict === "duplicate") return;
    if (verdict === "gap") return this.resync();
    const v = this.view;
    switch (event.type) {
      case "comment":
        v.comments.push(event.comment);
        if (v.comments.length > MAX_COMMENTS) v.comments.splice(0, v.comments.length - MAX_COMMENTS);
        for (const fn of this.listeners.comment) fn(event.comment);
        break;
      case "comment_deleted": {
        const i = v.comments.findIndex((c) => c.id === event.commentId);
        if (i >= 0) v.comments.splice(i, 1);
        break;
      }
      case "purchase":
        v.purchases.unshift(event.purchase);
        if (v.purchases.length > MAX_PURCHASES) v.purchases.length = MAX_PURCHASES;
        for (const fn of this.listeners.purchase) fn(event.purchase);
        break;
    }
  }
}
