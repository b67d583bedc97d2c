/** A server's JSON log lines (pino), parsed; lines that are not JSON are kept as `{ text }`. */
export function logRecords(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((l) => l.trim().length > 0)
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { text: l };
      }
    });
}

/** Every line of `output` that contains one of `secrets` (as given, case-insensitively), with the secret found. */
export function secretsIn(output: string, secrets: readonly string[]): { secret: string; line: string }[] {
  const found: { secret: string; line: string }[] = [];
  for (const line of output.split("\n")) {
    const lower = line.toLowerCase();
    for (const secret of secrets) if (lower.includes(secret.toLowerCase())) found.push({ secret, line: line.slice(0, 400) });
  }
  return found;
}
