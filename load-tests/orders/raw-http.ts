import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { Reply } from "./http-client.js";

type Waiting = { resolve: (r: Reply) => void; reject: (err: Error) => void; t0: number; timer: NodeJS.Timeout };

/**
 * A lean HTTP/1.1 client for the load phases: `sockets` keep-alive connections to one 127.0.0.1
 * server, one request in flight on each, requests written as one buffer and answers read by
 * Content-Length (what uWS sends). node:http spends several times the CPU per request, and the
 * driver shares the machine's two cores with the server. `post` waits for a free connection.
 */
export function rawHttp(base: string, sockets: number, timeoutMs = 10_000) {
  const [host, port] = base.split(":");
  if (host !== "127.0.0.1") throw new Error(`refusing to send traffic to ${base}: 127.0.0.1 only`);
  const idle: Conn[] = [];
  const queue: (() => void)[] = [];
  let open = 0;
  let closed = false;

  class Conn {
    readonly socket: Socket;
    private buf: Buffer = Buffer.alloc(0);
    waiting: Waiting | null = null;
    dead = false;
    constructor() {
      this.socket = connect(Number(port), host);
      this.socket.setNoDelay(true);
      this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
      this.socket.on("error", (err) => this.fail(err));
      this.socket.on("close", () => this.fail(new Error("connection closed")));
    }
    private fail(err: Error) {
      if (this.dead) return;
      this.dead = true;
      open -= 1;
      const w = this.waiting;
      this.waiting = null;
      if (w) {
        clearTimeout(w.timer);
        w.reject(err);
      }
      const i = idle.indexOf(this);
      if (i >= 0) idle.splice(i, 1);
      this.socket.destroy();
      next();
    }
    private onData(chunk: Buffer) {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString("latin1");
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const length = m ? Number(m[1]) : 0;
      if (this.buf.length < end + 4 + length) return;
      const text = this.buf.subarray(end + 4, end + 4 + length).toString("utf8");
      this.buf = this.buf.subarray(end + 4 + length);
      const w = this.waiting;
      this.waiting = null;
      if (!w) return;
      clearTimeout(w.timer);
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: kept as text
      }
      w.resolve({ status, body, ms: performance.now() - w.t0 });
      if (/\r\nconnection:\s*close/i.test(head)) this.fail(new Error("server closed the connection"));
      else release(this);
    }
  }

  function release(c: Conn) {
    if (c.dead) return;
    idle.push(c);
    next();
  }
  function next() {
    while (queue.length > 0 && (idle.length > 0 || open < sockets)) queue.shift()!();
  }
  function acquire(): Promise<Conn> {
    if (closed) return Promise.reject(new Error("client closed"));
    const take = () => idle.pop() ?? (open++, new Conn());
    if (idle.length > 0 || open < sockets) return Promise.resolve(take());
    return new Promise((resolve) => queue.push(() => resolve(take())));
  }

  async function post(path: string, body: object, token?: string, idempotencyKey?: string): Promise<Reply> {
    const payload = Buffer.from(JSON.stringify(body));
    const head =
      `POST ${path} HTTP/1.1\r\nhost: ${base}\r\ncontent-type: application/json\r\ncontent-length: ${payload.length}\r\n` +
      (token ? `authorization: Bearer ${token}\r\n` : "") +
      (idempotencyKey ? `idempotency-key: ${idempotencyKey}\r\n` : "") +
      "\r\n";
    const c = await acquire();
    return new Promise<Reply>((resolve, reject) => {
      const t0 = performance.now();
      const timer = setTimeout(() => c.socket.destroy(new Error(`POST ${path} timed out after ${timeoutMs} ms`)), timeoutMs);
      c.waiting = { resolve, reject, t0, timer };
      c.socket.write(Buffer.concat([Buffer.from(head, "latin1"), payload]));
    });
  }

  return {
    base,
    post,
    close() {
      closed = true;
      for (const c of idle.splice(0)) c.socket.destroy();
    },
  };
}

export type RawHttp = ReturnType<typeof rawHttp>;
