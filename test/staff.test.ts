// Staff accounts: password sign-in, its limits and lockout, sessions, and what hosts and admins may open.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { staffAccount } from "./support/admin.js";
import { sleep, WsClient } from "./support/clients.js";
import { httpClient, type HttpClient } from "./support/http.js";

type Session = { token: string; expiresAt: string; user: { id: string; nickname: string; username: string; role: string; hostOf: string[] } };
type ErrorBody = { code: string; message: string; retryAfterSec?: number };

describe("staff sign-in and accounts", () => {
  let server: TestServer;
  let call: HttpClient;
  const services = useTestServices();
  let lastAddress = 0;
  /** Each test signs in from its own address (TRUST_PROXY believes X-Forwarded-For), so the per-address limit is its own. */
  const newAddress = () => `198.51.100.${++lastAddress}`;
  let adminPassword: string;

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, {
      TRUST_PROXY: "true",
      STAFF_LOGIN_PER_IP_PER_MIN: "6",
      STAFF_LOGIN_MAX_FAILURES: "3",
      STAFF_LOGIN_LOCK_SEC: "3",
    });
    call = httpClient(server.url);
    adminPassword = "admin-password-1";
    await staffAccount(services.databaseUrl, { username: "Root", password: adminPassword, role: "admin", nickname: "Root Admin" });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const login = (username: string, password: string, address = newAddress()) =>
    call<Session & ErrorBody>("POST", "/v1/auth/staff-login", { body: { username, password }, headers: { "x-forwarded-for": `203.0.113.9, ${address}` } });
  async function signIn(username: string, password: string) {
    const res = await login(username, password);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }
  async function newStaff(adminToken: string, username: string, role: "host" | "admin") {
    const password = `${username}-password`;
    const res = await call<{ id: string }>("POST", "/v1/admin/staff", { token: adminToken, body: { username, nickname: username.toUpperCase(), role, password } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.id, password, session: await signIn(username, password) };
  }

  it("signs a staff member in to the same session kind as a mini-program login, and logout ends it", async () => {
    const s = await signIn("root", adminPassword); // usernames are compared in lower case
    expect(s.user).toEqual({ id: s.user.id, nickname: "Root Admin", username: "root", avatarUrl: "", role: "admin", hostOf: [] });
    expect(new Date(s.expiresAt).getTime() - Date.now()).toBeGreaterThan(11 * 3600 * 1000); // STAFF_SESSION_TTL_SEC: 12 h
    const me = await call("GET", "/v1/me", { token: s.token });
    expect(me.body).toEqual(s.user);
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    const [row] = await sql<{ password_hash: string }[]>`select password_hash from users where id = ${s.user.id}`;
    const sessions = await sql`select 1 from sessions where user_id = ${s.user.id}`;
    await sql.end();
    expect(row!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(row!.password_hash).not.toContain(adminPassword);
    expect(sessions).toHaveLength(1);

    expect((await call("POST", "/v1/auth/logout", { token: s.token })).status).toBe(204);
    expect((await call<ErrorBody>("GET", "/v1/me", { token: s.token })).body.code).toBe("AUTH_FAILED");
  });

  it("answers a wrong password and an unknown user alike", async () => {
    const wrong = await login("root", "not-the-password");
    const unknown = await login("nobody-here", "not-the-password");
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ code: "LOGIN_FAILED", message: "Wrong username or password." });
    }
    expect((await login("", "x")).body.code).toBe("INVALID_PARAMS");
  });

  it("locks an account after failures in a row, with Retry-After, and a success resets the count", async () => {
    const admin = await signIn("root", adminPassword);
    const host = await newStaff(admin.token, "locky", "host");
    // Two failures, a success, two failures: never three in a row.
    for (const attempt of ["bad-1", "bad-2", host.password, "bad-3", "bad-4"]) {
      expect((await login("locky", attempt)).status).toBe(attempt === host.password ? 200 : 401);
    }
    const third = await login("locky", "bad-5");
    expect(third.status).toBe(423);
    expect(third.body).toMatchObject({ code: "ACCOUNT_LOCKED", retryAfterSec: 3 });
    expect(third.headers.get("retry-after")).toBe("3");
    const whileLocked = await login("LOCKY", host.password); // the right password does not open a locked account
    expect(whileLocked.status).toBe(423);
    expect(Number(whileLocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Unknown names lock the same way: a lock tells nothing about whether the account exists.
    for (let i = 0; i < 2; i++) expect((await login("ghost", "x")).status).toBe(401);
    expect((await login("ghost", "x")).status).toBe(423);

    await sleep(Number(whileLocked.headers.get("retry-after")) * 1000 + 100);
    expect((await login("locky", host.password)).status).toBe(200);
  });

  it("limits sign-ins per address with 429 and Retry-After", async () => {
    const address = newAddress();
    for (let i = 0; i < 6; i++) {
      const res = i === 5 ? await login("root", adminPassword, address) : await login(`stranger-${i}`, "wrong-ish", address);
      expect(res.status).toBe(i === 5 ? 200 : 401);
    }
    const over = await login("root", adminPassword, address);
    expect(over.status).toBe(429);
    expect(over.body.code).toBe("RATE_LIMITED");
    const wait = Number(over.headers.get("retry-after"));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(over.body.retryAfterSec).toBe(wait);
    expect((await login("root", adminPassword)).status).toBe(200); // another address is not held up
  });

  it("gives hosts their own streams only and keeps them out of admin routes", async () => {
    const admin = await signIn("root", adminPassword);
    const anna = await newStaff(admin.token, "anna", "host");
    const bo = await newStaff(admin.token, "bob", "host");
    const streamOf = async (hostUserId: string, title: string) =>
      (await call<{ id: string }>("POST", "/v1/streams", { token: admin.token, body: { title, hostUserId } })).body.id;
    const annas = await streamOf(anna.id, "Anna's tea");
    const bos = await streamOf(bo.id, "Bo's fans");

    expect((await call<ErrorBody>("GET", "/v1/admin/staff", { token: anna.session.token })).status).toBe(403);
    expect((await call<ErrorBody>("POST", "/v1/admin/staff", { token: anna.session.token, body: { username: "sneaky", nickname: "S", role: "admin", password: "0123456789ab" } })).status).toBe(403);
    expect((await call<ErrorBody>("PATCH", `/v1/admin/staff/${anna.id}`, { token: anna.session.token, body: { role: "admin" } })).status).toBe(403);
    expect((await call<ErrorBody>("POST", "/v1/streams", { token: anna.session.token, body: { title: "mine now" } })).status).toBe(403);
    const other = await call<ErrorBody>("POST", `/v1/streams/${bos}/key`, { token: anna.session.token });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe("FORBIDDEN");
    expect((await call("POST", `/v1/streams/${annas}/key`, { token: anna.session.token })).status).toBe(200);

    const mine = await call<{ id: string }[]>("GET", "/v1/streams/mine", { token: anna.session.token });
    expect(mine.body.map((s) => s.id)).toEqual([annas]);
    const all = await call<{ id: string }[]>("GET", "/v1/streams/mine", { token: admin.token });
    expect(all.body.map((s) => s.id)).toEqual(expect.arrayContaining([annas, bos]));
    expect((await call<Session["user"]>("GET", "/v1/me", { token: anna.session.token })).body).toMatchObject({ role: "host", username: "anna", hostOf: [annas] });

    // The same session opens the live room, as its host.
    const ws = await WsClient.connect(`${server.ws}/live-stream/${annas}/ws`, { token: anna.session.token });
    expect(await ws.next("snapshot")).toMatchObject({ you: { userId: anna.id, role: "host" } });
    ws.close();

    const list = await call<{ username: string; role: string; disabled: boolean; hostOf: string[] }[]>("GET", "/v1/admin/staff", { token: admin.token });
    expect(list.body.find((a) => a.username === "anna")).toMatchObject({ role: "host", disabled: false, hostOf: [annas] });
    expect(list.body.find((a) => a.username === "root")).toMatchObject({ role: "admin" });
    const taken = await call<ErrorBody>("POST", "/v1/admin/staff", { token: admin.token, body: { username: "ANNA", nickname: "Two", role: "host", password: "0123456789ab" } });
    expect(taken.status).toBe(409);
    const weak = await call<ErrorBody>("POST", "/v1/admin/staff", { token: admin.token, body: { username: "weak", nickname: "W", role: "host", password: "short" } });
    expect(weak.body.code).toBe("INVALID_PARAMS");
  });

  it("ends the sessions of a disabled account and of one whose role changed", async () => {
    const admin = await signIn("root", adminPassword);
    const cy = await newStaff(admin.token, "cyd", "host");
    const dee = await newStaff(admin.token, "dee", "host");
    const second = await signIn("cyd", cy.password); // every session goes, not just one
    expect((await call("GET", "/v1/me", { token: cy.session.token })).status).toBe(200);
    const cyStream = (await call<{ id: string }>("POST", "/v1/streams", { token: admin.token, body: { title: "Cy's room", hostUserId: cy.id } })).body.id;
    const live = await WsClient.connect(`${server.ws}/live-stream/${cyStream}/ws`, { token: second.token });
    expect(await live.next("snapshot")).toMatchObject({ you: { role: "host" } });

    const disabled = await call<{ disabled: boolean }>("PATCH", `/v1/admin/staff/${cy.id}`, { token: admin.token, body: { disabled: true } });
    expect(disabled.body.disabled).toBe(true);
    for (const t of [cy.session.token, second.token]) expect((await call<ErrorBody>("GET", "/v1/me", { token: t })).body.code).toBe("AUTH_FAILED");
    expect(await live.closed).toBe(4501); // SESSION_ENDED: the open socket goes too, on every node
    await expect(WsClient.connect(`${server.ws}/live-stream/none/ws`, { token: cy.session.token })).rejects.toMatchObject({ status: 401 });
    expect((await login("cyd", cy.password)).body.code).toBe("LOGIN_FAILED");
    await call("PATCH", `/v1/admin/staff/${cy.id}`, { token: admin.token, body: { disabled: false } });
    expect((await login("cyd", cy.password)).status).toBe(200);

    const promoted = await call<{ role: string }>("PATCH", `/v1/admin/staff/${dee.id}`, { token: admin.token, body: { role: "admin", nickname: "Dee" } });
    expect(promoted.body).toMatchObject({ role: "admin", nickname: "Dee" });
    expect((await call("GET", "/v1/me", { token: dee.session.token })).status).toBe(401);
    const dee2 = await signIn("dee", dee.password);
    expect(dee2.user).toMatchObject({ role: "admin", nickname: "Dee" });
    expect((await call("GET", "/v1/admin/staff", { token: dee2.token })).status).toBe(200);

    const reset = await call("PATCH", `/v1/admin/staff/${dee.id}`, { token: admin.token, body: { password: "a-brand-new-one" } });
    expect(reset.status).toBe(200);
    expect((await call("GET", "/v1/me", { token: dee2.token })).status).toBe(401);
    expect((await login("dee", dee.password)).status).toBe(401);
    expect((await login("dee", "a-brand-new-one")).status).toBe(200);

    const self = await call<ErrorBody>("PATCH", `/v1/admin/staff/${admin.user.id}`, { token: admin.token, body: { disabled: true } });
    expect(self.status).toBe(409);
    expect((await call("PATCH", "/v1/admin/staff/no-such-id", { token: admin.token, body: { nickname: "x" } })).status).toBe(404);
  });

  it("never keeps a sign-in's token under an Idempotency-Key, nor replays it", async () => {
    const address = newAddress();
    const withKey = () =>
      call<Session>("POST", "/v1/auth/staff-login", {
        body: { username: "root", password: adminPassword },
        headers: { "x-forwarded-for": address, "idempotency-key": "same-sign-in-key" },
      });
    const first = await withKey();
    const second = await withKey();
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    expect(second.body.token).not.toBe(first.body.token);
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    const stored = await sql`select 1 from idempotency_keys where key = 'same-sign-in-key'`;
    await sql.end();
    expect(stored).toHaveLength(0);
    const spec = (await call<{ paths: Record<string, { post: { parameters: { name: string }[] } }> }>("GET", "/openapi.json")).body;
    for (const path of ["/v1/auth/staff-login", "/v1/auth/login"]) {
      expect(spec.paths[path]!.post.parameters.map((p) => p.name), path).not.toContain("Idempotency-Key");
    }
  });

  it("describes every staff route in /openapi.json", async () => {
    const spec = (await call<{ paths: Record<string, Record<string, unknown>> }>("GET", "/openapi.json")).body;
    for (const [path, method] of [
      ["/v1/auth/staff-login", "post"],
      ["/v1/auth/logout", "post"],
      ["/v1/me", "get"],
      ["/v1/admin/staff", "get"],
      ["/v1/admin/staff", "post"],
      ["/v1/admin/staff/{id}", "patch"],
      ["/v1/streams/mine", "get"],
    ]) {
      expect(spec.paths[path!]?.[method!], `${method} ${path}`).toBeDefined();
    }
  });
});
