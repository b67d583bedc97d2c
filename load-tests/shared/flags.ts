/** An integer flag in min..max (def when absent); throws with the usage text otherwise. */
export function intFlag(name: string, raw: string | undefined, def: number, min: number, max: number, usage: string): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}\n${usage}`);
  return n;
}

/**
 * A benchmark's options from argv: null after printing the usage for --help; on a bad flag it prints
 * the message (which carries the usage) and exits with 2.
 */
export function optionsOrExit<T>(parse: (argv: string[]) => T | "help", usage: string, argv = process.argv.slice(2)): T | null {
  try {
    const parsed = parse(argv);
    if (parsed !== "help") return parsed;
    process.stderr.write(`${usage}\n`);
    return null;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
