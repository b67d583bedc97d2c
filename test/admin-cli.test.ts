// `npm run admin -- create-admin|create-host`: run as a child process against a test database.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { httpClient } from "./support/http.js";
import { BUILT_ADMIN_CLI, BUILT_NODE_ARGS } from "../scripts/build-server.js";

/** Runs a command with the test database in its environment; resolves with its exit code and output. */
function run(command: string, args: string[], databaseUrl: string) {
  const child = spawn(command, args, { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}
const admin = (args: string[], databaseUrl: string) => run(process.execPath, [...BUILT_NODE_ARGS, BUILT_ADMIN_CLI, ...args], databaseUrl);

describe("the admin command", () => {
  const services = useTestServices();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("creates an admin with a generated password that signs in and may open admin routes", async () => {
    // Through npm, as the README says, on the database the server uses.
    const out = await run("npm", ["run", "-s", "admin", "--", "create-admin", "--username", "First.Admin"], services.databaseUrl);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/Created admin "first\.admin"/);
    const password = /Password: (\S+)/.exec(out.stdout)?.[1];
    expect(password).toMatch(/^[A-Za-z2-9]{20}$/);

    const call = httpClient(server.url);
    const login = await call<{ token: string; user: { role: string; username: string } }>("POST", "/v1/auth/staff-login", { body: { username: "first.admin", password } });
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ role: "admin", username: "first.admin" });
    expect((await call("GET", "/v1/admin/staff", { token: login.body.token })).status).toBe(200);
  });

  it("creates a host with a given password and nickname, and refuses a taken username", async () => {
    const out = await admin(["create-host", "--username", "tea-host", "--password", "a long password", "--nickname", "Tea Host"], services.databaseUrl);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).not.toContain("a long password");
    const login = await httpClient(server.url)<{ user: { role: string; nickname: string } }>("POST", "/v1/auth/staff-login", { body: { username: "tea-host", password: "a long password" } });
    expect(login.body.user).toMatchObject({ role: "host", nickname: "Tea Host" });

    const again = await admin(["create-admin", "--username", "TEA-HOST"], services.databaseUrl);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('The username "tea-host" is taken.');
  });

  it("explains its usage on bad arguments", async () => {
    for (const args of [[], ["create-boss", "--username", "x1x"], ["create-host"], ["create-host", "--username", "ok-name", "--password", "short"]]) {
      const out = await admin(args, services.databaseUrl);
      expect(out.code, args.join(" ")).toBe(2);
      expect(out.stderr).toContain("Usage: npm run admin --");
    }
  });
});
