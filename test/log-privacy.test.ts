// Logs carry no personal data and no tokens: a query that fails is logged without its parameters.
import { createHash } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { httpClient } from "./support/http.js";
import { logRecords, secretsIn } from "./support/logs.js";
import { waitFor } from "./support/clients.js";

describe("logs", () => {
  const services = useTestServices();
  let server: SpawnedServer;

  beforeAll(async () => {
    server = await spawnServer(services.databaseUrl, services.redisPrefix);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("never carry a failed query's parameters: no phone number, name, address, token or token hash", async () => {
    const call = httpClient(server.url);
    const { code } = (await call<{ code: string }>("POST", "/sandbox/wechat/login-code", { body: { openid: "oPrivacyCheck0001" } })).body;
    const login = await call<{ token: string }>("POST", "/v1/auth/login", { body: { code, nickname: "Zhang Wei" } });
    const token = login.body.token;
    const tokenHash = createHash("sha256").update(token).digest("hex");

    // Every insert of an address and every deletion of a session fails inside PostgreSQL.
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    await sql.unsafe(`
      create function pinlive_test_fail() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$;
      create trigger fail_addresses before insert on addresses for each row execute function pinlive_test_fail();
      create trigger fail_sessions before delete on sessions for each row execute function pinlive_test_fail();
    `);
    try {
      const address = { name: "Zhang Wei", phone: "13912345678", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "88 Quiet Garden Lane" };
      const added = await call("POST", "/v1/addresses", { token, body: address });
      expect(added.status).toBe(500);
      const logout = await call("POST", "/v1/auth/logout", { token });
      expect(logout.status).toBe(500);
      await fetch(`${server.url}/v1/me?token=${token}`, { headers: { authorization: `Bearer ${token}` } });

      await waitFor(() => logRecords(server.output()).filter((r) => r.msg === "handler failed").length >= 2, "both failures logged");
      const failures = logRecords(server.output()).filter((r) => r.msg === "handler failed");
      // What failed is still there: the statement (with placeholders) and PostgreSQL's message.
      const errors = failures.map((r) => r.err as { query?: string; message: string });
      expect(errors.map((e) => e.query)).toEqual([expect.stringContaining('insert into "addresses"'), expect.stringContaining('delete from "sessions"')]);
      for (const e of errors) expect(e.message).toContain("injected failure");
      expect(secretsIn(server.output(), [token, tokenHash, "13912345678", "Quiet Garden", "Zhang Wei", "oPrivacyCheck0001"])).toEqual([]);
    } finally {
      await sql.unsafe(`drop trigger fail_addresses on addresses; drop trigger fail_sessions on sessions;`);
      await sql.end();
    }
  });
});
