// Reads the prototype probe (prototype-probe.js) of a spawned server: what the built-in prototypes hold now.
import { fileURLToPath } from "node:url";
import { waitFor } from "../../support/clients.js";
import { logRecords } from "../../support/logs.js";
import type { SpawnedServer } from "../../support/servers.js";

/** Env for spawnServer: preload the probe. */
export const prototypeProbeEnv = () => ({
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${fileURLToPath(new URL("./prototype-probe.js", import.meta.url))}`.trim(),
});

export type PrototypeState = { own: Record<string, string[]>; inherited: string[] };

/** Signals the server and resolves with the probe's next report. */
export async function probePrototypes(server: SpawnedServer): Promise<PrototypeState> {
  const reports = () => logRecords(server.output()).filter((r) => r.msg === "prototype probe");
  const before = reports().length;
  process.kill(server.pid, "SIGUSR2");
  await waitFor(() => reports().length > before, "the prototype probe's report", 5000);
  const r = reports().at(-1) as unknown as PrototypeState;
  return { own: r.own, inherited: r.inherited };
}

/** What `after` holds that `before` did not, per prototype (empty when nothing changed). */
export function prototypeChanges(before: PrototypeState, after: PrototypeState) {
  const changes: string[] = after.inherited.filter((k) => !before.inherited.includes(k)).map((k) => `{} inherits ${k}`);
  for (const [name, keys] of Object.entries(after.own)) {
    for (const k of keys) if (!before.own[name]?.includes(k)) changes.push(`${name}.prototype ${k}`);
  }
  return changes;
}
