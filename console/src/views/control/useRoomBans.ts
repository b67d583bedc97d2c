import { computed, onMounted, ref } from "vue";
import { describeError } from "../../api/errors";
import { banEverywhere, banInRoom, kick, liftBan, roomBans, siteBans } from "../../api/live";
import type { Ban, BanInput } from "../../api/types";
import { isAdmin } from "../../session";

/**
 * The bans that keep people out of this room, as this console knows them: the room's own, and for
 * an admin also those from every room. Read when the room opens, when the list is opened and after
 * every change made here (the server closes the user's sockets; nothing else to do in the page).
 */
export function useRoomBans(streamId: string) {
  const bans = ref<Ban[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function load() {
    loading.value = true;
    try {
      const [room, site] = await Promise.all([roomBans(streamId), isAdmin.value ? siteBans() : Promise.resolve([])]);
      bans.value = [...room, ...site].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      error.value = null;
    } catch (err) {
      error.value = describeError(err);
    } finally {
      loading.value = false;
    }
  }
  onMounted(load);

  /** Users with a ban in force here. */
  const banned = computed(() => new Set(bans.value.map((b) => b.userId)));

  return {
    bans,
    loading,
    error,
    banned,
    load,
    /** Bans here (or, `everywhere`, from every room: admins), then reads the list again. */
    async ban(userId: string, input: BanInput, everywhere = false) {
      await (everywhere ? banEverywhere(userId, input) : banInRoom(streamId, userId, input));
      await load();
    },
    async lift(ban: Ban) {
      await liftBan(ban);
      await load();
    },
    kick: (userId: string) => kick(streamId, userId),
  };
}

export type RoomBans = ReturnType<typeof useRoomBans>;
