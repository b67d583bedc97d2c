import { onResubscribed, type RedisClient } from "../redis/connect.js";
import type { Logger } from "../log.js";
import { CLOSE_CODES } from "../protocol/errors.js";
import type { RoomClient } from "./client.js";

/** setTimeout's longest delay; a later expiry is re-armed when it is reached. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long an end is remembered, for a socket that was let in just before it and joins just after. */
const REMEMBER_MS = 60_000;
/** Channel messages: a user id (every session of the account ended), or this prefix and a session's hash. */
const SESSION_PREFIX = "session:";

/**
 * This node's live sockets by session: each closes with SESSION_ENDED (4501) when its session
 * ends: at its expiry (a timer per socket, set from the expiry it was let in with), when it is
 * signed out, or when its account's sessions end (disabled, role changed, password reset).
 */
export class LiveSessions {
  private readonly byUser = new Map<string, Set<RoomClient>>();
  private readonly bySession = new Map<string, Set<RoomClient>>();
  private readonly timers = new Map<RoomClient, NodeJS.Timeout>();
  /** Ends heard lately: user id or session hash → when. */
  private readonly recent = new Map<string, number>();

  constructor(private readonly log: Logger) {}

  /** Watches a socket that was let in with a session (anonymous ones have none to end). */
  track(client: RoomClient) {
    const who = client.identity;
    if (!who?.session || client.closed) return;
    const { hash, expiresAt, checkedAt } = who.session;
    const ended = Math.max(this.recent.get(who.userId) ?? 0, this.recent.get(SESSION_PREFIX + hash) ?? 0);
    if (ended >= checkedAt || expiresAt <= Date.now()) return this.end(client);
    add(this.byUser, who.userId, client);
    add(this.bySession, hash, client);
    this.arm(client, expiresAt);
  }

  untrack(client: RoomClient) {
    const who = client.identity;
    if (!who?.session) return;
    remove(this.byUser, who.userId, client);
    remove(this.bySession, who.session.hash, client);
    clearTimeout(this.timers.get(client));
    this.timers.delete(client);
  }

  /** Every session of the account ended. */
  endUser(userId: string) {
    this.remember(userId);
    this.endAll([...(this.byUser.get(userId) ?? [])], { userId });
  }

  /** One session ended (signed out). */
  endSession(hash: string) {
    this.remember(SESSION_PREFIX + hash);
    this.endAll([...(this.bySession.get(hash) ?? [])], {});
  }

  /** Stops every expiry timer (the node is stopping). */
  stop() {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private arm(client: RoomClient, expiresAt: number) {
    const wait = expiresAt - Date.now();
    const timer = setTimeout(() => (wait > MAX_TIMER_MS ? this.arm(client, expiresAt) : this.end(client)), Math.min(Math.max(wait, 0), MAX_TIMER_MS));
    timer.unref();
    this.timers.set(client, timer);
  }

  private end(client: RoomClient) {
    this.untrack(client);
    client.close(CLOSE_CODES.SESSION_ENDED.code, "session ended");
  }

  private endAll(clients: RoomClient[], what: Record<string, string>) {
    for (const c of clients) this.end(c);
    if (clients.length > 0) this.log.info({ ...what, closed: clients.length }, "closed the live sockets of ended sessions");
  }

  private remember(key: string) {
    const now = Date.now();
    for (const [k, at] of this.recent) if (now - at > REMEMBER_MS) this.recent.delete(k);
    this.recent.set(key, now);
  }
}

function add(map: Map<string, Set<RoomClient>>, key: string, client: RoomClient) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(client);
}

function remove(map: Map<string, Set<RoomClient>>, key: string, client: RoomClient) {
  const set = map.get(key);
  if (!set) return;
  set.delete(client);
  if (set.size === 0) map.delete(key);
}

/**
 * Ended sessions, announced to every node over one sharded channel: an account's (disabled, role
 * changed, password reset) or one session's (signed out). Each node closes the matching sockets.
 * At most once, like all pub/sub, and lost only with the subscription: when it is made again,
 * `resubscribed` is called once the channel is heard again (the HTTP session cache forgets every
 * session then). A node that missed one still refuses the next connection, since the session rows
 * are gone.
 */
export function watchEndedSessions(deps: {
  subscriber: RedisClient;
  publisher: RedisClient;
  channel: string;
  log: Logger;
  sessions: Pick<LiveSessions, "endUser" | "endSession">;
  /** Announcements may have been missed: called after the channel is subscribed again. */
  resubscribed?: () => void;
}) {
  deps.subscriber.on("smessage", (channel: string, message: string) => {
    if (channel !== deps.channel) return;
    if (message.startsWith(SESSION_PREFIX)) deps.sessions.endSession(message.slice(SESSION_PREFIX.length));
    else deps.sessions.endUser(message);
  });
  const subscribe = () =>
    deps.subscriber.ssubscribe(deps.channel).then(
      () => true,
      (err: unknown) => {
        deps.log.error({ err }, "cannot subscribe to ended sessions");
        return false;
      },
    );
  void subscribe();
  // Ready before this watch existed: every later one is a reconnect (on a cluster also the
  // channel's shard subscriber made again after a failover).
  let wasReady = deps.subscriber.status === "ready";
  onResubscribed(deps.subscriber, () => {
    const again = wasReady;
    wasReady = true;
    void subscribe().then((ok) => {
      if (again && ok) deps.resubscribed?.();
    });
  });
  return {
    /** Every session of a user ended. */
    announce: async (userId: string) => {
      await deps.publisher.spublish(deps.channel, userId);
    },
    /** One session ended; `hash` is its token's SHA-256. */
    announceSession: async (hash: string) => {
      await deps.publisher.spublish(deps.channel, SESSION_PREFIX + hash);
    },
  };
}
