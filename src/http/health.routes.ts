import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "../metrics.js";
import type { HandlerResult } from "../uws/response.js";
import type { Router } from "../uws/router.js";

export interface HealthDeps {
  metrics: Metrics;
  checks: Record<string, () => Promise<unknown>>;
  draining: () => boolean;
}

/** /healthz: the process answers. /readyz: it can serve (each check answers, not draining). /metrics: Prometheus. */
function health(deps: HealthDeps) {
  return {
    healthz: (): HandlerResult => ({ status: 200, body: { status: "ok" } }),
    async readyz(details: boolean): Promise<HandlerResult> {
      if (deps.draining()) return { status: 503, body: { status: "draining" } };
      const results: Record<string, string> = {};
      let ok = true;
      await Promise.all(
        Object.entries(deps.checks).map(async ([name, check]) => {
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), 2000)))]);
            results[name] = "ok";
          } catch (err) {
            ok = false;
            results[name] = err instanceof Error ? err.message : "failed";
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      const status = ok ? "ready" : "not ready";
      return { status: ok ? 200 : 503, body: details ? { status, checks: results } : { status } };
    },
    metrics: async (): Promise<HandlerResult> => ({ status: 200, body: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType }),
  };
}

/**
 * The API port's health routes. With `details` (outside production) /readyz names each check and
 * /metrics is served; without, /readyz says only ready or not and /metrics is left to the ops port.
 */
export function healthRoutes(router: Router, deps: HealthDeps & { details: boolean }) {
  const h = health(deps);
  router.get("/healthz", () => h.healthz());
  router.get("/readyz", () => h.readyz(deps.details));
  if (deps.details) router.get("/metrics", () => h.metrics());
}

/** The operators' own listener (OPS_PORT): /healthz, /readyz with its checks, /metrics; nothing else. */
export function opsServer(deps: HealthDeps) {
  const h = health(deps);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const answer: Promise<HandlerResult> =
      req.method !== "GET" && req.method !== "HEAD"
        ? Promise.resolve({ status: 405, body: { code: "NOT_FOUND", message: "GET only." } })
        : path === "/healthz"
          ? Promise.resolve(h.healthz())
          : path === "/readyz"
            ? h.readyz(true)
            : path === "/metrics"
              ? h.metrics()
              : Promise.resolve({ status: 404, body: { code: "NOT_FOUND", message: "No such route." } });
    void answer
      .catch((): HandlerResult => ({ status: 500, body: { code: "INTERNAL", message: "Something went wrong on our side." } }))
      .then((r) => {
        const body = typeof r.body === "string" ? r.body : JSON.stringify(r.body);
        res.writeHead(r.status, { "content-type": r.contentType ?? "application/json; charset=utf-8" }).end(body);
      });
  });
  server.keepAliveTimeout = 5000;
  return {
    /** Resolves with the bound port (0 picks a free one). */
    listen: (host: string, port: number) =>
      new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
