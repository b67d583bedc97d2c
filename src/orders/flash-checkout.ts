import { performance } from "node:perf_hooks";
import { and, eq, gt, inArray, or } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { products, skus } from "../db/catalog.schema.js";
import { flashBuyers, flashGiveBacks, flashSales } from "../db/flash.schema.js";
import { orderItems, orders } from "../db/orders.schema.js";
import { isOutage } from "../unavailable.js";
import type { Logger } from "../log.js";
import { AppError, ERRORS, type ErrorCode } from "../protocol/errors.js";
import { requestField, type FlashGate, type TakeResult } from "./flash-gate.redis.js";
import type { Fence, FlashBatchSale, FlashBuy } from "./flash-batch.js";
import type { Lifecycle } from "./lifecycle.js";
import { newOrderId } from "./order-id.js";
import { CommitUnknown, isLockTimeout } from "./sql-errors.js";
import { orderView } from "./order-view.js";
import type { Order } from "./orders.dto.js";
import { requireTotalWithin } from "./pricing.js";

type SaleRow = typeof flashSales.$inferSelect;

/** How long a node trusts its copy of a sale's row (its status may change on another node). */
const SALE_CACHE_MS = 1000;
/** A gate's keys live this long; a sale is reconciled while its gate may still hold takes. */
const GATE_TTL_MS = 7 * 24 * 3600 * 1000;
/** Batches of one sale a node writes at the same time (they meet only at the sale's rows, at the end). */
const BATCHES_IN_FLIGHT = 2;
/**
 * How long a reconcile waits for a sale's exclusive fence before it leaves the sale to its next
 * round. New batches of the sale queue behind a reconcile that waits, so this is what a reconcile
 * may add to a buyer's wait; a batch holds the fence shared for one commit, milliseconds.
 */
const FENCE_WAIT_MS = 250;

export interface FlashCheckoutOptions {
  /** How long the first buy of an idle sale waits for others to join its batch. */
  gatherMs: number;
  /** Most buys in one batch (one transaction). */
  maxBatch: number;
  /** A take this old whose order is not in PostgreSQL is given back (its node died, or its write failed). */
  staleMs: number;
  /** The most one order may cost (ORDER_MAX_TOTAL_FEN): a buy above it is refused before the gate. */
  maxTotalFen: number;
}

/** What a buyer asked for, and the request's Idempotency-Key (its scope and body hash). */
export interface FlashBuyRequest {
  quantity: number;
  addressId: string;
  request: { key: string; scope: string; hash: string };
}

/** `takenAt`: this node's clock (performance.now()) just before the take was sent to the gate. */
type Waiter = { buy: FlashBuy; takenAt: number; resolve: (o: Order) => void; reject: (err: unknown) => void };
type Queue = { waiting: Waiter[]; inFlight: number; timer: NodeJS.Timeout | null };

const unavailable = () => new AppError("UNAVAILABLE", "The order could not be written; try again with the same Idempotency-Key.", undefined, 1);

/**
 * The gate's refusals are the same answer every time: one error each, made once (a refusal is most
 * of a sold-out rush, and an Error's stack costs more than the rest of its answer).
 */
const SOLD_OUT = new AppError("SOLD_OUT");
const overLimit = new Map<number, AppError>();
const limitError = (limit: number) => {
  let e = overLimit.get(limit);
  if (!e) overLimit.set(limit, (e = new AppError("LIMIT_EXCEEDED", `At most ${limit} per person.`)));
  return e;
};

/**
 * Flash buy-now, the hot path. The Redis gate is the sale's live authority: it answers a request
 * seen before, refuses over the limit or sold out (without PostgreSQL), or takes the units. Takes
 * of one sale are gathered for a few milliseconds and written together by the lifecycle
 * (`placeFlashBatch`: N orders, their lines and Idempotency-Key answers, the buyers' units and ONE
 * decrement of the sale and the SKU, in one transaction). Every 201 is a committed order; a take
 * that never became one is given back exactly once: at once when the write surely failed, or by
 * `reconcile` when the outcome is unknown or the node died. A reconcile makes a take void in Redis
 * (a batch that asks the gate under the sale's shared fence then leaves it out), reads PostgreSQL
 * under the exclusive fence (so every batch that asked before has committed or rolled back), and
 * settles or gives back after: the fence is never held across a Redis call.
 */
