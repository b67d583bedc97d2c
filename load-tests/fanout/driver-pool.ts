import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { DriverCommand } from "./driver-protocol.js";
import { children } from "./server-process.js";

const DRIVER = fileURLToPath(new URL("./driver.ts", import.meta.url));

/** The driver worker processes of one target; every request times out instead of hanging. */
export class DriverPool {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(readonly workers: ChildProcess[]) {
    for (const w of workers) {
      w.on("message", (msg: { id: number }) => {
        this.pending.get(msg.id)?.resolve(msg);
        this.pending.delete(msg.id);
      });
      w.once("exit", (code, signal) => {
        children.delete(w);
        for (const [id, p] of this.pending) {
          p.reject(new Error(`driver worker ${w.pid} exited (${code ?? signal})`));
          this.pending.delete(id);
        }
      });
    }
  }

  static start(count: number, root: string): DriverPool {
    const workers = Array.from({ length: count }, () => {
      const w = fork(DRIVER, [], {
        cwd: root,
        execArgv: ["--import", "tsx", "--max-semi-space-size=32"],
        serialization: "advanced",
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      children.add(w);
      return w;
    });
    return new DriverPool(workers);
  }

  /** Sends one command to worker i and waits for its reply. */
  request<R>(i: number, command: DriverCommand, timeoutMs: number): Promise<R> {
    const worker = this.workers[i];
    if (!worker?.connected) return Promise.reject(new Error(`driver worker ${i} is gone`));
    const id = ++this.nextId;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`driver worker ${i}: ${command.cmd} timed out after ${timeoutMs} ms`));
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
      worker.send({ id, ...command });
    });
  }

  all<R>(command: DriverCommand, timeoutMs: number): Promise<R[]> {
    return Promise.all(this.workers.map((_, i) => this.request<R>(i, command, timeoutMs)));
  }

  /** Closes every viewer, then makes sure each worker has exited. */
  async close(): Promise<void> {
    await this.all({ cmd: "close" }, 5000).catch(() => undefined);
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            const timer = setTimeout(() => w.kill("SIGKILL"), 3000);
            w.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }
}
