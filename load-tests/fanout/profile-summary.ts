// Summarizes a server's `node --cpu-prof` profile from `bench:fanout --cpu-prof DIR`: only the samples of the
// measured phase (DIR/<target>-r<round>/window.json): time by part of the hub's path, top functions by self and by
// total time, and self time by file.
// Usage: tsx load-tests/fanout/profile-summary.ts DIR/<target>-r<round> [--top N] [--window FILE]
// (--window: another phase's marks in DIR, e.g. bench:orders' window-refusals.json)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type Profile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

const ROOT = new URL("../../", import.meta.url).pathname;
/** Frames V8 reports without JS: no JS on the stack (uWS's own loop and socket writes show as "(program)"). */
const PSEUDO = new Set(["(root)", "(program)", "(idle)", "(garbage collector)"]);

function where(f: CallFrame): string {
  if (!f.url) return PSEUDO.has(f.functionName) ? "" : "(native)";
  const url = f.url.startsWith("file://") ? relative(ROOT, new URL(f.url).pathname) : f.url;
  // The built server (dist/x.js, scripts/build-server.ts) is named by its source, as the rules below expect.
  const path = url.replace(/^dist\/(?!bench\/)(.*)\.js$/, "src/$1.ts");
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return pkg ? `${pkg[1]} (dep)` : path;
}
const label = (f: CallFrame) => `${f.functionName || "(anonymous)"}${f.url ? ` ${where(f)}:${f.lineNumber + 1}` : ""}`;

/**
 * Where the hub's time goes: each sample goes to the first rule that matches a frame, walking from the sampled
 * function out to its callers, so the innermost part of the path wins (a parse inside the subscriber path counts
 * there, ioredis's own decoding as the Redis client).
 */
const PHASES: { phase: string; match: (f: CallFrame, file: string) => boolean }[] = [
  { phase: "fan-out: sink.events/push (frame join + uWS publish)", match: (f, file) => file.endsWith("transport.uws.ts") && (f.functionName === "events" || f.functionName === "push") },
  { phase: "fan-out: socket.io sink", match: (_, file) => file.endsWith("transport.socketio.ts") },
  { phase: "tick flush: sampling, append script args and results", match: (f) => ["flush", "flushRoom", "append"].includes(f.functionName) },
  {
    phase: "subscriber path: channel message → ordered events, ring, snapshot",
    match: (f, file) => f.functionName === "onChannelMessage" || file.endsWith("broker.redis.ts") || (file.endsWith("room-feed.ts") && f.functionName === "receive"),
  },
  { phase: "inbound commands: decode, validate, rules, enqueue", match: (f) => f.functionName === "dispatch" || f.functionName === "message" },
  { phase: "counts and stats (once per interval)", match: (f) => ["reportCounts", "applyCounts", "counts"].includes(f.functionName) },
  { phase: "Redis client (ioredis protocol, both connections)", match: (_, file) => file === "ioredis (dep)" },
  { phase: "metrics (prom-client)", match: (_, file) => file === "prom-client (dep)" },
  { phase: "garbage collector", match: (f) => f.functionName === "(garbage collector)" },
  { phase: "outside JS: uWS loop, socket reads and writes", match: (f) => f.functionName === "(program)" },
  { phase: "idle", match: (f) => f.functionName === "(idle)" },
];

function loadProfile(dir: string, windowName: string): { profile: Profile; window: { fromUs: number; toUs: number } | null } {
  // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the main thread (tsx's loader, for a .ts target, has one of its own).
  const file = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const windowFile = join(dir, windowName);
  return {
    profile: JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile,
    window: existsSync(windowFile) ? (JSON.parse(readFileSync(windowFile, "utf8")) as { fromUs: number; toUs: number }) : null,
  };
}

/** Sample counts per node id, for the samples whose time falls in the window (all of them without one). */
function samplesIn(p: Profile, window: { fromUs: number; toUs: number } | null): { hits: Map<number, number>; total: number } {
  const hits = new Map<number, number>();
  let t = p.startTime;
  let total = 0;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    hits.set(id, (hits.get(id) ?? 0) + 1);
    total++;
  });
  return { hits, total };
}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string" }, window: { type: "string" } } });
  const top = Number(values.top ?? 25);
  const dir = positionals[0];
  if (!dir) throw new Error("usage: tsx load-tests/fanout/profile-summary.ts DIR/<target>-r<round> [--top N] [--window FILE]");
  const { profile, window } = loadProfile(dir, values.window ?? "window.json");
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const { hits, total } = samplesIn(profile, window);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byPhase = new Map<string, number>();
  let idle = 0;
  for (const [id, count] of hits) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)") idle += count;
    self.set(label(frame), (self.get(label(frame)) ?? 0) + count);
    const file = where(frame) || frame.functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + count);
    let phase = "other";
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n)!.callFrame;
      const hit = PHASES.find((p) => p.match(f, where(f)));
      if (hit) {
        phase = hit.phase;
        break;
      }
    }
    byPhase.set(phase, (byPhase.get(phase) ?? 0) + count);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const l = label(byId.get(n)!.callFrame);
      if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + count);
      seen.add(l);
    }
  }
  const busy = total - idle;
  const pct = (n: number) => `${((n / Math.max(1, busy)) * 100).toFixed(1).padStart(5)}%`;
  const rows = (m: Map<string, number>, skip: (k: string) => boolean = () => false) =>
    [...m]
      .filter(([k]) => !skip(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, n]) => `  ${pct(n)}  ${String(n).padStart(6)}  ${k}`)
      .join("\n");
  const span = window ? `${((window.toUs - window.fromUs) / 1e6).toFixed(1)} s measured phase` : "whole run (no window.json)";
  console.log(`${dir}: ${total} samples in the ${span}, ${busy} busy (not idle); percentages are of busy samples`);
  console.log(`\nwhere the time goes (innermost matching part of the path)\n${rows(byPhase, (k) => k === "idle")}`);
  const notIdle = (k: string) => k.startsWith("(idle)");
  console.log(`\nself time, by function\n${rows(self, notIdle)}`);
  console.log(`\nself time, by file or package\n${rows(byFile, notIdle)}`);
  console.log(`\ntotal time (self + callees), by function\n${rows(inclusive, (k) => PSEUDO.has(k))}`);
}

main();
