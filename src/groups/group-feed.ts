import { eq, sql } from "drizzle-orm";
import { coalesce } from "../coalesce.js";
import type { RedisClient } from "../redis/connect.js";
import type { Db } from "../db/client.js";
import { groups } from "../db/groups.schema.js";
import type { GroupProgress, SetRoomState, StatePush } from "../protocol/messages.js";
import { openGroupsOfStream, progressOf } from "./group-progress.js";

export const groupPush = (group: GroupProgress, roomGroups?: GroupProgress[]): StatePush => ({
  type: group.status === "complete" ? "group_complete" : group.status === "failed" ? "group_failed" : "group_progress",
  group,
  ...(roomGroups ? { groups: roomGroups } : {}),
});

/**
 * Tells everyone about a group's change: its live room (state `groups`: the room's open groups)
 * and every node's watchers of the group (one sharded channel; each node serializes once per
 * group). The group's progress and the room's list are read and sent under the group's and the
 * room's advisory locks, so announcements of one group (and of one room) go out in the order their
 * changes committed: a slower, older one never lands last. The room hears of a group once it
 * opened (a leader-pays group when its leader paid: nobody can join before; a join-first group at once).
 * A node announces a group once at a time, and announcements asked meanwhile fold into one (it reads
 * the newest): a rush of joins, or Redis silent, holds one pool connection per group, not one each.
 */
export function createGroupFeed(deps: {
  db: Db;
  redis: RedisClient;
  channel: string;
  setRoomState: SetRoomState;
}) {
  return coalesce(async function announce(groupId: string) {
    await deps.db.transaction(async (tx) => {
      const [g] = await tx.select({ streamId: groups.streamId, openedAt: groups.openedAt }).from(groups).where(eq(groups.id, groupId));
      if (!g) return;
      const roomId = g.openedAt ? g.streamId : null;
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`group:${groupId}`}))`);
      if (roomId) await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`groups:${roomId}`}))`);
      const progress = (await progressOf(tx, groupId))!;
      if (roomId) {
        const list = await openGroupsOfStream(tx, roomId);
        await deps.setRoomState(roomId, "groups", list, groupPush(progress, list));
      }
      await deps.redis.spublish(deps.channel, JSON.stringify(groupPush(progress)));
    });
  });
}
