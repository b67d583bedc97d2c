// Every route the console calls is described in the server's /openapi.json (the console's API
// modules call only the routes listed in console/src/api/paths.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../../console/src/api/paths.js";
import { startTestServer, type TestServer } from "../support/servers.js";
import { useTestServices } from "../support/services.js";

describe("console routes", () => {
  let server: TestServer;
  const services = useTestServices();
  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("are all in /openapi.json with their method", async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const missing = Object.entries(ROUTES)
      .map(([name, r]) => ({ name, method: r.method.toLowerCase(), path: r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}") }))
      .filter((r) => !doc.paths[r.path]?.[r.method])
      .map((r) => `${r.name}: ${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
    expect(Object.keys(ROUTES).length).toBeGreaterThan(40);
  });
});
