import { inArray, sql } from "drizzle-orm";
import { rowsOf, type Db } from "../db/client.js";
import { orderItems, orders, type AddressSnapshot } from "../db/orders.schema.js";
import { addresses, idempotencyKeys } from "../db/shopping.schema.js";
import type { Logger } from "../log.js";
import { addressSnapshot } from "../shopping/address.repo.js";
import { AppError } from "../protocol/errors.js";
import { takeFlashUnits, takeStock } from "./inventory.js";
import type { OrderEvents } from "./order-events.js";
import { newOrderId } from "./order-id.js";
import { orderView, type OrderRow } from "./order-view.js";
import type { Order } from "./orders.dto.js";
import { answeredByServer, CommitUnknown, neverSent, sqlState } from "./sql-errors.js";

// A flash sale's gathered buys written together: the lifecycle's `placeFlashBatch` (lifecycle.ts
// owns order state; this is how its hot path writes). ARCHITECTURE.md "Flash buy-now: the hot path".

/** Asked under a sale's shared fence: which of these takes a reconcile gave back (they must not become orders). */
export type Fence = (orderIds: string[]) => Promise<Set<string>>;

/** One buy in a flash batch: its take at the gate became `orderId`. */
export interface FlashBuy {
  orderId: string;
  userId: string;
  quantity: number;
  requestKey: string;
  /** The buyer's address: its snapshot is taken in the batch (a buy whose address is not the buyer's is `noAddress`). */
  addressId: string;
  /** Where the answer is kept for the request's Idempotency-Key. */
  idempotency: { scope: string; hash: string };
}

/** What a flash batch did. Anything but `placed` rolled back whole. */
export type FlashBatchOutcome =
  | {
      kind: "placed";
      orders: Map<string, Order>;
      /** The buyer's key already named an order (the gate lost its memory): answered with that order. */
      conflicts: FlashBuy[];
      /** Given back by a reconcile before this batch wrote (the take was too old): not placed. */
      voided: FlashBuy[];
      /** The address is not the buyer's (or is gone): not placed. */
      noAddress: FlashBuy[];
    }
  | { kind: "overLimit"; userIds: string[] }
  | { kind: "saleRefused" }
  | { kind: "stockRefused"; error: AppError };

/** The sale and SKU as a flash batch writes them into its orders. */
export interface FlashBatchSale {
  id: string;
  streamId: string;
  skuId: string;
  priceFen: number;
  perUserLimit: number;
  product: { productId: string; name: string; specs: Record<string, string>; cover: string };
}

/** Thrown inside a transaction to roll it back on purpose. */
class Rollback extends Error {}

/**
 * Flash batches, for the lifecycle: `lockSale` takes a sale's fence in a transaction, `placed` tells
 * the subscribers of a committed batch (after commit, as the lifecycle tells every change).
 */
