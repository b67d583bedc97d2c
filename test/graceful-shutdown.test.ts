// SIGTERM drains: no new connections, requests in flight finish (up to SHUTDOWN_GRACE_MS), then exit.
import { request } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { sleep, waitFor } from "./support/clients.js";

/** A GET on a new connection (no keep-alive pool): resolves with the status, or the connection error's code. */
function freshGet(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

async function loginCode(server: SpawnedServer) {
  const res = await fetch(`${server.url}/sandbox/wechat/login-code`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  return ((await res.json()) as { code: string }).code;
}

const login = (server: SpawnedServer, code: string): Promise<{ status: number; body: { token?: string; error?: string } }> =>
  fetch(`${server.url}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json", connection: "close" }, body: JSON.stringify({ code }) }).then(
    async (r) => ({ status: r.status, body: (await r.json()) as { token?: string } }),
    (err: Error) => ({ status: 0, body: { error: err.message } }),
  );

describe("graceful shutdown", () => {
  const services = useTestServices();
  const started: SpawnedServer[] = [];
  afterAll(async () => {
    for (const s of started) await s.kill();
  });

  it("finishes a login that is waiting on WeChat, refusing new connections meanwhile, then exits 0", async () => {
    const server = await spawnServer(services.databaseUrl, services.redisPrefix, { WECHAT_SANDBOX_LATENCY_MS: "1500", SHUTDOWN_GRACE_MS: "8000" });
    started.push(server);
    const code = await loginCode(server);
    const pending = login(server, code);
    await sleep(400); // the login now waits on jscode2session
    const term = Date.now();
    process.kill(server.pid, "SIGTERM");
    await sleep(200);
    expect(await freshGet(`${server.url}/healthz`)).toBe("ECONNREFUSED");
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await waitFor(() => server.exitCode() !== null, "the process exited", 10_000);
    expect(server.exitCode()).toBe(0);
    expect(Date.now() - term).toBeGreaterThanOrEqual(1000);
    expect(server.output()).toMatch(/"msg":"stopped"/);
  });

  it("gives up on what is still running after SHUTDOWN_GRACE_MS", async () => {
    const server = await spawnServer(services.databaseUrl, services.redisPrefix, { WECHAT_SANDBOX_LATENCY_MS: "10000", SHUTDOWN_GRACE_MS: "1000" });
    started.push(server);
    const pending = login(server, await loginCode(server));
    await sleep(300);
    const term = Date.now();
    process.kill(server.pid, "SIGTERM");
    await waitFor(() => server.exitCode() !== null, "the process exited", 10_000);
    expect(Date.now() - term).toBeLessThan(5000);
    expect((await pending).status).not.toBe(200);
  });
});
