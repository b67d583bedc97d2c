import { call } from "./http";
import { ROUTES } from "./paths";
import type { Ban, BanInput } from "./types";

/** The stream's own word filter (added to the server-wide list); matching words are masked with *. */
export const getSensitiveWords = (id: string) => call<{ words: string[]; globalWords: string[] }>(ROUTES.sensitiveWords, { id });
export const setSensitiveWords = (id: string, words: string[]) => call<{ words: string[]; globalWords: string[] }>(ROUTES.setSensitiveWords, { id }, { body: { words } });

/** The bans in force in one room, newest first (its host or an admin). */
export const roomBans = (id: string) => call<Ban[]>(ROUTES.roomBans, { id });
/** Bans (or renews the ban of) a user in one room: their sockets there close with BANNED on every node. */
export const banInRoom = (id: string, userId: string, input: BanInput) => call<Ban>(ROUTES.banInRoom, { id, userId }, { body: input });
export const liftRoomBan = (id: string, userId: string) => call<void>(ROUTES.liftRoomBan, { id, userId });
/** Closes a user's sockets in the room now (KICKED), with no lasting ban. */
export const kick = (id: string, userId: string) => call<void>(ROUTES.kick, { id }, { body: { userId } });
/** Admins: the bans from every room in force, newest first. */
export const siteBans = () => call<Ban[]>(ROUTES.siteBans);
export const banEverywhere = (userId: string, input: BanInput) => call<Ban>(ROUTES.banEverywhere, { userId }, { body: input });
export const liftSiteBan = (userId: string) => call<void>(ROUTES.liftSiteBan, { userId });
/** Lifts a ban where it was made: one room's, or every room's. */
export const liftBan = (ban: Ban) => (ban.streamId === null ? liftSiteBan(ban.userId) : liftRoomBan(ban.streamId, ban.userId));
