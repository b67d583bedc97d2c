// Load shapes per profile. Each scenario keeps a small table { smoke, load, stress } of its own
// numbers next to its options; these helpers turn them into k6 stages.
import { PROFILE, int } from './config.js';

/** The current profile's row of a scenario's table, with `-e` overrides for the numbers it names. */
export function pick(table, overrides) {
  const row = table[PROFILE];
  if (!row) throw new Error(`no ${PROFILE} profile in this scenario`);
  const out = {};
  for (const k in row) out[k] = row[k];
  for (const name in overrides || {}) {
    const o = overrides[name];
    out[o.key] = int(name, out[o.key], o.min, o.max);
  }
  return out;
}

/** Ramp up to `target` over `rampSec`, hold for `holdSec`, ramp down over `downSec`. */
export function rampHold(target, rampSec, holdSec, downSec) {
  return [
    { duration: `${rampSec}s`, target },
    { duration: `${holdSec}s`, target },
    { duration: `${downSec}s`, target: 0 },
  ];
}

/** Seconds in a list of stages. */
export function stagesSec(stages) {
  let s = 0;
  for (let i = 0; i < stages.length; i++) s += parseInt(stages[i].duration, 10);
  return s;
}
