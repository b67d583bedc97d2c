import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { children } from "../fanout/server-process.js";
import type { ChildCommand } from "./protocol.js";

const NODE = fileURLToPath(new URL("./job-node.ts", import.meta.url));

/** One benchmark node in a child process: requests time out instead of hanging, output goes to stderr. */
export class JobNode {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Lines it printed: pino lines at warn or above, and anything that is not a pino line. */
  readonly warnings = new Map<string, number>();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on("message", (msg: { id: number; error?: string }) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p?.reject(new Error(`${name}: ${msg.error}`));
      else p?.resolve(msg);
    });
    child.once("exit", (code, signal) => {
      children.delete(child);
      for (const [id, p] of this.pending) {
        p.reject(new Error(`${name} exited (${code ?? signal})`));
        this.pending.delete(id);
      }
    });
    for (const stream of [child.stdout, child.stderr]) {
      let buf = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          this.onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    }
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let key = line.slice(0, 120);
    try {
      const rec = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (typeof rec.level === "number" && rec.level < 40) return;
      key = `${Number(rec.level) >= 50 ? "error" : "warn"}: ${String(rec.msg)}`;
    } catch {
      // not pino: counted as it is
    }
    this.warnings.set(key, (this.warnings.get(key) ?? 0) + 1);
    if ((this.warnings.get(key) ?? 0) <= 3) process.stderr.write(`  [${this.name}] ${line.slice(0, 500)}\n`);
  }

  static start(name: string, root: string): JobNode {
    const child = fork(NODE, [], {
      cwd: root,
      execArgv: ["--import", "tsx"],
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    children.add(child);
    return new JobNode(name, child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  request<R>(command: ChildCommand, timeoutMs: number): Promise<R> {
    if (!this.child.connected) return Promise.reject(new Error(`${this.name} is gone`));
    const id = ++this.nextId;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${command.cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as R);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, ...command });
    });
  }

  /** Closes its queues and workers, then makes sure the process has exited. */
  async stop(): Promise<void> {
    await this.request({ cmd: "close" }, 10_000).catch(() => undefined);
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
