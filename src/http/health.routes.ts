import type { Metrics } from "../metrics.js";
import type { Router } from "./uws-http.js";

/** /healthz: the process answers. /readyz: it can serve (Redis and the database answer, not draining). /metrics. */
export function healthRoutes(
  router: Router,
  deps: { metrics: Metrics; checks: Record<string, () => Promise<unknown>>; draining: () => boolean },
) {
  router.get("/healthz", () => ({ status: 200, body: { status: "ok" } }));
  router.get("/readyz", async () => {
    if (deps.draining()) return { status: 503, body: { status: "draining" } };
    const results: Record<string, string> = {};
    let ok = true;
    await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2000))]);
          results[name] = "ok";
        } catch (err) {
          ok = false;
          results[name] = err instanceof Error ? err.message : "failed";
        }
      }),
    );
    return { status: ok ? 200 : 503, body: { status: ok ? "ready" : "not ready", checks: results } };
  });
  router.get("/metrics", async () => ({
    status: 200,
    body: await deps.metrics.registry.metrics(),
    contentType: deps.metrics.registry.contentType,
  }));
}
