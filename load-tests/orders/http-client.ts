import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

export type Reply = { status: number; body: unknown; ms: number };

/** JSON POSTs to one 127.0.0.1 server over at most `sockets` keep-alive connections; never hangs past timeoutMs. */
export function httpClient(base: string, sockets: number, timeoutMs = 10_000) {
  const [host, port] = base.split(":");
  if (host !== "127.0.0.1") throw new Error(`refusing to send traffic to ${base}: 127.0.0.1 only`);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });

  function post(path: string, body: object, token?: string, idempotencyKey?: string): Promise<Reply> {
    const payload = JSON.stringify(body);
    const headers: Record<string, string | number> = { "content-type": "application/json", "content-length": Buffer.byteLength(payload) };
    if (token) headers.authorization = `Bearer ${token}`;
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = request({ host, port: Number(port), path, method: "POST", headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: kept as text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - t0 });
        });
      });
      req.on("timeout", () => req.destroy(new Error(`POST ${path} timed out after ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** A POST that must answer 201; throws with the status and body otherwise. */
  async function create<T>(path: string, body: object, token?: string): Promise<T> {
    const r = await post(path, body, token);
    if (r.status !== 201) throw new Error(`POST ${path} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body as T;
  }

  return { base, post, create, close: () => agent.destroy() };
}

export type HttpClient = ReturnType<typeof httpClient>;
