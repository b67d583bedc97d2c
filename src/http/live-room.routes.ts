import { z } from "zod";
import { SensitiveWords, SensitiveWordsInput, type SensitiveWordsService } from "../live/sensitive-words.js";
import { StatsPoint, type StreamStats } from "../live/stream-stats.js";
import { Ban, BanInput, type Bans } from "../live/bans.service.js";
import type { Api } from "./api.js";

const Id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const IdParams = z.object({ id: Id });
const BanParams = z.object({ id: Id, userId: Id });

/** The host's tools for a room beyond the socket commands: the show's stats, the room's word filter, bans and kicks. */
export function liveRoomRoutes(api: Api, deps: { stats: StreamStats; words: SensitiveWordsService; bans: Bans }) {
  api.route(
    {
      method: "get",
      path: "/v1/streams/:id/stats",
      summary: "My stream's time series while its room was open, oldest first: one point per bucket (STATS_BUCKET_SEC) with viewers, and likes, comments, paid orders and GMV until the next point",
      tag: "live",
      auth: "user",
      params: IdParams,
      query: z.object({ since: z.coerce.number().int().min(0).default(0) }),
      response: z.array(StatsPoint),
    },
    ({ user, params, query }) => deps.stats.series(user!, params.id, query.since),
  );
  api.route(
    { method: "get", path: "/v1/streams/:id/sensitive-words", summary: "My stream's own sensitive words (and the global ones)", tag: "live", auth: "user", params: IdParams, response: SensitiveWords },
    ({ user, params }) => deps.words.get(user!, params.id),
  );
  api.route(
    {
      method: "put",
      path: "/v1/streams/:id/sensitive-words",
      summary: "Replace my stream's own sensitive words: masked in its comments on every node from now on",
      tag: "live",
      auth: "user",
      params: IdParams,
      body: SensitiveWordsInput,
      response: SensitiveWords,
    },
    ({ user, params, body }) => deps.words.set(user!, params.id, body.words),
  );
  banRoutes(api, deps.bans);
}

/** Bans from one room (its host or an admin) and from every room (admins); kicks. Sockets close on every node at once. */
function banRoutes(api: Api, bans: Bans) {
  api.route(
    { method: "get", path: "/v1/streams/:id/bans", summary: "The bans in force in my stream's room, newest first", tag: "live", auth: "user", params: IdParams, response: z.array(Ban) },
    ({ user, params }) => bans.listRoom(user!, params.id),
  );
  api.route(
    {
      method: "put",
      path: "/v1/streams/:id/bans/:userId",
      summary: "Ban a user from my stream's room (again: renews it): their sockets there close with BANNED (4503) on every node; comments, likes and reconnects are refused until it ends or is lifted",
      tag: "live",
      auth: "user",
      params: BanParams,
      body: BanInput,
      response: Ban,
    },
    ({ user, params, body }) => bans.banInRoom(user!, params.id, params.userId, body),
  );
  api.route(
    { method: "del", path: "/v1/streams/:id/bans/:userId", summary: "Lift a user's ban from my stream's room", tag: "live", auth: "user", params: BanParams, response: z.undefined(), status: 204 },
    async ({ user, params }) => {
      await bans.liftInRoom(user!, params.id, params.userId);
      return undefined;
    },
  );
  api.route(
    {
      method: "post",
      path: "/v1/streams/:id/kicks",
      summary: "Close a user's sockets in my stream's room now with KICKED (4502), on every node, with no lasting ban: they may enter again",
      tag: "live",
      auth: "user",
      params: IdParams,
      body: z.object({ userId: Id }),
      response: z.undefined(),
      status: 204,
    },
    async ({ user, params, body }) => {
      await bans.kick(user!, params.id, body.userId);
      return undefined;
    },
  );
  api.route(
    { method: "get", path: "/v1/admin/bans", summary: "Bans from every room in force, newest first", tag: "admin", auth: "admin", response: z.array(Ban) },
    () => bans.listEverywhere(),
  );
  api.route(
    {
      method: "put",
      path: "/v1/admin/bans/:userId",
      summary: "Ban a viewer from every room (again: renews it); their live sockets close with BANNED (4503) on every node",
      tag: "admin",
      auth: "admin",
      params: z.object({ userId: Id }),
      body: BanInput,
      response: Ban,
    },
    ({ user, params, body }) => bans.banEverywhere(user!, params.userId, body),
  );
  api.route(
    { method: "del", path: "/v1/admin/bans/:userId", summary: "Lift a user's ban from every room", tag: "admin", auth: "admin", params: z.object({ userId: Id }), response: z.undefined(), status: 204 },
    async ({ user, params }) => {
      await bans.liftEverywhere(user!, params.userId);
      return undefined;
    },
  );
}
