// "Every live-event gap is detected and healed": what a viewer applied, held against what the
// room acknowledged to the host.
import type { Acked } from "./room-host.js";
import type { RoomViewer } from "./room-viewer.js";

/**
 * What is wrong with a viewer's events, as readable lines (none: it saw every acknowledged comment
 * of `epoch` from each of its starting points on, once, in order, with the acknowledged content).
 * A starting point is a snapshot that did not recover (the join, or `recovered: false`): the
 * viewer goes on from that snapshot's seq, as the protocol says.
 */
export function viewerProblems(viewer: RoomViewer, acked: Acked[], epoch: string): string[] {
  const problems: string[] = [];
  const contentAt = new Map(acked.map((a) => [a.seq, a.content]));
  const last = acked.reduce((m, a) => Math.max(m, a.seq), 0);
  const starts = viewer.snapshots.filter((s) => !s.recovered && s.epoch === epoch);
  if (starts.length === 0) return [`no snapshot of epoch ${epoch}`];
  for (const [i, start] of starts.entries()) {
    const end = starts[i + 1]?.at ?? viewer.applied.length;
    const run = viewer.applied.slice(start.at, end);
    let expected = start.seq + 1;
    for (const a of run) {
      if (a.epoch !== epoch) problems.push(`applied seq ${a.seq} of another epoch ${a.epoch}`);
      else if (a.seq !== expected) problems.push(`expected seq ${expected}, applied ${a.seq}`);
      else if (contentAt.has(a.seq) && contentAt.get(a.seq) !== a.content) problems.push(`seq ${a.seq}: "${a.content}" but the host was told "${contentAt.get(a.seq)}"`);
      expected = a.seq + 1;
    }
  }
  if (viewer.seq < last) problems.push(`stopped at seq ${viewer.seq}, the room reached ${last}`);
  if (viewer.duplicates > 0) problems.push(`${viewer.duplicates} duplicate events`);
  return problems;
}
