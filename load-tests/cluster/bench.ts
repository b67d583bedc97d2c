// Redis Cluster benchmark: one room over three nodes on a cluster against one node on one Redis, and
// many rooms over three nodes with one shard against three shards. Sizes are modest: the host has two
// cores, shared; every figure is printed beside the load average it was measured under.
import { availableParallelism, loadavg } from "node:os";
import { writeBenchOutputs } from "../shared/charts.js";
import { log, runGuard } from "../shared/run-guard.js";
import { optionsOrExit } from "../shared/flags.js";
import { parseOptions, USAGE, type Options } from "./options.js";
import { runPhase, type PhaseInput, type PhaseResult } from "./phase.js";
import { startTopology } from "./topology.js";

const guard = runGuard("cluster");

type Run = { name: string; shards: 0 | 1 | 3; nodes: number; input: PhaseInput };

const fmt = (n: number | null, digits = 0) => (n === null || Number.isNaN(n) ? "n/a" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Number((a / b).toFixed(2)));
const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");

function table(name: string, r: PhaseResult | { error: string }) {
  if ("error" in r) return `── ${name}\n  FAILED: ${r.error}`;
  const rows: [string, string][] = [
    ["setup", r.title],
    ["rooms × viewers", `${fmt(r.rooms)} × ${fmt(r.viewers / r.rooms)} (${fmt(r.connected)} connected in ${fmt(r.connectSec, 1)} s)`],
    ["comments sent", fmt(r.sent)],
    ["delivered events/s", `${fmt(r.eventsPerSec)} of ${fmt(r.offeredPerSec)} offered`],
    ["latency p50 / p99 / max ms", `${fmt(r.p50Ms)} / ${fmt(r.p99Ms)} / ${fmt(r.maxMs)} (${fmt(r.samples)} samples)`],
    ["loss after drain", `${fmt(r.lossPct, 2)} %`],
    ["pinlive CPU % per node", r.nodeCpuPct.map((c) => fmt(c)).join(" / ")],
    ["Redis CPU % per master", r.redisCpuPct.map((c) => fmt(c)).join(" / ")],
    ["driver CPU % per worker", r.driverCpuPct.map((c) => fmt(c)).join(" / ")],
    ["host load average (1, 5, 15 min)", r.loadAvg.join(" ")],
    ["sender errors", JSON.stringify(r.senderErrors)],
    ["server warnings", JSON.stringify(r.serverWarnings)],
    ...(r.lastErrors.length > 0 ? [["last errors logged", r.lastErrors.join(" | ")] as [string, string]] : []),
  ];
  return `── ${name}\n${rows.map(([k, v]) => `  ${k.padEnd(34)} ${v}`).join("\n")}`;
}

function runsOf(o: Options): Run[] {
  const runs: Run[] = [];
  const common = { seconds: o.seconds, warmupSec: o.warmupSec, workers: o.workers };
  if (o.scenarios.includes("one-room")) {
    const input = { ...common, rooms: 1, viewersPerRoom: o.viewers, sendersPerRoom: 3, rate: o.rate };
    runs.push({ name: "one-room/standalone", shards: 0, nodes: 1, input }, { name: "one-room/cluster", shards: 3, nodes: 3, input });
  }
  if (o.scenarios.includes("many-rooms")) {
    const input = { ...common, rooms: o.rooms, viewersPerRoom: o.roomViewers, sendersPerRoom: 1, rate: o.rooms * o.roomRate };
    runs.push({ name: "many-rooms/1-shard", shards: 1, nodes: 3, input }, { name: "many-rooms/3-shards", shards: 3, nodes: 3, input });
  }
  return runs;
}

async function main() {
  const o = optionsOrExit(parseOptions, USAGE);
  if (!o) return;
  const runs = runsOf(o);
  guard.deadline(runs.length * (300_000 + (o.warmupSec + o.seconds) * 1000));
  log(`cluster bench: ${runs.map((r) => r.name).join(", ")}; ${availableParallelism()} cores, load average ${load()} (a shared host: read every figure beside its load)`);
  const results: Record<string, PhaseResult | { error: string }> = {};
  for (const run of runs) {
    log(`[${run.name}] starting ${run.nodes} node(s) on ${run.shards === 0 ? "one Redis" : `a ${run.shards}-shard cluster`} (load ${load()})`);
    try {
      const t = await startTopology({ nodes: run.nodes, shards: run.shards, log });
      guard.undo(t.stop);
      try {
        results[run.name] = await runPhase(t, run.input, log);
      } finally {
        await t.stop();
      }
    } catch (err) {
      results[run.name] = { error: err instanceof Error ? err.message : String(err) };
    }
    console.log(`${table(run.name, results[run.name]!)}\n`);
  }
  const ok = (name: string) => {
    const r = results[name];
    return r && !("error" in r) ? r : null;
  };
  const ratios: Record<string, number | null> = {};
  const [a, b, c, d] = ["one-room/standalone", "one-room/cluster", "many-rooms/1-shard", "many-rooms/3-shards"].map(ok);
  if (a && b) {
    ratios["one-room cluster/standalone events/s"] = ratio(b.eventsPerSec, a.eventsPerSec);
    ratios["one-room cluster/standalone p50"] = ratio(b.p50Ms, a.p50Ms);
    ratios["one-room cluster/standalone p99"] = ratio(b.p99Ms, a.p99Ms);
  }
  if (c && d) {
    ratios["many-rooms 3/1 shards events/s"] = ratio(d.eventsPerSec, c.eventsPerSec);
    ratios["many-rooms 3/1 shards p99"] = ratio(d.p99Ms, c.p99Ms);
    ratios["many-rooms 3/1 shards Redis CPU (sum)"] = ratio(d.redisCpuPct.reduce((x, y) => x + y, 0), c.redisCpuPct.reduce((x, y) => x + y, 0));
  }
  if (Object.keys(ratios).length > 0) console.log(`ratios\n${Object.entries(ratios).map(([k, v]) => `  ${k.padEnd(40)} ${v ?? "n/a"}`).join("\n")}\n`);
  const json = JSON.stringify({ bench: "cluster", cores: availableParallelism(), options: o, results, ratios });
  for (const path of writeBenchOutputs(o.out, "cluster", json, [])) log(`wrote ${path}`);
  console.log(json);
}

guard.run(main);
