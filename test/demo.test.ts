// The demo: console sign-ins shown at every start, the simulated audience moving the demo room,
// the ffmpeg test pattern making it live; none of it in production.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { sleep, waitFor, WsClient } from "./support/clients.js";
import { httpClient } from "./support/http.js";
import { productionWechatEnv } from "./support/wechat.js";
import { loadConfig } from "../src/config.js";

type DemoLine = { consoleUrl: string; host: { username: string; password: string }; admin: { username: string; password: string } };

const demoEnv = {
  DEMO_DATA: "true",
  DEMO_AUDIENCE: "true",
  DEMO_AUDIENCE_VIEWERS: "8",
  DEMO_AUDIENCE_COMMENTS_PER_SEC: "3",
  DEMO_AUDIENCE_LIKES_PER_SEC: "10",
  DEMO_AUDIENCE_PURCHASES_PER_MIN: "40",
  DEMO_AUDIENCE_GROUP_JOINS_PER_MIN: "30",
  COUNTS_INTERVAL_MS: "200",
  DEMO_PUBLISH: "true",
  INGEST_ENABLED: "true",
  RTMP_PORT: "0",
  FLV_PORT: "0",
};

/** The demo's log line with the console URL and the sign-ins. */
async function demoLine(server: SpawnedServer): Promise<DemoLine> {
  await waitFor(() => server.output().includes('"msg":"demo console'), "the demo console line", 20_000);
  const line = server.output().split("\n").find((l) => l.includes('"msg":"demo console'))!;
  return JSON.parse(line) as DemoLine;
}

describe("the demo", () => {
  const services = useTestServices();
  let server: SpawnedServer;

  beforeAll(async () => {
    server = await spawnServer(services.databaseUrl, services.redisPrefix, demoEnv);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("prints the console URL and the host's and admin's sign-ins, the same at every start", async () => {
    const first = await demoLine(server);
    expect(first.consoleUrl).toBe(`${server.url}/console/`);
    expect(first.host.username).toBe("host");
    expect(first.admin.username).toBe("admin");
    expect(first.host.password).toMatch(/^[A-Za-z2-9]{20}$/);
    expect(first.admin.password).not.toBe(first.host.password);
    const call = httpClient(server.url);
    for (const who of [first.host, first.admin]) {
      const res = await call<{ user: { username: string; role: string } }>("POST", "/v1/auth/staff-login", { body: who });
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ username: who.username, role: who.username });
    }
    expect(server.output()).not.toContain(`${server.url}/console/?`); // never in a URL
    expect(server.output()).not.toMatch(/[?&]token=|"\w*[Tt]oken":"/); // no session token is logged, in a URL or otherwise

    // Another node on the same database shows the same sign-ins (only hashes are on the accounts).
    const second = await spawnServer(services.databaseUrl, services.redisPrefix, { DEMO_DATA: "true" });
    try {
      const again = await demoLine(second);
      expect(again.host).toEqual(first.host);
      expect(again.admin).toEqual(first.admin);
    } finally {
      await second.stop();
    }
  });

  it("publishes a test pattern to the demo room with a fresh key, so it is live", async () => {
    const call = httpClient(server.url);
    await waitFor(() => server.output().includes("publishing a test pattern"), "the publisher started", 20_000);
    let status = "";
    const deadline = Date.now() + 20_000;
    while (status !== "live" && Date.now() < deadline) {
      status = (await call<{ stream: { status: string } }>("GET", "/v1/streams/demo")).body.stream.status;
      if (status !== "live") await sleep(200);
    }
    expect(status).toBe("live");
    expect(server.output()).not.toMatch(/sk_[A-Za-z0-9_-]{20,}/); // the key is never logged
  });

  it("moves the demo room: viewers come and go, comments, likes, purchases and group buys", async () => {
    const watcher = await WsClient.connect(`${server.ws}/live-stream/demo/ws`);
    await watcher.next("snapshot");
    const counts = () => watcher.of("viewer_count").map((f) => f.count as number);
    await watcher.until(
      () => {
        const c = counts();
        return c.some((n) => n >= 4) && c.some((n, i) => i > 0 && n < c[i - 1]!);
      },
      30_000,
      "viewers rising and falling",
    );
    await watcher.until((f) => f.filter((x) => x.type === "comment").length >= 5, 20_000, "comments");
    await watcher.until((f) => f.some((x) => x.type === "like_count" && (x.count as number) > 10), 20_000, "likes");
    await watcher.until((f) => f.some((x) => x.type === "purchase"), 30_000, "a purchase paid in the sandbox");
    await watcher.until((f) => f.some((x) => x.type === "group_progress"), 30_000, "a group buy");
    const viewers = new Set(watcher.of("comment").map((f) => (f.comment as { userId: string }).userId));
    expect(viewers.size).toBeGreaterThanOrEqual(2);
    watcher.close();
  });

  it("is refused in production", async () => {
    const production = { NODE_ENV: "production", ...productionWechatEnv() };
    const start = spawnServer(services.databaseUrl, services.redisPrefix, { ...production, DEMO_AUDIENCE: "true" });
    await expect(start).rejects.toThrow(/DEMO_AUDIENCE: the demo cannot run in production/);
    for (const name of ["DEMO_DATA", "DEMO_PUBLISH"]) {
      expect(() => loadConfig({ ...production, [name]: "true" })).toThrow(`${name}: the demo cannot run in production`);
    }
    expect(() => loadConfig({ NODE_ENV: "development", DEMO_AUDIENCE: "true", WECHAT_SANDBOX: "false", ...productionWechatEnv() })).toThrow(/DEMO_AUDIENCE: the simulated audience/);
    // An unset NODE_ENV is production too.
    expect(() => loadConfig({ ...productionWechatEnv(), DEMO_DATA: "true" })).toThrow("DEMO_DATA: the demo cannot run in production");
  });
});
