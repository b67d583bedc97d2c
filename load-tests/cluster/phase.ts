import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { DriverPool } from "../fanout/driver-pool.js";
import type { ConnectReply, MarkReply, ReportReply } from "../fanout/driver-protocol.js";
import { percentile } from "../fanout/report.js";
import { sendAtRate, wsSender, type Sender } from "../fanout/senders.js";
import { cpuSeconds } from "../fanout/server-process.js";
import { wallMs } from "../fanout/stamp.js";
import type { Topology } from "./topology.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const REPLY_MS = 120_000;
const DRAIN_MS = 15_000;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export type PhaseInput = {
  rooms: number;
  /** Viewers of each room, spread evenly over the nodes. */
  viewersPerRoom: number;
  /** Sender connections per room (the host's), placed on the nodes in turn. */
  sendersPerRoom: number;
  /** Comments per second over all rooms (round-robin over every room's senders). */
  rate: number;
  seconds: number;
  warmupSec: number;
  workers: number;
};

export type PhaseResult = {
  title: string;
  rooms: number;
  viewers: number;
  connected: number;
  connectSec: number;
  sent: number;
  /** Comment events received per second, summed over every viewer, in the measured phase. */
  eventsPerSec: number;
  /** What a server keeping up delivers: rate × viewers per room. */
  offeredPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  samples: number;
  lossPct: number;
  /** CPU of each pinlive node and each Redis master over the measured phase (100 = one core). */
  nodeCpuPct: number[];
  redisCpuPct: number[];
  driverCpuPct: number[];
  loadAvg: number[];
  senderErrors: Record<string, number>;
  serverWarnings: Record<string, number>;
  /** A few distinct error messages from the nodes' last log lines. */
  lastErrors: string[];
};

