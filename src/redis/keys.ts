/**
 * Every Redis key and channel name. All keys of one room share the hash tag `{room:ID}` so the
 * room's Lua scripts stay single-slot on Redis Cluster. Ids never contain ':' or braces.
 */
export function redisKeys(prefix: string) {
  const room = (id: string) => `${prefix}:{room:${id}}`;
  return {
    prefix,
    room: {
      /** Random id of the current event sequence; a new one means every old position is void. */
      epoch: (id: string) => `${room(id)}:epoch`,
      /** Last seq handed out in the current epoch. */
      seq: (id: string) => `${room(id)}:seq`,
      /** Bounded stream of serialized events, entry id `<seq>-1`. */
      events: (id: string) => `${room(id)}:events`,
      /** Hash: status, bubble, pinned, slowModeSec, likes. */
      state: (id: string) => `${room(id)}:state`,
      /** Hash: nodeId -> "<anonymous connections>:<expiresAtMs>", one entry per node with viewers of the room. */
      viewers: (id: string) => `${room(id)}:viewers`,
      /** Hash: userId -> how many nodes that person watches the room from (signed-in viewers, counted once). */
      people: (id: string) => `${room(id)}:people`,
      /** Sorted set (all scores 0, read by range of names): "<nodeId>\t<userId>" for each person on each node. */
      presence: (id: string) => `${room(id)}:presence`,
      /** Hash: userId -> muted-until ms. */
      muted: (id: string) => `${room(id)}:muted`,
      /** This second's budget of sampleable comments: "<unix second>:<used>". */
      budget: (id: string) => `${room(id)}:budget`,
      /** Sharded pub/sub channel of the room (SPUBLISH / SSUBSCRIBE). */
      channel: (id: string) => `${room(id)}:ch`,
      /** Hash: stats bucket start ms -> "<viewers>:<likes>:<comments>" totals when the bucket began. */
      stats: (id: string) => `${room(id)}:stats`,
    },
    login: {
      /** Staff sign-in attempts from one address in the current minute. */
      ip: (address: string) => `${prefix}:login:ip:${address.replace(/[^0-9A-Za-z.]/g, "_")}`,
      /** Failed sign-ins in a row for one username (by hash), and its lock; one hash tag per account. */
      failures: (account: string) => `${prefix}:{login:${account}}:failures`,
      lock: (account: string) => `${prefix}:{login:${account}}:lock`,
    },
    /** A route limit's counter for one client address or user in the current window ("ip" | "user"). */
    rateLimit: (name: string, by: "ip" | "user", id: string) => `${prefix}:rl:${name}:${by}:${id.replace(/[^0-9A-Za-z._-]/g, "_")}`,
    flash: {
      /** Units left at the gate. */
      left: (id: string) => `${prefix}:{flash:${id}}:left`,
      /** Hash: userId -> units taken at the gate. */
      bought: (id: string) => `${prefix}:{flash:${id}}:bought`,
      /** Hash: "<userId>\n<Idempotency-Key>" -> the gate's answer to that request (takes, and refusals of takes given back). */
      requests: (id: string) => `${prefix}:{flash:${id}}:requests`,
      /** Hash: "<userId>\n<Idempotency-Key>" -> the gate's own refusal (sold out, over the limit); kept a while after the last. */
      refused: (id: string) => `${prefix}:{flash:${id}}:refused`,
      /** Hash: orderId -> a take not yet known in PostgreSQL. */
      pending: (id: string) => `${prefix}:{flash:${id}}:pending`,
      /** Hash: orderId -> 1: cancelled orders whose units this gate has back (each order's once). */
      given: (id: string) => `${prefix}:{flash:${id}}:given`,
    },
    /** Sharded channel of users whose sessions ended: every node closes their live sockets. */
    sessionsChannel: `${prefix}:{sessions}:ch`,
    /** Sharded channel of room bans, lifts and kicks: every node closes the user's sockets and updates its mirror. */
    bansChannel: `${prefix}:{bans}:ch`,
    /** Sharded channel of every group-buy change, for nodes with watchers of a group. */
    groupsChannel: `${prefix}:{groups}:ch`,
    sandbox: {
      /** A wx.login code the sandbox issued: openid, single use, 5 minutes. */
      loginCode: (code: string) => `${prefix}:sandbox:code:${code}`,
    },
    /** BullMQ's key prefix: one hash tag, so each queue's keys (and Lua scripts) stay in one cluster slot. */
    jobs: `{${prefix}:jobs}`,
    /** socket.io redis-adapter channel prefix. */
    socketIo: `${prefix}:socket.io`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
