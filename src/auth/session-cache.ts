import type { Authenticate, Identity } from "./identity.js";

/**
 * Sessions the HTTP API looked up, kept for `ttlMs` and never past the session's own expiry
 * (unknown tokens are not kept), so a request needs PostgreSQL only for its own work: a rush of
 * buy-now taps, most of them refused by the flash gate, does not query the sessions table for each
 * one. Concurrent lookups of one token share one query. A session that ends is forgotten by every
 * node that hears of it (`forgetSession` at logout, `forgetUser` when an account's sessions end), at
 * once on the node where it ended. Announcements are lost only with the subscription that carries
 * them, and a node forgets every session when it subscribes again (`forgetAll`), so `ttlMs` bounds
 * only what a node that never noticed its loss would keep.
 */
export function cachedSessions(authenticate: Authenticate, o: { ttlMs: number; maxEntries: number }) {
  const entries = new Map<string, { identity: Identity; until: number }>();
  const byUser = new Map<string, Set<string>>();
  /** Session hash (the id sessions are announced by) → the token kept under it. */
  const bySession = new Map<string, string>();
  const inFlight = new Map<string, Promise<Identity | null>>();
  /** When a session ("s" + hash) or a user ("u" + id) was last forgotten: a lookup that started before is not kept. */
  const forgotten = new Map<string, number>();
  /** How many times every session was forgotten (`forgetAll`): a lookup that started before is not kept. */
  let generation = 0;
  const forgottenSince = (key: string, started: number) => (forgotten.get(key) ?? -1) >= started;
  const markForgotten = (key: string) => {
    if (forgotten.size >= o.maxEntries) forgotten.clear();
    forgotten.set(key, Date.now());
  };

  function drop(token: string) {
    const e = entries.get(token);
    if (!e) return;
    entries.delete(token);
    if (e.identity.session) bySession.delete(e.identity.session.hash);
    const mine = byUser.get(e.identity.userId);
    mine?.delete(token);
    if (mine?.size === 0) byUser.delete(e.identity.userId);
  }

  function keep(token: string, identity: Identity) {
    if (entries.size >= o.maxEntries) drop(entries.keys().next().value!);
    entries.set(token, { identity, until: Math.min(Date.now() + o.ttlMs, identity.session?.expiresAt ?? Infinity) });
    if (identity.session) bySession.set(identity.session.hash, token);
    let mine = byUser.get(identity.userId);
    if (!mine) byUser.set(identity.userId, (mine = new Set()));
    mine.add(token);
  }

  const cached: Authenticate = async (token) => {
    if (o.ttlMs <= 0) return authenticate(token);
    const hit = entries.get(token);
    if (hit && hit.until > Date.now()) return hit.identity;
    if (hit) drop(token);
    let lookup = inFlight.get(token);
    if (!lookup) {
      const started = Date.now();
      const startedIn = generation;
      lookup = authenticate(token).finally(() => inFlight.delete(token));
      inFlight.set(token, lookup);
      const identity = await lookup;
      const ended = identity && (generation !== startedIn || forgottenSince(`u${identity.userId}`, started) || (identity.session && forgottenSince(`s${identity.session.hash}`, started)));
      if (identity && !ended) keep(token, identity);
      return identity;
    }
    return lookup;
  };

  return {
    authenticate: cached,
    /** One session ended (logout); `hash` is its id, the token's SHA-256. */
    forgetSession(hash: string) {
      markForgotten(`s${hash}`);
      const token = bySession.get(hash);
      if (token !== undefined) drop(token);
    },
    /** Every session of this user ended (disabled, role changed, new password). */
    forgetUser(userId: string) {
      markForgotten(`u${userId}`);
      for (const token of [...(byUser.get(userId) ?? [])]) drop(token);
    },
    /** Every session: announcements of ended sessions may have been missed (the node subscribed again). */
    forgetAll() {
      generation += 1;
      forgotten.clear();
      entries.clear();
      byUser.clear();
      bySession.clear();
    },
  };
}

export type SessionCache = ReturnType<typeof cachedSessions>;
