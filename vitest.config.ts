import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The Redis Cluster suite has its own run (npm run test:cluster, vitest.cluster.config.ts).
    exclude: [...configDefaults.exclude, "test/cluster/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    // In CI a failed test runs once more, and scripts/test.sh names every test that passed only on
    // that second try, with its first failure: a flaky test shows in the log instead of failing a
    // run of four hundred (ARCHITECTURE.md, "Known flaky"). Locally a failure is a failure.
    retry: process.env.CI ? 1 : 0,
  },
});
