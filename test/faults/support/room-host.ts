// The host of a live room sending comments steadily over the raw WebSocket (reconnecting to
// whichever node `pickNode` names when its socket closes), and keeping every acknowledgement:
// an acked comment is a fact the room promised, with the seq it got.
import WebSocket from "ws";

export type Acked = { seq: number; content: string };

export class RoomHost {
  /** Acknowledged comments in ack order. */
  readonly acked: Acked[] = [];
  /** Comments answered with an error frame (code by content). */
  readonly refused = new Map<string, string>();
  sent = 0;
  private ws: WebSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly contentOf = new Map<string, string>();

  private constructor(
    private readonly path: string,
    private readonly pickNode: () => string,
    private readonly token: string,
  ) {}

  /** Connects as the host and sends a comment every `everyMs` until `stop` (or `pause`). */
  static async start(path: string, pickNode: () => string, token: string, everyMs: number) {
    const h = new RoomHost(path, pickNode, token);
    await h.connect();
    h.timer = setInterval(() => h.sendOne(), everyMs);
    return h;
  }

  /** The highest acknowledged seq. */
  get lastSeq() {
    return this.acked.reduce((m, a) => Math.max(m, a.seq), 0);
  }

  /** Waits until `n` comments in all have been acknowledged. */
  async ackedAtLeast(n: number, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.acked.length < n) {
      if (Date.now() > deadline) throw new Error(`host: ${this.acked.length} of ${n} comments acknowledged (${this.sent} sent)`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private sendOne() {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    const id = `h${++this.sent}`;
    const content = `comment ${this.sent}`;
    this.contentOf.set(id, content);
    this.ws.send(JSON.stringify({ type: "comment", id, comment: { content } }));
  }

  private connect(): Promise<void> {
    const ws = new WebSocket(`${this.pickNode()}${this.path}`, { perMessageDeflate: false, headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      let joined = false;
      ws.on("message", (data) => {
        const frame = JSON.parse((data as Buffer).toString()) as { type: string; id?: string; seq?: number; code?: string };
        if (frame.type === "snapshot" && !joined) {
          joined = true;
          resolve();
        } else if (frame.type === "ack" && frame.id && typeof frame.seq === "number") {
          this.acked.push({ seq: frame.seq, content: this.contentOf.get(frame.id)! });
        } else if (frame.type === "error" && frame.id) {
          this.refused.set(this.contentOf.get(frame.id) ?? frame.id, frame.code ?? "?");
        }
      });
      ws.once("error", (err) => {
        if (!joined) reject(err);
      });
      ws.once("close", () => {
        if (!joined) reject(new Error("host socket closed before its snapshot"));
        else if (!this.stopped) void this.reconnect();
      });
    });
  }

  private async reconnect() {
    for (let attempt = 0; !this.stopped; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
      try {
        await this.connect();
        return;
      } catch {
        // Try again; pickNode may name another node.
      }
    }
  }

  /** Stops sending (the socket stays open). */
  pause() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  stop() {
    this.pause();
    this.stopped = true;
    this.ws?.close();
  }
}
