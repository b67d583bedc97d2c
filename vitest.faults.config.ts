import { defineConfig } from "vitest/config";

// The fault suite (`npm run test:faults`): one test per numbered case in issue 11's list, each in
// its own server processes and private Redis/PostgreSQL state, printing what it injected and
// what it checked (test/faults/reporter.ts).
export default defineConfig({
  test: {
    include: ["test/faults/**/*.fault.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 180_000,
    // As in `npm test`: in CI a case that fails runs once more (each case makes its own state), and
    // the report names a case that passed only then (test/faults/reporter.ts).
    retry: process.env.CI ? 1 : 0,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ["default", "./test/faults/reporter.ts"],
  },
});
