import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Db } from "../db/client.js";
import type { GroupProgress, StatePush } from "../protocol/messages.js";
import { openGroupsOfStream } from "./group-progress.js";

export const groupPush = (group: GroupProgress): StatePush => ({
  type: group.status === "complete" ? "group_complete" : group.status === "failed" ? "group_failed" : "group_progress",
  group,
});

/**
 * Tells everyone about a group's change: its live room (state `groups`: the room's open groups,
 * recomputed from PostgreSQL under a per-room lock so an older list never lands last) and every
 * node's watchers of the group (one sharded channel; each node serializes once per group).
 */
export function createGroupFeed(deps: {
  db: Db;
  redis: Redis;
  channel: string;
  setRoomState: (roomId: string, field: string, value: unknown, push: StatePush) => Promise<void>;
}) {
  return async function announce(group: GroupProgress, streamId: string | null) {
    const push = groupPush(group);
    if (streamId) {
      await deps.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`groups:${streamId}`}))`);
        await deps.setRoomState(streamId, "groups", await openGroupsOfStream(tx, streamId), push);
      });
    }
    await deps.redis.spublish(deps.channel, JSON.stringify(push));
  };
}
