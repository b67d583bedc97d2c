import WebSocket from "ws";

/** Creates a dev session over HTTP; returns its token and user id. */
export async function devSession(baseUrl: string, nickname: string) {
  const res = await fetch(`${baseUrl}/v1/dev/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nickname }),
  });
  if (res.status !== 201) throw new Error(`dev session: ${res.status} ${await res.text()}`);
  return (await res.json()) as { token: string; userId: string; nickname: string };
}

/** Creates a stream hosted by the token's user. */
export async function devStream(baseUrl: string, token: string, title = "test stream") {
  const res = await fetch(`${baseUrl}/v1/dev/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ title }),
  });
  if (res.status !== 201) throw new Error(`dev stream: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { streamId: string }).streamId;
}

export type Frame = { type: string; [k: string]: unknown };

/** A raw WebSocket client that records every frame and can wait for one. */
export class WsClient {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  /** What the socket's own side saw go wrong, if anything (a 1006 close says no more). */
  error: string | null = null;
  private waiters: (() => void)[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on("error", (err) => (this.error ??= err.message));
    ws.on("message", (data, isBinary) => {
      if (!isBinary) this.frames.push(JSON.parse((data as Buffer).toString()) as Frame);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code) => {
        this.closeCode = code;
        this.wake();
        resolve(code);
      }),
    );
  }

  /** Resolves once open; rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string, opts: { token?: string; headers?: Record<string, string> } = {}) {
    const headers = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const client = new WsClient(ws);
    return new Promise<WsClient>((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once("error", reject);
    });
  }

  send(message: unknown) {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  of(type: string) {
    return this.frames.filter((f) => f.type === type);
  }

  /** Waits until `predicate` holds over the frames so far. */
  async until(predicate: (frames: Frame[]) => boolean, timeoutMs = 10_000, what = "condition") {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      // No frame comes after a close: say so at once, with the code, instead of timing out.
      if (this.closeCode !== null) {
        throw new Error(`closed with ${this.closeCode}${this.error ? ` (${this.error})` : ""} while waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-5))}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-5))}`);
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Returns the next frame of `type` not yet taken by `next` (waiting for it if needed). */
  async next(type: string, timeoutMs = 10_000) {
    const taken = this.cursors.get(type) ?? 0;
    await this.until((f) => f.filter((x) => x.type === type).length > taken, timeoutMs, `a ${type} frame`);
    this.cursors.set(type, taken + 1);
    return this.of(type)[taken]!;
  }

  private readonly cursors = new Map<string, number>();

  close() {
    this.ws.close();
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds; fails naming `what`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

/** Polls an async `check` (a database read, an HTTP call) until it holds; fails naming `what`. */
export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}
