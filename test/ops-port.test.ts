// Operations endpoints in production: /metrics and /readyz's details only on OPS_PORT, /healthz everywhere.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { productionWechatEnv } from "./support/wechat.js";

describe("the ops port in production", () => {
  const services = useTestServices();
  let server: SpawnedServer;
  let ops = "";

  beforeAll(async () => {
    server = await spawnServer(services.databaseUrl, services.redisPrefix, { NODE_ENV: "production", ...productionWechatEnv(), OPS_PORT: "0" });
    const port = /"opsPort":(\d+)/.exec(server.output())?.[1];
    ops = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("keeps /healthz and a bare /readyz on the API port, and nothing more", async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(404);
    expect(await metrics.text()).not.toContain("pinlive_");
  });

  it("serves /metrics, /readyz with its checks and /healthz on OPS_PORT", async () => {
    expect(ops).toMatch(/:\d+$/);
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(metrics).toContain("# TYPE pinlive_connections");
    expect(await (await fetch(`${ops}/readyz`)).json()).toEqual({ status: "ready", checks: { redis: "ok", redisSubscriber: "ok", database: "ok" } });
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    expect((await fetch(`${ops}/v1/products`)).status).toBe(404);
  });
});
