// The HTTP face of issue 2: health, readiness, metrics, the dev-only session endpoints, bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from "./support/servers.js";
import { CLOSE_CODES } from "../src/protocol/errors.js";
import { productionWechatEnv } from "./support/wechat.js";
import { devSession, devStream, WsClient } from "./support/clients.js";

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

describe("http", () => {
  let server: TestServer;
  let production: SpawnedServer;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    production = await spawnServer(services.databaseUrl, services.redisPrefix, {
      NODE_ENV: "production",
      ALLOWED_ORIGINS: "https://console.pinlive.test",
      ...productionWechatEnv(),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await production?.stop();
  });

  it("answers /healthz, /readyz and /metrics", async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { redis: "ok", redisSubscriber: "ok", database: "ok" } });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ["pinlive_connections", "pinlive_rooms", "pinlive_messages_in_total", "pinlive_messages_out_total", "pinlive_dropped_total", "pinlive_redis_latency_seconds"]) {
      expect(metrics).toContain(`# TYPE ${name}`);
    }
  });

  it("counts connections and messages in /metrics", async () => {
    const host = await devSession(server.url, "Host");
    const res = await post(`${server.url}/v1/dev/streams`, JSON.stringify({ title: "m" }), { authorization: `Bearer ${host.token}` });
    const { streamId } = (await res.json()) as { streamId: string };
    const ws = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`, { token: host.token });
    await ws.next("snapshot");
    ws.send({ type: "ping" });
    await ws.next("pong");
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/pinlive_connections\{transport="ws"\} 1/);
    expect(metrics).toMatch(/pinlive_messages_in_total\{type="ping"\} 1/);
    ws.close();
  });

  it("answers unknown routes with 404 NOT_FOUND", async () => {
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
  });

  it("validates the dev endpoints' input with stable codes", async () => {
    const cases: [string, string, Record<string, string>, number, string][] = [
      ["/v1/dev/sessions", "{", {}, 400, "INVALID_PARAMS"],
      ["/v1/dev/sessions", JSON.stringify({ nickname: "" }), {}, 400, "INVALID_PARAMS"],
      ["/v1/dev/sessions", JSON.stringify({ nickname: 5 }), {}, 400, "INVALID_PARAMS"],
      ["/v1/dev/sessions", JSON.stringify({ nickname: "x".repeat(100_000) }), {}, 413, "PAYLOAD_TOO_LARGE"],
      ["/v1/dev/streams", JSON.stringify({ title: "t" }), {}, 401, "AUTH_REQUIRED"],
      ["/v1/dev/streams", JSON.stringify({ title: "t" }), { authorization: `Bearer ${"z".repeat(43)}` }, 401, "AUTH_FAILED"],
    ];
    for (const [path, body, headers, status, code] of cases) {
      const res = await post(`${server.url}${path}`, body, headers);
      expect(res.status, `${path} ${body.slice(0, 20)}`).toBe(status);
      expect(await res.json()).toMatchObject({ code });
    }
  });

  it("has no dev endpoints and no WeChat sandbox in production, and refuses browsers from unlisted origins", async () => {
    const res = await post(`${production.url}/v1/dev/sessions`, JSON.stringify({ nickname: "x" }));
    expect(res.status).toBe(404);
    expect((await post(`${production.url}/sandbox/wechat/login-code`, "{}")).status).toBe(404);
    expect((await fetch(`${production.url}/sandbox/wechat/sns/jscode2session?appid=wx0000000000000000`)).status).toBe(404);
    expect((await post(`${production.url}/sandbox/wechat/pay`, "{}")).status).toBe(404);
    await expect(WsClient.connect(`${production.ws}/live-stream/any/ws`, { headers: { origin: "https://evil.test" } })).rejects.toMatchObject({
      status: 403,
    });
  });

  it("shuts down gracefully on SIGTERM: sockets get SERVER_SHUTDOWN, the process exits 0", async () => {
    const node = await spawnServer(services.databaseUrl, services.redisPrefix);
    const host = await devSession(node.url, "Host");
    const ws = await WsClient.connect(`${node.ws}/live-stream/${await devStream(node.url, host.token)}/ws`);
    await ws.next("snapshot");
    await node.stop();
    expect(await ws.closed).toBe(CLOSE_CODES.SERVER_SHUTDOWN.code);
    expect(node.exitCode()).toBe(0);
    expect(node.output()).toContain('"msg":"stopped"');
  });
});
