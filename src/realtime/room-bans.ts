import { onResubscribed, type RedisClient } from "../redis/connect.js";
import type { Logger } from "../log.js";
import { CLOSE_CODES } from "../protocol/errors.js";
import type { BanChange, BanState } from "../live/bans.service.js";
import type { RoomClient } from "./client.js";

/** Every room, in the mirror's keys. */
const EVERYWHERE = "*";
/** A lifted ban is remembered this long, so an older change that arrives late cannot bring it back. */
const LIFTED_KEPT_MS = 10 * 60_000;

const keyOf = (streamId: string | null, userId: string) => `${streamId ?? EVERYWHERE}\n${userId}`;

/**
 * This node's mirror of the bans in force, and its live-room sockets by user. Checks are
 * synchronous (upgrade, join, every comment and like). A ban closes the user's sockets in its
 * room (every room for an admin's) with BANNED (4503), a kick with KICKED (4502). Changes of one
 * ban are applied in revision order, whichever way they arrive (announced or fetched).
 */
export class RoomBans {
  private readonly bans = new Map<string, Omit<BanState, "streamId" | "userId">>();
  private readonly byUser = new Map<string, Map<RoomClient, string>>();

  constructor(private readonly log: Logger) {}

  isBanned(roomId: string, userId: string, now = Date.now()) {
    return this.inForce(keyOf(roomId, userId), now) || this.inForce(keyOf(null, userId), now);
  }

  /** Watches a member (signed-in only; anonymous sockets cannot comment or like); closes it at once if banned. */
  track(client: RoomClient, roomId: string) {
    const userId = client.identity?.userId;
    if (!userId || client.closed) return;
    if (this.isBanned(roomId, userId)) return this.end([client], "BANNED", { roomId, userId });
    let clients = this.byUser.get(userId);
    if (!clients) this.byUser.set(userId, (clients = new Map<RoomClient, string>()));
    clients.set(client, roomId);
  }

  untrack(client: RoomClient) {
    const userId = client.identity?.userId;
    const clients = userId ? this.byUser.get(userId) : undefined;
    if (!clients?.delete(client) || clients.size > 0) return;
    this.byUser.delete(userId!);
  }

  /** A ban, lift or kick announced by any node (this one too). */
  apply(change: BanChange) {
    if (change.kind === "kick") return this.end(this.membersOf(change.userId, change.streamId), "KICKED", change);
    this.adopt({ streamId: change.streamId, userId: change.userId, until: change.kind === "ban" ? change.until : null, lifted: change.kind === "lift", rev: change.rev });
  }

  /** Rows read from PostgreSQL: newer ones replace what the mirror holds. */
  adoptAll(rows: readonly BanState[]) {
    for (const row of rows) this.adopt(row);
    const now = Date.now();
    for (const [key, ban] of this.bans) {
      const over = ban.lifted ? ban.rev / 1000 + LIFTED_KEPT_MS < now : ban.until !== null && ban.until < now;
      if (over) this.bans.delete(key);
    }
  }

  private adopt(row: BanState) {
    const key = keyOf(row.streamId, row.userId);
    const held = this.bans.get(key);
    if (held && held.rev > row.rev) return;
    this.bans.set(key, { until: row.until, lifted: row.lifted, rev: row.rev });
    if (!row.lifted && this.inForce(key, Date.now())) this.end(this.membersOf(row.userId, row.streamId), "BANNED", row);
  }

  private inForce(key: string, now: number) {
    const ban = this.bans.get(key);
    return ban !== undefined && !ban.lifted && (ban.until === null || ban.until > now);
  }

  /** The user's sockets in `roomId`, or in every room for null. */
  private membersOf(userId: string, roomId: string | null): RoomClient[] {
    const clients = this.byUser.get(userId);
    if (!clients) return [];
    return [...clients].filter(([, room]) => roomId === null || room === roomId).map(([c]) => c);
  }

  private end(clients: RoomClient[], why: "BANNED" | "KICKED", what: { streamId?: string | null; roomId?: string; userId: string }) {
    for (const c of clients) {
      this.untrack(c);
      c.close(CLOSE_CODES[why].code, why.toLowerCase());
    }
    if (clients.length > 0) this.log.info({ streamId: what.streamId ?? what.roomId ?? null, userId: what.userId, closed: clients.length, why }, "closed banned or kicked sockets");
  }
}

/**
 * Keeps a node's RoomBans in step: changes announced on one sharded channel (at most once), and
 * PostgreSQL read again every `refreshMs` and after the subscriber reconnects, which heals any
 * announcement this node missed. A kick that is missed is lost (it has no lasting effect anyway).
 */
export function watchBans(deps: {
  bans: RoomBans;
  subscriber: RedisClient;
  publisher: RedisClient;
  channel: string;
  nodeId: string;
  log: Logger;
  changes: (cursor: number | null) => Promise<{ bans: BanState[]; cursor: number }>;
  refreshMs: number;
}) {
  const { bans, log } = deps;
  let cursor: number | null = null;
  let refreshing: Promise<void> | null = null;
  const refresh = () =>
    (refreshing ??= deps
      .changes(cursor)
      .then((r) => {
        bans.adoptAll(r.bans);
        cursor = r.cursor;
      })
      .catch((err: unknown) => log.warn({ err }, "bans not refreshed; trying again later"))
      .finally(() => (refreshing = null)));

  deps.subscriber.on("smessage", (channel: string, message: string) => {
    if (channel !== deps.channel) return;
    try {
      const { node, change } = JSON.parse(message) as { node: string; change: BanChange };
      if (node !== deps.nodeId) bans.apply(change);
    } catch (err) {
      log.warn({ err }, "bad ban announcement");
    }
  });
  const subscribe = () => deps.subscriber.ssubscribe(deps.channel).catch((err: unknown) => log.error({ err }, "cannot subscribe to bans"));
  void subscribe();
  onResubscribed(deps.subscriber, () => {
    void subscribe();
    void refresh();
  });
  const timer = setInterval(() => void refresh(), deps.refreshMs);
  timer.unref();

  return {
    /** The first read: every ban in force. */
    start: () => refresh(),
    /** Applies a change here at once, then tells the other nodes. */
    async announce(change: BanChange) {
      bans.apply(change);
      await deps.publisher.spublish(deps.channel, JSON.stringify({ node: deps.nodeId, change }));
    },
    stop: () => clearInterval(timer),
  };
}
