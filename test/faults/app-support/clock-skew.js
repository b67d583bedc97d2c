// Preloaded into a fault case's server (NODE_OPTIONS=--import): the process's wall clock runs
// FAULT_CLOCK_OFFSET_MS ahead (or behind, when negative) of the machine's, as on a node whose NTP
// broke. Date.now() and new Date() are shifted; timers and monotonic clocks are not.
import process from "node:process";

const offset = Number(process.env.FAULT_CLOCK_OFFSET_MS ?? 0);
const RealDate = globalThis.Date;

function SkewedDate(...args) {
  if (!new.target) return new RealDate(RealDate.now() + offset).toString();
  return args.length === 0 ? new RealDate(RealDate.now() + offset) : new RealDate(...args);
}
SkewedDate.prototype = RealDate.prototype;
SkewedDate.now = () => RealDate.now() + offset;
SkewedDate.parse = RealDate.parse;
SkewedDate.UTC = RealDate.UTC;
globalThis.Date = SkewedDate;