export function createFlashBatches(deps: {
  db: Db;
  log: Logger;
  payTimeoutSec: number;
  lockSale: (tx: Db, saleId: string, mode: "shared") => Promise<unknown>;
  placed: (event: OrderEvents["placed"]) => Promise<void>;
}) {
  const { db, log, lockSale } = deps;

  /**
   * Places a flash sale's gathered buys: N orders, their lines and their Idempotency-Key rows, the
   * buyers' units, and ONE decrement of the sale's `sold` and the SKU's stock, all or none. Given a
   * `fence`, the sale's shared fence is held first and asked which takes a reconcile gave back
   * (they are left out); without one (every take younger than a reconcile voids), the batch is one
   * statement. A key that already names an order makes that fail, and the batch is written again
   * one statement at a time, leaving such buys out. Throws CommitUnknown when the commit's outcome
   * is not known.
   */
  async function placeFlashBatch(sale: FlashBatchSale, buys: FlashBuy[], fence: Fence | null): Promise<FlashBatchOutcome> {
    if (buys.length === 0) return { kind: "placed", orders: new Map(), conflicts: [], voided: [], noAddress: [] };
    const together = await writeFlashBatch(sale, buys, fence);
    return together === "duplicateKey" ? writeOneByOne(sale, buys, fence) : together;
  }

  /** Why PostgreSQL refused a flash batch (pinlive_place_flash_batch's codes, migration 0017), or null for any other error. */
  function batchRefusal(err: unknown, sale: FlashBatchSale): FlashBatchOutcome | "duplicateKey" | null {
    const detail = () => [err, (err as { cause?: unknown }).cause].map((e) => (e as { detail?: unknown } | undefined)?.detail).find((d) => typeof d === "string") ?? "";
    switch (sqlState(err)) {
      case "23505":
        return "duplicateKey";
      case "PF001":
        return { kind: "overLimit", userIds: JSON.parse(detail()) as string[] };
      case "PF002":
        return { kind: "saleRefused" };
      case "PF003":
        return {
          kind: "stockRefused",
          error: detail() === "NOT_FOUND" ? new AppError("NOT_FOUND", "No such SKU on sale.", { skuId: sale.skuId }) : new AppError("OUT_OF_STOCK", "Not enough stock left.", { skuId: sale.skuId }),
        };
      default:
        return null;
    }
  }

  /** The order each buy of a placed batch became, as written (every column is set here, or is a default that is null or 0). */
  function batchOrders(sale: FlashBatchSale, buys: FlashBuy[], at: BatchTimes, addresses: ReadonlyMap<string, AddressSnapshot>): Map<string, Order> {
    return new Map(buys.map((b) => [b.orderId, orderView(flashRow(sale, b, at, addresses.get(b.orderId)!), [flashLine(sale, b)])]));
  }

  type BatchTimes = { now: Date; payDeadline: Date; flashBatch: string };
  /** What pinlive_place_flash_batch answers: the buys left out for their address, and each written order's address snapshot. */
  type BatchWritten = { missing: string[]; addresses: Record<string, AddressSnapshot> };

  const flashRow = (sale: FlashBatchSale, b: FlashBuy, at: BatchTimes, address: AddressSnapshot): OrderRow => ({
    id: b.orderId,
    userId: b.userId,
    status: "pending_payment",
    itemsFen: sale.priceFen * b.quantity,
    discountFen: 0,
    totalFen: sale.priceFen * b.quantity,
    couponId: null,
    groupId: null,
    address,
    source: "flash",
    streamId: sale.streamId,
    requestKey: b.requestKey,
    flashBatch: at.flashBatch,
    payDeadline: at.payDeadline,
    paidAt: null,
    transactionId: null,
    refundedFen: 0,
    courier: null,
    trackingNo: null,
    shippedAt: null,
    completedAt: null,
    cancelledAt: null,
    cancelReason: null,
    createdAt: at.now,
    updatedAt: at.now,
  });

  const flashLine = (sale: FlashBatchSale, b: FlashBuy) => ({ orderId: b.orderId, line: 1, ...sale.product, skuId: sale.skuId, unitPriceFen: sale.priceFen, quantity: b.quantity, flashSaleId: sale.id });

  /** After a batch committed: the orders' events (their shared timer, the room's units left), best effort. */
  function placedBatch(sale: FlashBatchSale, done: FlashBuy[], payDeadline: Date, flashBatch: string) {
    // The buyers are answered now; their timers and the room's units left follow (repaired by the reconcilers).
    void deps
      .placed({
        orders: done.map((b) => ({ id: b.orderId, userId: b.userId, payDeadline, groupId: null, streamId: sale.streamId })),
        flash: done.map((b) => ({ flashSaleId: sale.id, userId: b.userId, quantity: b.quantity })),
        flashBatch,
      })
      .catch((err: unknown) => log.warn({ err, flashSaleId: sale.id }, "after a flash batch: a subscriber failed"));
  }

  /**
   * The batch as one call of pinlive_place_flash_batch (migration 0017), which takes the addresses'
   * snapshots and writes every row in the lock order. Without a fence the call is a statement of its
   * own (its own transaction: one round trip and one commit); with one, it runs in a transaction
   * that holds the sale's fence and has asked it first.
   */
  async function writeFlashBatch(sale: FlashBatchSale, buys: FlashBuy[], fence: Fence | null): Promise<FlashBatchOutcome | "duplicateKey"> {
    const now = new Date();
    const payDeadline = new Date(now.getTime() + deps.payTimeoutSec * 1000);
    // The batch's orders share one payment timer, named after the batch (the reconciler reads it from the rows).
    const flashBatch = newOrderId();
    const call = async (q: Db, list: FlashBuy[]) => {
      const res: unknown = await q.execute(sql`select pinlive_place_flash_batch(${JSON.stringify({
        sale: { id: sale.id, streamId: sale.streamId, skuId: sale.skuId, priceFen: sale.priceFen, perUserLimit: sale.perUserLimit, ...sale.product },
        now: now.toISOString(),
        payDeadline: payDeadline.toISOString(),
        flashBatch,
        buys: list.map((b) => ({ id: b.orderId, user_id: b.userId, quantity: b.quantity, address_id: b.addressId, key: b.requestKey, scope: b.idempotency.scope, hash: b.idempotency.hash })),
      })}::jsonb) as placed`);
      const [row] = rowsOf<{ placed: BatchWritten | string }>(res);
      return typeof row!.placed === "string" ? (JSON.parse(row!.placed) as BatchWritten) : row!.placed;
    };
    let live = buys;
    let written: BatchWritten = { missing: [], addresses: {} };
    let committing = false;
    try {
      if (fence === null) {
        // One statement: once it is sent, only PostgreSQL's own answer says whether it committed.
        committing = true;
        written = await call(db, live);
      } else {
        await db.transaction(async (tx) => {
          await lockSale(tx, sale.id, "shared");
          const gone = await fence(buys.map((b) => b.orderId));
          live = buys.filter((b) => !gone.has(b.orderId));
          if (live.length > 0) written = await call(tx, live);
          committing = true;
        });
      }
    } catch (err) {
      const refusal = batchRefusal(err, sale);
      if (refusal) return refusal;
      throw committing && !answeredByServer(err) && !neverSent(err) ? new CommitUnknown(err) : err;
    }
    const missing = new Set(written.missing);
    const voided = buys.filter((b) => !live.includes(b));
    const done = live.filter((b) => !missing.has(b.orderId));
    if (done.length > 0) placedBatch(sale, done, payDeadline, flashBatch);
    const orders = batchOrders(sale, done, { now, payDeadline, flashBatch }, new Map(Object.entries(written.addresses)));
    return { kind: "placed", orders, conflicts: [], voided, noAddress: live.filter((b) => missing.has(b.orderId)) };
  }

  /** The snapshot of each buy's address, by order id, for the buys whose address is their buyer's. */
  async function addressesOf(tx: Db, buys: FlashBuy[]): Promise<Map<string, AddressSnapshot>> {
    const rows = buys.length === 0 ? [] : await tx.select().from(addresses).where(inArray(addresses.id, [...new Set(buys.map((b) => b.addressId))]));
    const byId = new Map(rows.map((a) => [a.id, a]));
    const out = new Map<string, AddressSnapshot>();
    for (const b of buys) {
      const a = byId.get(b.addressId);
      if (a?.userId === b.userId) out.set(b.orderId, addressSnapshot(a));
    }
    return out;
  }

  /**
   * The batch a statement at a time, for when a buy's key already names an order (the gate lost its
   * memory): such buys are left out as conflicts, the others placed. Rare: plain drizzle statements.
   */
  async function writeOneByOne(sale: FlashBatchSale, buys: FlashBuy[], fence: Fence | null): Promise<FlashBatchOutcome> {
    const now = new Date();
    const payDeadline = new Date(now.getTime() + deps.payTimeoutSec * 1000);
    const flashBatch = newOrderId();
    let refusal: FlashBatchOutcome | null = null;
    let committing = false;
    let outcome: FlashBatchOutcome;
    let done: FlashBuy[] = [];
    try {
      outcome = await db.transaction(async (tx) => {
        await lockSale(tx, sale.id, "shared");
        const gone = fence ? await fence(buys.map((b) => b.orderId)) : new Set<string>();
        const voided = buys.filter((b) => gone.has(b.orderId));
        const snapshots = await addressesOf(tx, buys.filter((b) => !gone.has(b.orderId)));
        const noAddress = buys.filter((b) => !gone.has(b.orderId) && !snapshots.has(b.orderId));
        const live = buys.filter((b) => snapshots.has(b.orderId));
        const at = { now, payDeadline, flashBatch };
        const inserted = live.length === 0 ? [] : await tx.insert(orders).values(live.map((b) => flashRow(sale, b, at, snapshots.get(b.orderId)!))).onConflictDoNothing().returning({ id: orders.id });
        const written = new Set(inserted.map((r) => r.id));
        done = live.filter((b) => written.has(b.orderId));
        const conflicts = live.filter((b) => !written.has(b.orderId));
        if (done.length > 0) {
          await tx.insert(orderItems).values(done.map((b) => flashLine(sale, b)));
          await tx
            .insert(idempotencyKeys)
            .values(done.map((b) => ({ scope: b.idempotency.scope, key: b.requestKey, requestHash: b.idempotency.hash, state: "done" as const, status: 201, response: { orderId: b.orderId } })))
            .onConflictDoNothing();
          const perUser = new Map<string, number>();
          for (const b of done) perUser.set(b.userId, (perUser.get(b.userId) ?? 0) + b.quantity);
          const taken = await takeFlashUnits(tx, sale, perUser);
          if (!taken.ok) {
            refusal = "overLimit" in taken ? { kind: "overLimit", userIds: taken.overLimit } : { kind: "saleRefused" };
            throw new Rollback();
          }
          try {
            await takeStock(tx, [[sale.skuId, done.reduce((n, b) => n + b.quantity, 0)]]);
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            refusal = { kind: "stockRefused", error: err };
            throw new Rollback();
          }
        }
        committing = true;
        return { kind: "placed" as const, orders: batchOrders(sale, done, at, snapshots), conflicts, voided, noAddress };
      });
    } catch (err) {
      if (err instanceof Rollback) return refusal!;
      throw committing ? new CommitUnknown(err) : err;
    }
    if (done.length > 0) placedBatch(sale, done, payDeadline, flashBatch);
    return outcome;
  }

  return { placeFlashBatch };
}
