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
      /** Hash: nodeId -> "<count>:<expiresAtMs>". */
      viewers: (id: string) => `${room(id)}:viewers`,
      /** Hash: userId -> muted-until ms. */
      muted: (id: string) => `${room(id)}:muted`,
      /** This second's budget of sampleable comments: "<unix second>:<used>". */
      budget: (id: string) => `${room(id)}:budget`,
      /** Sharded pub/sub channel of the room (SPUBLISH / SSUBSCRIBE). */
      channel: (id: string) => `${room(id)}:ch`,
    },
    flash: {
      /** Units left at the gate. */
      left: (id: string) => `${prefix}:{flash:${id}}:left`,
      /** Hash: userId -> units taken at the gate. */
      bought: (id: string) => `${prefix}:{flash:${id}}:bought`,
    },
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
