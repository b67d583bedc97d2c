import { call } from "./http";
import { ROUTES } from "./paths";
import type { StatsPoint } from "./types";

/** The show's 10-second buckets after `since` (ms), oldest first. */
export async function streamStats(id: string, since?: number): Promise<StatsPoint[]> {
  const body = await call<StatsPoint[] | { points: StatsPoint[] }>(ROUTES.streamStats, { id }, { query: { since } });
  return Array.isArray(body) ? body : body.points;
}
