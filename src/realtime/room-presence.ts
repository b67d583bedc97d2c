import type { PresenceReport, RoomCounts } from "./broker/broker.js";
import type { RoomClient } from "./client.js";

/**
 * Who is in a room on this node, and what this node has to report about it: people (a signed-in user
 * counts once however many sockets they have here), anonymous connections (one each), and the likes
 * and comments since the last report. Reports carry only who came and left, except the first, one
 * after nobody was here, and one the broker asks for (`full`).
 */
export class RoomPresence {
  private readonly clients = new Set<RoomClient>();
  /** userId -> sockets here. */
  private readonly people = new Map<string, number>();
  private anonymous = 0;
  /** userId -> here now? Changes not yet reported. */
  private readonly changes = new Map<string, boolean>();
  private full = true;
  private emptySince: number | null;
  private likes = 0;
  private comments = 0;

  constructor(now: number) {
    this.emptySince = now;
  }

  get size() {
    return this.clients.size;
  }

  /** How long the room has had nobody here (0 while someone is). */
  emptyFor(now: number) {
    return this.emptySince === null ? 0 : now - this.emptySince;
  }

  add(client: RoomClient) {
    if (this.clients.has(client)) return;
    this.clients.add(client);
    this.emptySince = null;
    const user = client.identity?.userId;
    if (user === undefined) return void this.anonymous++;
    const n = this.people.get(user) ?? 0;
    this.people.set(user, n + 1);
    if (n === 0) this.changes.set(user, true);
  }

  /** False when the client was not here. */
  remove(client: RoomClient, now: number): boolean {
    if (!this.clients.delete(client)) return false;
    if (this.clients.size === 0) this.emptySince = now;
    const user = client.identity?.userId;
    if (user === undefined) {
      this.anonymous--;
      return true;
    }
    const n = (this.people.get(user) ?? 1) - 1;
    if (n > 0) this.people.set(user, n);
    else {
      this.people.delete(user);
      this.changes.set(user, false);
    }
    return true;
  }

  addLikes(n: number) {
    this.likes += n;
  }

  addComments(n: number) {
    this.comments += n;
  }

  /** The report to send now; pass it to `reported` with the broker's answer (or null when it failed). */
  takeReport(nodeId: string, staleAfterMs: number): PresenceReport {
    const joined: string[] = [];
    const left: string[] = [];
    if (this.full) joined.push(...this.people.keys());
    else for (const [user, here] of this.changes) (here ? joined : left).push(user);
    const report = { nodeId, full: this.full, joined, left, anonymous: this.anonymous, staleAfterMs, likes: this.likes, comments: this.comments };
    this.changes.clear();
    this.likes = 0;
    this.comments = 0;
    // With nobody here the broker forgets this node: whoever comes next is reported in full.
    this.full = this.people.size === 0 && this.anonymous === 0;
    return report;
  }

  /**
   * After a report: a failed one goes out again with the next (changes are idempotent; likes and
   * comments count twice if it ran after all); the broker may ask for a full one.
   */
  reported(report: PresenceReport, counts: RoomCounts | null) {
    if (counts) {
      if (counts.resend) this.full = true;
      return;
    }
    this.likes += report.likes;
    this.comments += report.comments;
    if (report.full) this.full = true;
    else for (const [users, here] of [[report.joined, true], [report.left, false]] as const) for (const u of users) if (!this.changes.has(u)) this.changes.set(u, here);
  }

  /** The report that withdraws this node from the room (it closes here), with what is left to count. */
  finalReport(nodeId: string): PresenceReport {
    const report = { nodeId, full: true, joined: [], left: [], anonymous: 0, staleAfterMs: 0, likes: this.likes, comments: this.comments };
    this.likes = 0;
    this.comments = 0;
    return report;
  }
}
