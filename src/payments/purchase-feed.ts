import type { Logger } from "../log.js";
import type { UnsequencedEvent } from "../protocol/messages.js";

/** How long purchases of one product in one room are gathered into one event. */
const WINDOW_MS = 500;

/**
 * "Someone just bought", conflated: purchases of the same product in the same room within a short
 * window become one `purchase` event (the first buyer's masked name, how many buyers, how many units).
 */
export function createPurchaseFeed(publish: (roomId: string, event: UnsequencedEvent) => Promise<unknown>, log: Logger) {
  type Bucket = { streamId: string; productId: string; productName: string; buyer: string; buyers: number; quantity: number };
  const buckets = new Map<string, Bucket>();
  let timer: NodeJS.Timeout | null = null;

  function flush() {
    timer = null;
    const all = [...buckets.values()];
    buckets.clear();
    for (const b of all) {
      publish(b.streamId, {
        type: "purchase",
        purchase: { buyer: b.buyer, buyers: b.buyers, productId: b.productId, productName: b.productName, quantity: b.quantity, at: Date.now() },
      }).catch((err: unknown) => log.warn({ err, streamId: b.streamId }, "purchase announcement failed"));
    }
  }

  return {
    add(streamId: string, productId: string, productName: string, buyer: string, quantity: number) {
      const key = `${streamId}\n${productId}`;
      const b = buckets.get(key);
      if (b) {
        b.buyers += 1;
        b.quantity += quantity;
      } else {
        buckets.set(key, { streamId, productId, productName, buyer, buyers: 1, quantity });
      }
      timer ??= setTimeout(flush, WINDOW_MS);
    },
    /** Publishes what is gathered now (at shutdown). */
    flush() {
      if (timer) clearTimeout(timer);
      flush();
    },
  };
}

export type PurchaseFeed = ReturnType<typeof createPurchaseFeed>;
