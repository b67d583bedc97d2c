// Env for spawnServer: the server's wall clock shifted by `offsetMs` (clock-skew.js, preloaded).
import { fileURLToPath } from "node:url";

export const skewedClockEnv = (offsetMs: number) => ({
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${fileURLToPath(new URL("./clock-skew.js", import.meta.url))}`.trim(),
  FAULT_CLOCK_OFFSET_MS: String(offsetMs),
});
