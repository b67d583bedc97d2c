import { AppError } from "../protocol/errors.js";

/** What a refused client is told to wait: places free up only as its other sockets close. */
const RETRY_AFTER_SEC = 5;

/**
 * Live sockets per client address on this node, all transports together (the room's raw
 * WebSocket, socket.io, the group page's WebSocket). Per node: behind a balancer over N nodes an
 * address may hold up to N × the limit. A limit of 0 means none.
 */
export class ConnectionsPerIp {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Whether `address` may open one more socket now. */
  allows(address: string) {
    return this.limit === 0 || (this.counts.get(address) ?? 0) < this.limit;
  }

  /** Takes a place for a socket; throws RATE_LIMITED (429, Retry-After) when the address holds the limit. */
  take(address: string) {
    if (!this.allows(address)) throw ConnectionsPerIp.refusal();
    this.add(address);
  }

  /** Counts a socket that was let in after `allows` said yes. */
  add(address: string) {
    this.counts.set(address, (this.counts.get(address) ?? 0) + 1);
  }

  /** Gives back the place of a socket that closed (or never opened). */
  release(address: string) {
    const n = (this.counts.get(address) ?? 0) - 1;
    if (n > 0) this.counts.set(address, n);
    else this.counts.delete(address);
  }

  static refusal() {
    return new AppError("RATE_LIMITED", "Too many live connections from this address.", undefined, RETRY_AFTER_SEC);
  }
}
