// A live-room viewer that behaves like the mini program's RoomClient: it keeps its position with the
// protocol's SeqTracker, and on a close or a seq gap reconnects (to whichever node `pickNode` names)
// from that position. It records what it applied, so a case can check that nothing was missed or
// repeated, and how it healed.
import WebSocket from "ws";
import { SeqTracker } from "../../../src/protocol/client.js";

export type Applied = { epoch: string; seq: number; type: string; content?: string };
export type Snapshot = { recovered: boolean; epoch: string; seq: number; recentComments: { seq: number; comment: { content: string } }[]; /** How many events were applied before it. */ at: number };

export class RoomViewer {
  readonly tracker = new SeqTracker();
  /** Events applied in order (the tracker said "next"). */
  readonly applied: Applied[] = [];
  readonly snapshots: Snapshot[] = [];
  /** Close codes of joined connections, in order (1006: no close frame). */
  readonly closeCodes: number[] = [];
  /** Each close with the node it came from and when (ms since the epoch), for failure messages. */
  readonly closes: { code: number; node: string; at: number }[] = [];
  gaps = 0;
  /** Connection attempts that never got a snapshot (refused, or the node was going away). */
  failedAttempts = 0;
  duplicates = 0;
  /** The node of each joined connection, in order. */
  readonly nodes: string[] = [];
  private ws: WebSocket | null = null;
  private stopped = false;
  private reconnecting: Promise<void> | null = null;

  private constructor(
    private readonly path: string,
    private readonly pickNode: () => string,
    private readonly token?: string,
  ) {}

  /** Joins the room at `path` (`/live-stream/ID/ws`) on the node `pickNode` names; resolves after the first snapshot. */
  static async join(path: string, pickNode: () => string, token?: string) {
    const v = new RoomViewer(path, pickNode, token);
    await v.connect();
    return v;
  }

  /** The last applied seq (the tracker's position). */
  get seq() {
    return this.tracker.seq;
  }

  get epoch() {
    return this.tracker.epoch;
  }

  /** Applied comments' seqs of one epoch, in order. */
  seqs(epoch = this.tracker.epoch) {
    return this.applied.filter((a) => a.epoch === epoch).map((a) => a.seq);
  }

  private connect(): Promise<void> {
    const base = this.pickNode();
    const pos = this.tracker.position();
    const query = pos ? `?epoch=${encodeURIComponent(pos.epoch)}&seq=${pos.seq}` : "";
    const ws = new WebSocket(`${base}${this.path}${query}`, { perMessageDeflate: false, headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      let snapshotSeen = false;
      ws.on("message", (data) => {
        const frame = JSON.parse((data as Buffer).toString()) as { type: string; seq?: number; [k: string]: unknown };
        if (frame.type === "snapshot") {
          const snap = { ...(frame as unknown as Snapshot), at: this.applied.length };
          this.snapshots.push(snap);
          this.tracker.snapshot(snap);
          if (!snapshotSeen) {
            snapshotSeen = true;
            this.nodes.push(base);
            resolve();
          }
          return;
        }
        if (typeof frame.seq !== "number") return;
        const verdict = this.tracker.offer(frame);
        if (verdict === "next") {
          const content = (frame.comment as { content?: string } | undefined)?.content;
          this.applied.push({ epoch: this.tracker.epoch!, seq: frame.seq, type: frame.type, ...(content !== undefined ? { content } : {}) });
        } else if (verdict === "duplicate") {
          this.duplicates++;
        } else if (verdict === "gap") {
          // What the mini program does: drop the connection and come back from the last position.
          this.gaps++;
          ws.close(4000, "gap");
        }
      });
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once("error", (err) => {
        if (!snapshotSeen) reject(err);
      });
      ws.once("close", (code) => {
        if (!snapshotSeen) {
          this.failedAttempts++;
          reject(new Error(`closed before a snapshot: ${code}`));
          return;
        }
        this.closeCodes.push(code);
        this.closes.push({ code, node: base, at: Date.now() });
        if (!this.stopped) this.reconnect();
      });
    });
  }

  /** Reconnects from the position, retrying (another node may still be starting) until it works or the viewer stops. */
  private reconnect() {
    this.reconnecting ??= (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
        if (this.stopped) return;
        try {
          await this.connect();
          return;
        } catch {
          // The node refused or is gone: try again (pickNode may name another).
        }
      }
    })().finally(() => (this.reconnecting = null));
  }

  /** Waits until this viewer has applied `seq` (of `epoch`, or of its current one). */
  async reached(seq: number, timeoutMs = 20_000, epoch?: string) {
    const deadline = Date.now() + timeoutMs;
    while (this.tracker.seq < seq || (epoch !== undefined && this.tracker.epoch !== epoch)) {
      if (Date.now() > deadline) throw new Error(`viewer stuck at seq ${this.tracker.seq} (wanted ${seq}); closes ${this.closeCodes.join(",")}; nodes ${this.nodes.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close() {
    this.stopped = true;
    this.ws?.close();
  }
}
