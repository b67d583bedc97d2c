import { wallMs } from "../fanout/stamp.js";
import type { ProduceReply, Schedule } from "./protocol.js";

/** Adds past this many unacknowledged wait (and show as issue lag) rather than pile up in the client. */
const MAX_IN_FLIGHT = 5000;

export const plannedJobs = (s: Schedule): number => s.rate * s.seconds;

/** Slot of job seq in the schedule: issued at t0 + offset, due at t0 + offset + delayMs (whole wall-clock ms). */
export const slotMs = (s: Schedule, seq: number): number => Math.floor((seq * 1000) / s.rate);

/**
 * Issues every job of the schedule at its slot (checked every millisecond), without waiting for
 * earlier adds to finish, and resolves once the last add has settled. `add` gets the job's seq
 * and its due time.
 */
export function produce(add: (seq: number, at: number) => Promise<void>, s: Schedule, t0: number): Promise<ProduceReply> {
  const n = plannedJobs(s);
  const outcome = new Uint8Array(n);
  const addMs: number[] = [];
  const issueLagMs: number[] = [];
  let [next, inFlight, lastAckAt] = [0, 0, t0];
  let firstError: string | null = null;

  return new Promise((resolve) => {
    const finish = () => {
      if (next < n || inFlight > 0) return;
      clearInterval(timer);
      resolve({ planned: n, outcome, firstError, addMs: Float64Array.from(addMs), issueLagMs: Float64Array.from(issueLagMs), lastAckAt });
    };
    const tick = () => {
      while (next < n && inFlight < MAX_IN_FLIGHT) {
        const issueAt = t0 + slotMs(s, next);
        const now = wallMs();
        if (issueAt > now) break;
        const seq = next++;
        issueLagMs.push(now - issueAt);
        inFlight++;
        add(seq, issueAt + s.delayMs).then(
          () => {
            outcome[seq] = 1;
            lastAckAt = wallMs();
            addMs.push(lastAckAt - now);
          },
          (err: unknown) => {
            outcome[seq] = 2;
            firstError ??= err instanceof Error ? err.message : String(err);
          },
        ).finally(() => {
          inFlight--;
          finish();
        });
      }
      finish();
    };
    const timer = setInterval(tick, 1);
    tick();
  });
}
