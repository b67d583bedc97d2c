// One spawned server per fault case, on the case's own PostgreSQL database and Redis key prefix.
import { afterAll, beforeAll } from "vitest";
import { useTestServices } from "../../support/services.js";
import { spawnServer, type EnvOverrides, type SpawnedServer } from "../../support/servers.js";

/**
 * Registers the hooks that start a server process before the file's cases and stop it after;
 * read `server` inside a case. `env` may be a function of the case's services (a URL of its own).
 */
export function useCaseServer(env: EnvOverrides | ((services: { databaseUrl: string; redisPrefix: string }) => EnvOverrides | Promise<EnvOverrides>) = {}) {
  const services = useTestServices();
  const handle = {
    services,
    get server(): SpawnedServer {
      if (!current) throw new Error("the case's server is not running");
      return current;
    },
  };
  let current: SpawnedServer | null = null;
  beforeAll(async () => {
    // A busy machine (the suite runs cases side by side) can take a while to start a node.
    current = await spawnServer(services.databaseUrl, services.redisPrefix, typeof env === "function" ? await env(services) : env, 60_000);
  });
  afterAll(async () => {
    await current?.stop();
  });
  return handle;
}

/** The value of one Prometheus metric (summed over its labels) from a server's /metrics. */
export async function metric(url: string, name: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}
