/** An integer flag in min..max (def when absent); throws with the usage text otherwise. */
export function intFlag(name: string, raw: string | undefined, def: number, min: number, max: number, usage: string): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}\n${usage}`);
  return n;
}
