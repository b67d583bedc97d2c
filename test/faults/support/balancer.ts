// What a load balancer in front of the nodes does during a deploy or a crash: requests go round
// the nodes; one that gets no answer at all (connection refused or reset) is sent again to the
// next node, with the same Idempotency-Key. Every answer is recorded, so a case can say "no 5xx".
import type { SpawnedServer } from "../../support/servers.js";

export type Answer = { method: string; path: string; status: number; body: unknown; node: string; retries: number };

export class Balancer {
  readonly answers: Answer[] = [];
  /** Requests that reached no node at all, even after the retries. */
  readonly unanswered: { method: string; path: string; error: string }[] = [];
  /** Transport errors that a retry on another node then answered. */
  retried = 0;
  private next = 0;

  constructor(readonly nodes: (SpawnedServer | null)[]) {}

  /** The nodes in rotation now (a slot is null while its node is replaced). */
  private live() {
    return this.nodes.filter((n): n is SpawnedServer => n !== null);
  }

  /** The next node's base URL (`http` or `ws`), round robin. */
  pick(scheme: "http" | "ws" = "http") {
    const live = this.live();
    const node = live[this.next++ % live.length]!;
    return scheme === "http" ? node.url : node.ws;
  }

  async request<T = Record<string, unknown>>(method: string, path: string, opts: { token?: string; body?: unknown; key?: string } = {}) {
    let lastError = "";
    for (let attempt = 0; attempt < 10; attempt++) {
      const base = this.pick();
      try {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: {
            ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
            ...(opts.key ? { "idempotency-key": opts.key } : {}),
          },
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        const answer = { method, path, status: res.status, body: (text ? JSON.parse(text) : undefined) as T, node: base, retries: attempt };
        this.answers.push(answer);
        if (attempt > 0) this.retried++;
        return answer;
      } catch (err) {
        lastError = String((err as { cause?: unknown }).cause ?? err);
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
    this.unanswered.push({ method, path, error: lastError });
    return null;
  }

  /** Answers with a 5xx status. */
  serverErrors() {
    return this.answers.filter((a) => a.status >= 500);
  }
}
