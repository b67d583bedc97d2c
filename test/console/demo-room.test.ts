// The demo room in the console, as `npm run demo` shows it: the demo host signs in and watches the
// simulated audience (shortened: 2-second stats buckets) move the charts, comments and purchases,
// with the test pattern playing in the preview when ffmpeg is there.
import { spawnSync } from "node:child_process";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { sleep } from "../support/clients.js";
import { shot, useConsole } from "./harness.js";

const hasFfmpeg = spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status === 0;

describe("the demo room in the console", () => {
  const { h, page, signIn } = useConsole({
    DEMO_DATA: "true",
    DEMO_AUDIENCE: "true",
    DEMO_AUDIENCE_VIEWERS: "8",
    DEMO_AUDIENCE_COMMENTS_PER_SEC: "1.5",
    DEMO_AUDIENCE_LIKES_PER_SEC: "8",
    DEMO_AUDIENCE_PURCHASES_PER_MIN: "20",
    DEMO_AUDIENCE_GROUP_JOINS_PER_MIN: "6",
    STATS_BUCKET_SEC: "2",
    ...(hasFfmpeg ? { INGEST_ENABLED: "true", RTMP_PORT: "0", FLV_PORT: "0", DEMO_PUBLISH: "true" } : {}),
  });

  /** The demo host's generated password, as `npm run demo` prints it. */
  async function demoHost() {
    const sql = postgres(h.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ value: Record<string, string> }[]>`select value from dev_credentials where name = 'demo-staff'`;
      return { id: "demo-host", username: "host", password: row!.value.host!, token: "" };
    } finally {
      await sql.end();
    }
  }

  it("draws the simulated audience: chart points, comments, likes, purchases and orders, and the live preview", async () => {
    const p = await page();
    await signIn(p, await demoHost());
    await p.locator("[data-test=open-demo]").click();
    await p.waitForURL(/\/console\/streams\/demo$/);

    // A shortened minute: ten 2-second buckets.
    await sleep(20_000);
    const points = async (chart: string) => Number(await p.locator(`[data-test=${chart}]`).getAttribute("data-points"));
    await expect.poll(() => points("chart-viewers"), { timeout: 20_000 }).toBeGreaterThanOrEqual(8);
    for (const chart of ["chart-likes", "chart-comments", "chart-sales"]) expect(await points(chart), chart).toBeGreaterThanOrEqual(8);
    await expect.poll(async () => Number(await p.locator("[data-test=kpi-viewers]").textContent())).toBeGreaterThan(1);
    await expect.poll(async () => Number(await p.locator("[data-test=kpi-likes]").textContent())).toBeGreaterThan(0);
    await expect.poll(() => p.locator("[data-test=comment]").count()).toBeGreaterThan(3);
    await expect.poll(async () => Number(await p.locator("[data-test=kpi-orders]").textContent()), { timeout: 40_000 }).toBeGreaterThan(0);
    await expect.poll(() => p.locator("[data-test=purchase-ticker]").textContent(), { timeout: 30_000 }).toContain("刚刚买了");
    if (hasFfmpeg) {
      await expect.poll(() => p.locator("[data-test=room-status]").textContent(), { timeout: 20_000 }).toBe("直播中");
      await expect.poll(() => p.locator("video").evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 }).toBeGreaterThan(0.5);
    }
    await shot(p, "control-room");
    await p.getByRole("tab", { name: "拼团" }).click();
    await expect.poll(() => p.locator("[data-test=group-activity]").count()).toBeGreaterThan(0);
    await shot(p, "control-room-groups");
    await p.getByRole("tab", { name: "商品" }).click();
    await p.setViewportSize({ width: 1024, height: 768 });
    await shot(p, "control-room-live-1024x768");
  }, 180_000);
});