async function post<T>(base: string, path: string, body: object, token?: string): Promise<T> {
  const res = await fetch(`http://${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST ${path} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Waits until every expected event arrived, nothing arrived for 2 s, or DRAIN_MS passed. */
async function drain(pool: DriverPool, expected: number) {
  const start = Date.now();
  let [last, lastChange] = [-1, start];
  while (Date.now() - start < DRAIN_MS) {
    const events = sum((await pool.all<MarkReply>({ cmd: "mark" }, REPLY_MS)).map((m) => m.events));
    if (events >= expected) return events;
    if (events !== last) [last, lastChange] = [events, Date.now()];
    else if (Date.now() - lastChange >= 2000) return events;
    await sleep(250);
  }
  return last;
}

/**
 * One measured run on a topology: rooms made on node 0, viewers (`?batch=1`, one frame per tick) spread
 * evenly over the nodes from the driver workers, the hosts' senders on the nodes in turn; a warm-up, then
 * `seconds` measured: delivered events/s, latency (send stamp to receipt on about 100 sampled viewers),
 * every node's and Redis master's CPU, the host's load average.
 */
export async function runPhase(t: Topology, p: PhaseInput, log: (msg: string) => void): Promise<PhaseResult> {
  const bases = t.nodes.map((n) => n.base);
  const host = await post<{ token: string }>(bases[0]!, "/v1/dev/sessions", { nickname: "bench-host" });
  const streams: string[] = [];
  for (let r = 0; r < p.rooms; r++) streams.push((await post<{ streamId: string }>(bases[0]!, "/v1/dev/streams", { title: `bench ${r}` }, host.token)).streamId);
  const roomUrl = (node: number, id: string) => `ws://${bases[node]}/live-stream/${encodeURIComponent(id)}/ws`;

  const pool = DriverPool.start(p.workers, ROOT);
  const senders: Sender[] = [];
  try {
    const viewers = p.rooms * p.viewersPerRoom;
    const sampleEvery = Math.max(1, Math.ceil(viewers / 100));
    // Connect commands per (room, node), big ones split so every worker holds a share, handed to the
    // workers in turn; each worker runs its own in order.
    const perWorker: { url: string; count: number; firstIndex: number }[][] = pool.workers.map(() => []);
    let index = 0;
    let k = 0;
    const share = (total: number, parts: number, i: number) => Math.floor(total / parts) + (i < total % parts ? 1 : 0);
    for (const id of streams) {
      for (let n = 0; n < bases.length; n++) {
        const onNode = share(p.viewersPerRoom, bases.length, n);
        const pieces = onNode >= 100 ? p.workers : 1;
        for (let piece = 0; piece < pieces; piece++) {
          const count = share(onNode, pieces, piece);
          if (count === 0) continue;
          perWorker[k++ % p.workers]!.push({ url: `${roomUrl(n, id)}?batch=1`, count, firstIndex: index });
          index += count;
        }
      }
    }
    const t0c = Date.now();
    const replies = (
      await Promise.all(
        perWorker.map(async (cmds, w) => {
          const out: ConnectReply[] = [];
          for (const c of cmds) out.push(await pool.request<ConnectReply>(w, { cmd: "connect", client: "ws", url: c.url, count: c.count, firstIndex: c.firstIndex, sampleEvery, timeoutMs: 60_000 }, REPLY_MS));
          return out;
        }),
      )
    ).flat();
    const connected = sum(replies.map((r) => r.open));
    const connectSec = (Date.now() - t0c) / 1000;
    log(`  ${connected}/${viewers} viewers connected in ${connectSec.toFixed(1)} s`);
    if (connected === 0) throw new Error(`no viewer connected: ${replies.find((r) => r.firstError)?.firstError}`);

    for (const [r, id] of streams.entries()) {
      for (let s = 0; s < p.sendersPerRoom; s++) senders.push(await wsSender(`${roomUrl((r + s) % bases.length, id)}?token=${encodeURIComponent(host.token)}&batch=1`, 15_000));
    }
    await sleep(1000);

    const sending = sendAtRate(senders, p.rate, (p.warmupSec + p.seconds) * 1000 + 5000);
    await sleep(p.warmupSec * 1000);
    const cpu = () => [...t.nodes.map((n) => cpuSeconds(n.pid)), ...t.redisPids.map(cpuSeconds)];
    const [start, cpu0, load] = [wallMs(), cpu(), loadavg()];
    const m0 = await pool.all<MarkReply>({ cmd: "mark" }, REPLY_MS);
    await sleep(Math.max(0, start + p.seconds * 1000 - wallMs()));
    sending.stop();
    const [end, cpu1, sent] = [wallMs(), cpu(), sending.sent()];
    const m1 = await pool.all<MarkReply>({ cmd: "mark" }, REPLY_MS);
    const windowSec = (end - start) / 1000;
    const expected = Math.round((sent / p.rooms) * connected);
    log(`  sent ${sent}; draining`);
    const delivered = await drain(pool, expected);
    const reports = await pool.all<ReportReply>({ cmd: "report", from: start, to: end }, REPLY_MS);
    const lat = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const cpuPct = cpu1.map((c, i) => ((c - cpu0[i]!) / windowSec) * 100);
    const senderErrors: Record<string, number> = {};
    for (const s of senders) for (const [code, n] of s.errors) senderErrors[code] = (senderErrors[code] ?? 0) + n;
    const serverWarnings: Record<string, number> = {};
    for (const n of t.nodes) for (const [w, c] of n.warnings) serverWarnings[w] = (serverWarnings[w] ?? 0) + c;
    // What the last warnings said (each node keeps its last 40 lines).
    const lastErrors = new Set<string>();
    for (const n of t.nodes) for (const line of n.tail) {
      const m = /"err":(?:"|\{[^}]*?"message":")([^"]{0,120})/.exec(line);
      if (m) lastErrors.add(m[1]!);
    }
    return {
      title: t.title,
      rooms: p.rooms,
      viewers,
      connected,
      connectSec,
      sent,
      eventsPerSec: sum(m0.map((a, i) => (m1[i]!.events - a.events) / ((m1[i]!.at - a.at) / 1000))),
      offeredPerSec: p.rate * p.viewersPerRoom,
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      maxMs: lat.at(-1) ?? null,
      samples: lat.length,
      lossPct: expected > 0 ? Math.max(0, ((expected - delivered) / expected) * 100) : 0,
      nodeCpuPct: cpuPct.slice(0, t.nodes.length),
      redisCpuPct: cpuPct.slice(t.nodes.length),
      driverCpuPct: m0.map((a, i) => (m1[i]!.cpuMs - a.cpuMs) / 10 / windowSec),
      loadAvg: load.map((l) => Number(l.toFixed(2))),
      senderErrors,
      serverWarnings,
      lastErrors: [...lastErrors].slice(0, 5),
    };
  } finally {
    for (const s of senders) s.close();
    await pool.close();
  }
}
