import { defineConfig } from "vitest/config";

// The Redis Cluster suite (`npm run test:cluster`): each file starts its own 3-master, 3-replica
// cluster on free loopback ports (scripts/redis-cluster.sh) and server processes on it, so files
// run one at a time.
export default defineConfig({
  test: {
    include: ["test/cluster/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    // As in vitest.config.ts: in CI a failed test runs once more and is named if it passes then.
    retry: process.env.CI ? 1 : 0,
  },
});
