// WeChat login through the sandbox: wx.login code → jscode2session → our session token.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { devSession, devStream, WsClient } from "./support/clients.js";

const post = (url: string, body: unknown, token?: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe("WeChat login", () => {
  let server: TestServer;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** What the mini program does: wx.login() (the sandbox plays the phone), then our login. */
  async function wxLogin(openid?: string) {
    const { code } = (await (await post(`${server.url}/sandbox/wechat/login-code`, openid ? { openid } : {})).json()) as { code: string };
    return post(`${server.url}/v1/auth/login`, { code, nickname: "Mei" });
  }

  it("turns a wx.login code into our own session, keeping WeChat's session_key on the server", async () => {
    const res = await wxLogin();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; expiresAt: string; user: { id: string; nickname: string; role: string } };
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "token", "user"]);
    expect(body.user).toMatchObject({ nickname: "Mei", role: "user" });
    expect(JSON.stringify(body)).not.toMatch(/session_?key/i);

    const sql = postgres(services.databaseUrl, { max: 1 });
    const [row] = await sql<{ wechat_session_key: string | null; token_hash: string }[]>`select wechat_session_key, token_hash from sessions where user_id = ${body.user.id}`;
    await sql.end();
    expect(row!.wechat_session_key).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(row!.token_hash).not.toBe(body.token);

    const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${body.token}` } });
    expect(await me.json()).toEqual({ id: body.user.id, nickname: "Mei", username: null, avatarUrl: "", role: "user", hostOf: [] });
  });

  it("refuses a used, unknown or malformed code with LOGIN_CODE_INVALID", async () => {
    const { code } = (await (await post(`${server.url}/sandbox/wechat/login-code`, {})).json()) as { code: string };
    expect((await post(`${server.url}/v1/auth/login`, { code })).status).toBe(200);
    for (const bad of [code, "0".repeat(32), "not-a-code"]) {
      const res = await post(`${server.url}/v1/auth/login`, { code: bad });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "LOGIN_CODE_INVALID" });
    }
    const res = await post(`${server.url}/v1/auth/login`, {});
    expect(await res.json()).toMatchObject({ code: "INVALID_PARAMS" });
  });

  it("knows a returning WeChat user by openid", async () => {
    const first = (await (await wxLogin("oReturningUser01")).json()) as { user: { id: string } };
    const again = (await (await wxLogin("oReturningUser01")).json()) as { user: { id: string }; token: string };
    expect(again.user.id).toBe(first.user.id);
  });

  it("authenticates the live socket with the same session, and logout ends it", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const login = (await (await wxLogin()).json()) as { token: string; user: { id: string } };
    const url = `${server.ws}/live-stream/${streamId}/ws`;
    const ws = await WsClient.connect(url, { token: login.token });
    expect(await ws.next("snapshot")).toMatchObject({ you: { userId: login.user.id, role: "viewer" } });
    ws.send({ type: "comment", comment: { content: "logged in via WeChat", userId: "someone-else" } });
    expect((await ws.next("comment")).comment).toMatchObject({ userId: login.user.id, username: "Mei" });
    ws.close();

    expect((await post(`${server.url}/v1/auth/logout`, {}, login.token)).status).toBe(204);
    await expect(WsClient.connect(url, { token: login.token })).rejects.toMatchObject({ status: 401 });
    expect((await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${login.token}` } })).status).toBe(401);
  });

  it("speaks WeChat's error format in the sandbox's jscode2session", async () => {
    const res = await fetch(`${server.url}/sandbox/wechat/sns/jscode2session?appid=wxwrong&secret=x&js_code=y&grant_type=authorization_code`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ errcode: 40013, errmsg: "invalid appid" });
  });
});

describe("WeChat login when WeChat does not answer", () => {
  let server: TestServer;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { WECHAT_API_BASE: "http://127.0.0.1:9/unreachable" });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers 502 UPSTREAM_UNAVAILABLE, retryable", async () => {
    const { code } = (await (await post(`${server.url}/sandbox/wechat/login-code`, {})).json()) as { code: string };
    const res = await post(`${server.url}/v1/auth/login`, { code });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
  });
});