export function createFlashCheckout(deps: { db: Db; lifecycle: Lifecycle; gate: FlashGate; log: Logger; options: FlashCheckoutOptions }) {
  const { db, lifecycle, gate, log } = deps;
  const o = deps.options;
  const cache = new Map<string, { at: number; sale: SaleRow; product: FlashBatchSale["product"] }>();
  const queues = new Map<string, Queue>();
  /** Orders of takes this node is writing now: a retry of the same request waits for them. */
  const writing = new Map<string, Promise<Order>>();
  let reconciler: NodeJS.Timeout | null = null;

  async function sale(id: string, fresh = false) {
    const hit = cache.get(id);
    if (hit && !fresh && Date.now() - hit.at < SALE_CACHE_MS) return hit;
    const [row] = await db.select().from(flashSales).where(eq(flashSales.id, id));
    if (!row) throw new AppError("NOT_FOUND", "No such flash sale.");
    const [p] = await db
      .select({ productId: products.id, name: products.name, specs: skus.specs, pictures: products.pictures })
      .from(skus)
      .innerJoin(products, eq(products.id, skus.productId))
      .where(eq(skus.id, row.skuId));
    const product = { productId: p?.productId ?? row.productId, name: p?.name ?? "", specs: p?.specs ?? {}, cover: p?.pictures[0] ?? "" };
    const entry = { at: Date.now(), sale: row, product };
    cache.set(id, entry);
    return entry;
  }

  /**
   * Loads the gate from PostgreSQL (first use on this Redis, or after a loss): the sale, its buyers
   * and the give-backs they already count, read in one snapshot.
   */
  async function open(s: SaleRow) {
    const { fresh, buyers, given } = await db.transaction(
      async (tx) => {
        const [fresh] = await tx.select().from(flashSales).where(eq(flashSales.id, s.id));
        const buyers = await tx.select({ userId: flashBuyers.userId, bought: flashBuyers.bought }).from(flashBuyers).where(eq(flashBuyers.flashSaleId, s.id));
        const given = await tx.select({ orderId: flashGiveBacks.orderId }).from(flashGiveBacks).where(eq(flashGiveBacks.flashSaleId, s.id));
        return { fresh: fresh!, buyers, given: given.map((g) => g.orderId) };
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
    await gate.load(s.id, GATE_TTL_MS, fresh.quantity - fresh.sold, buyers, given);
  }

  /** Buy now at the live price: gate, then the sale's next batch. */
  async function buy(userId: string, saleId: string, input: FlashBuyRequest): Promise<Order> {
    const { sale: s } = await sale(saleId);
    if (s.status !== "active" || s.endsAt.getTime() < Date.now()) throw new AppError("FLASH_NOT_ACTIVE");
    requireTotalWithin(s.priceFen * input.quantity, o.maxTotalFen);
    const orderId = newOrderId();
    const takenAt = performance.now();
    const request = { field: requestField(userId, input.request.key), hash: input.request.hash.slice(0, 32) };
    const ask = [saleId, userId, input.quantity, s.perUserLimit, request, orderId] as const;
    let taken = await gate.take(...ask);
    if (taken.kind === "notLoaded") {
      await open(s);
      taken = await gate.take(...ask);
    }
    if (taken.kind === "limit") throw limitError(s.perUserLimit);
    if (taken.kind === "soldOut") throw SOLD_OUT;
    if (taken.kind === "seen") return answered(userId, taken, request.hash);
    if (taken.kind !== "taken") throw new AppError("UNAVAILABLE", "The flash sale's gate is not loaded; try again.", undefined, 1);
    const buy: FlashBuy = { orderId, userId, quantity: input.quantity, requestKey: input.request.key, addressId: input.addressId, idempotency: { scope: input.request.scope, hash: input.request.hash } };
    const placed = new Promise<Order>((resolve, reject) => enqueue(saleId, { buy, takenAt, resolve, reject }));
    writing.set(orderId, placed);
    try {
      return await placed;
    } finally {
      writing.delete(orderId);
    }
  }

  /** The answer to a request the gate has seen: the same refusal, or the same order. */
  async function answered(userId: string, seen: Extract<TakeResult, { kind: "seen" }>, hash: string): Promise<Order> {
    if (seen.hash !== hash) throw new AppError("IDEMPOTENCY_KEY_REUSED");
    if (seen.refusal) throw seen.refusal in ERRORS ? new AppError(seen.refusal as ErrorCode) : new AppError("CONFLICT", seen.refusal);
    const inFlight = writing.get(seen.orderId!);
    if (inFlight) return inFlight;
    const [row] = await db.select().from(orders).where(and(eq(orders.id, seen.orderId!), eq(orders.userId, userId)));
    if (row) return orderView(row, await db.select().from(orderItems).where(eq(orderItems.orderId, row.id)));
    // Taken but not written yet (on another node), or written with an outcome still being reconciled.
    throw new AppError("IDEMPOTENCY_IN_PROGRESS", undefined, undefined, 1);
  }

  function enqueue(saleId: string, w: Waiter) {
    let q = queues.get(saleId);
    if (!q) queues.set(saleId, (q = { waiting: [], inFlight: 0, timer: null }));
    q.waiting.push(w);
    if (q.inFlight >= BATCHES_IN_FLIGHT) return; // the batch in flight flushes these when it ends
    if (q.waiting.length >= o.maxBatch) flush(saleId, q);
    else q.timer ??= setTimeout(() => flush(saleId, q), o.gatherMs);
  }

  function flush(saleId: string, q: Queue) {
    if (q.timer) clearTimeout(q.timer);
    q.timer = null;
    if (q.waiting.length === 0 || q.inFlight >= BATCHES_IN_FLIGHT) return;
    const batch = q.waiting.splice(0, o.maxBatch);
    q.inFlight += 1;
    void write(saleId, batch).finally(() => {
      q.inFlight -= 1;
      if (q.waiting.length > 0) flush(saleId, q);
      else if (q.inFlight === 0) queues.delete(saleId);
    });
  }

  /** Takes that will not be orders go back to the gate at once (with the refusal to remember, if any). */
  async function giveBack(saleId: string, waiters: Waiter[], refusal: ErrorCode | null) {
    await gate.release(saleId, waiters.map((w) => ({ orderId: w.buy.orderId, refusal }))).catch((err: unknown) => log.warn({ err, flashSaleId: saleId }, "flash takes not given back; the reconcile will"));
  }

  async function refuse(saleId: string, waiters: Waiter[], code: ErrorCode, message?: string) {
    await giveBack(saleId, waiters, code);
    for (const w of waiters) w.reject(new AppError(code, message));
  }

  /** Writes one batch; answers every waiter. */
  async function write(saleId: string, batch: Waiter[]) {
    let s: Awaited<ReturnType<typeof sale>>;
    try {
      s = await sale(saleId);
    } catch (err) {
      await giveBack(saleId, batch, null);
      for (const w of batch) w.reject(isOutage(err) ? unavailable() : err);
      return;
    }
    const terms: FlashBatchSale = { id: s.sale.id, streamId: s.sale.streamId, skuId: s.sale.skuId, priceFen: s.sale.priceFen, perUserLimit: s.sale.perUserLimit, product: s.product };
    await place(terms, batch);
  }

  /**
   * Which of these takes a reconcile made void (or gave back), asked under the sale's fence; null
   * when none can be. A reconcile makes void only takes older than `staleMs` by Redis's clock, then
   * waits for the fence; a take sent less than `staleMs - margin` ago by this node's clock (which
   * runs at Redis's rate) cannot be one of them, so a batch of young takes needs neither the
   * question nor a transaction around its one statement.
   */
  function fenceOf(saleId: string, waiters: Waiter[]): Fence | null {
    const margin = Math.min(1000, o.staleMs / 2);
    const oldest = Math.min(...waiters.map((w) => w.takenAt));
    return performance.now() - oldest < o.staleMs - margin ? null : (ids) => gate.missing(saleId, ids);
  }

  /** Places waiters in one transaction; when PostgreSQL refuses part of them, answers those and places the rest. */
  async function place(terms: FlashBatchSale, waiters: Waiter[]): Promise<void> {
    if (waiters.length === 0) return;
    const saleId = terms.id;
    let outcome: Awaited<ReturnType<Lifecycle["placeFlashBatch"]>>;
    try {
      outcome = await lifecycle.placeFlashBatch(terms, waiters.map((w) => w.buy), fenceOf(saleId, waiters));
    } catch (err) {
      if (err instanceof CommitUnknown) {
        // Maybe committed: the takes stay pending and the reconcile decides from PostgreSQL.
        log.warn({ err: err.cause, flashSaleId: saleId, buys: waiters.length }, "flash batch commit outcome unknown; the reconcile settles it");
        for (const w of waiters) w.reject(unavailable());
        return;
      }
      await giveBack(saleId, waiters, null);
      if (!isOutage(err)) log.error({ err, flashSaleId: saleId }, "flash batch failed");
      for (const w of waiters) w.reject(isOutage(err) ? unavailable() : err);
      return;
    }
    const byOrder = new Map(waiters.map((w) => [w.buy.orderId, w]));
    if (outcome.kind === "placed") {
      // Committed: the buyers are answered now, not after Redis (a silent Redis would hold them, and
      // this batch's place in the queue, for its command timeout); a take left pending is settled by the reconcile.
      void gate.settle(saleId, [...outcome.orders.keys()]).catch((err: unknown) => log.warn({ err, flashSaleId: saleId }, "flash takes not settled; the reconcile will"));
      for (const [orderId, order] of outcome.orders) byOrder.get(orderId)!.resolve(order);
      for (const b of outcome.voided) byOrder.get(b.orderId)!.reject(unavailable());
      if (outcome.noAddress.length > 0) await refuse(saleId, outcome.noAddress.map((b) => byOrder.get(b.orderId)!), "NOT_FOUND", "No such address.");
      if (outcome.conflicts.length > 0) {
        const conflicted = outcome.conflicts.map((b) => byOrder.get(b.orderId)!);
        await giveBack(saleId, conflicted, null);
        for (const w of conflicted) {
          const existing = await lifecycle.byRequestKey(w.buy.userId, w.buy.requestKey).catch(() => null);
          if (existing && existing.items.some((i) => i.skuId === terms.skuId) && existing.totalFen === terms.priceFen * w.buy.quantity) w.resolve(existing);
          else w.reject(new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used for another order."));
        }
      }
      return;
    }
    if (outcome.kind === "overLimit") {
      const over = new Set(outcome.userIds);
      await refuse(saleId, waiters.filter((w) => over.has(w.buy.userId)), "LIMIT_EXCEEDED", `At most ${terms.perUserLimit} per person.`);
      return place(terms, waiters.filter((w) => !over.has(w.buy.userId)));
    }
    if (outcome.kind === "saleRefused") {
      const fresh = await sale(saleId, true).catch(() => null);
      if (fresh && (fresh.sale.status !== "active" || fresh.sale.endsAt.getTime() < Date.now())) return refuse(saleId, waiters, "FLASH_NOT_ACTIVE");
      if (waiters.length === 1) return refuse(saleId, waiters, "SOLD_OUT");
    } else if (waiters.length === 1) {
      return refuse(saleId, waiters, outcome.error.code, outcome.error.message);
    }
    // The gate and PostgreSQL disagree about part of the batch: halves, until each buy has its answer.
    const half = Math.ceil(waiters.length / 2);
    await place(terms, waiters.slice(0, half));
    await place(terms, waiters.slice(half));
  }

  /**
   * Gives back takes whose orders never reached PostgreSQL, and forgets pending ones that did:
   * for every sale whose gate may hold takes, those older than `staleMs` (not being written by
   * this node) are made void, looked up under the sale's exclusive fence, then settled or given
   * back. A sale whose fence is not had within FENCE_WAIT_MS waits for the next round (its takes
   * stay void). Returns how many were decided.
   */
  async function reconcile(): Promise<number> {
    // Units of cancelled orders that did not reach the gate when their cancel committed.
    await lifecycle.giveBackLeft(o.staleMs);
    const live = await db
      .select({ id: flashSales.id })
      .from(flashSales)
      .where(or(eq(flashSales.status, "active"), gt(flashSales.endsAt, new Date(Date.now() - GATE_TTL_MS))));
    let decided = 0;
    for (const { id } of live) {
      const stale = (await gate.pending(id)).filter((p) => p.ageMs >= o.staleMs && !writing.has(p.orderId));
      if (stale.length === 0) continue;
      // Void first, in Redis: from now on no batch writes these takes.
      const ids = await gate.voidTakes(id, o.staleMs, stale.map((p) => p.orderId));
      if (ids.length === 0) continue;
      // Then the fence, for one read: a batch that asked the gate before the void has ended by now.
      let there: Set<string>;
      try {
        there = await db.transaction(async (tx) => {
          await lifecycle.lockSale(tx, id, "exclusive", FENCE_WAIT_MS);
          return new Set((await tx.select({ id: orders.id }).from(orders).where(inArray(orders.id, ids))).map((r) => r.id));
        });
      } catch (err) {
        if (!isLockTimeout(err)) throw err;
        log.info({ flashSaleId: id, takes: ids.length }, "flash sale's fence busy; its void takes are decided next round");
        continue;
      }
      // The void takes are decided: no Redis call was made under the fence.
      await gate.settle(id, ids.filter((i) => there.has(i)));
      const back = await gate.release(id, ids.filter((i) => !there.has(i)).map((orderId) => ({ orderId, refusal: null })));
      if (back > 0) log.info({ flashSaleId: id, givenBack: back }, "flash takes that never became orders given back to the gate");
      decided += ids.length;
    }
    return decided;
  }

  return {
    buy,
    open,
    reconcile,
    /** Units the gate still holds for a sale, or null when it is not loaded. */
    left: (id: string) => gate.left(id),
    /** Drops this node's copy of a sale (it just ended here). */
    forget: (id: string) => void cache.delete(id),
    /** Reconciles every `staleMs / 2` (and once now) until `stop`. */
    start() {
      const tick = () => void reconcile().catch((err: unknown) => log.warn({ err }, "flash reconcile failed; the next round retries"));
      tick();
      reconciler = setInterval(tick, Math.max(200, Math.floor(o.staleMs / 2)));
      reconciler.unref();
    },
    stop() {
      if (reconciler) clearInterval(reconciler);
      reconciler = null;
      for (const q of queues.values()) if (q.timer) clearTimeout(q.timer);
    },
    /**
     * Whether the gate and PostgreSQL agree on a sale once nothing is pending: units left =
     * quantity - sold, and each buyer's units (for tests and the benchmark).
     */
    async audit(id: string) {
      const { sale: s } = await sale(id, true);
      const [left, bought, pending, rows] = await Promise.all([gate.left(id), gate.bought(id), gate.pending(id), db.select().from(flashBuyers).where(eq(flashBuyers.flashSaleId, id))]);
      const buyersAgree = rows.every((r) => (bought.get(r.userId) ?? 0) === r.bought) && [...bought].every(([u, n]) => n === (rows.find((r) => r.userId === u)?.bought ?? 0));
      return { gateLeft: left, dbLeft: s.quantity - s.sold, pending: pending.length, agree: left === s.quantity - s.sold && buyersAgree && pending.length === 0 };
    },
  };
}

export type FlashCheckout = ReturnType<typeof createFlashCheckout>;
