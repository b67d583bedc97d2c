/** The Origin allowlist, one rule for HTTP, raw WebSocket and socket.io. */
export function createOriginCheck(allowed: readonly string[] | null) {
  const set = allowed ? new Set(allowed.map((o) => o.toLowerCase().replace(/\/$/, ""))) : null;
  /** No Origin header (native clients, the mini program) passes; a browser Origin must be listed. */
  return (origin: string | undefined | null): boolean => {
    if (!origin || set === null) return true;
    return set.has(origin.toLowerCase());
  };
}

export type OriginCheck = ReturnType<typeof createOriginCheck>;
