import { expect } from "vitest";
import { faultCase } from "./fault-case.js";
import { viewerProblems } from "./support/room-checks.js";
import { liveRoom } from "./support/live-room.js";
import { faultServices } from "./support/services.js";

const PER_NODE = 15;

faultCase(1, "node kill -9 mid-broadcast", async (log, ctx) => {
  const s = await faultServices(ctx);
  const [a, b] = await Promise.all([s.spawn(), s.spawn()]);
  // What a load balancer does: A while it lives, then B. The host broadcasts through A, the node that dies.
  let aAlive = true;
  const aThenB = () => (aAlive ? a.ws : b.ws);
  const room = await liveRoom(b.url, { viewers: PER_NODE * 2, viewerNode: (i) => (i < PER_NODE ? aThenB : () => b.ws), hostNode: aThenB, everyMs: 15 });
  const { sender, epoch } = room;
  const onA = room.viewers.slice(0, PER_NODE);
  const onB = room.viewers.slice(PER_NODE);
  await sender.ackedAtLeast(40);
  await a.kill();
  aAlive = false;
  const killedAt = sender.lastSeq;
  log.injected(`kill -9 of node A (the host's node and ${PER_NODE} viewers') at seq ${killedAt}, mid-broadcast`);

  await sender.ackedAtLeast(sender.acked.length + 60);
  sender.pause();
  const last = sender.lastSeq;
  await Promise.all([...onA, ...onB].map((v) => v.reached(last)));

  for (const v of onA) {
    expect(v.closeCodes[0], "A's viewers lost their socket without a close frame").toBe(1006);
    expect(v.nodes.at(-1)).toBe(b.ws);
    const back = v.snapshots.at(-1)!;
    expect(back.epoch).toBe(epoch);
  }
  const recovered = onA.filter((v) => v.snapshots.at(-1)!.recovered).length;
  log.checked(`A's ${PER_NODE} viewers reconnected to B: ${recovered} recovered from their position, ${PER_NODE - recovered} got recovered:false and a snapshot`);

  for (const v of [...onA, ...onB]) expect(viewerProblems(v, sender.acked, epoch)).toEqual([]);
  log.checked(`the host reconnected to B and went on; all ${PER_NODE * 2} viewers hold every one of ${sender.acked.length} acknowledged comments (those A acknowledged before it died too) up to seq ${last}, in order, no gap, no duplicate`);
  expect(onB.every((v) => v.closeCodes.length === 0)).toBe(true);
  log.checked("B's viewers were never disconnected");

  room.close();
});
