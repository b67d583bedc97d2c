import { afterAll, beforeAll } from "vitest";
import { startRedisCluster, type LocalCluster } from "./local-cluster.js";

export { startRedisCluster, type LocalCluster };

/** A private cluster for the calling test file, started before its tests and stopped after them. */
export function useRedisCluster() {
  const holder: { cluster: LocalCluster } = { cluster: null as unknown as LocalCluster };
  beforeAll(async () => {
    holder.cluster = await startRedisCluster();
  }, 120_000);
  afterAll(async () => {
    await holder.cluster?.stop();
  });
  return holder;
}
