import { and, asc, eq, gt, inArray, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { flashGiveBacks } from "../db/flash.schema.js";
import { groupMembers, groups } from "../db/groups.schema.js";
import { orderItems, orders, type OrderStatus } from "../db/orders.schema.js";
import { cartItems } from "../db/shopping.schema.js";
import type { Logger } from "../log.js";
import { AppError } from "../protocol/errors.js";
import { addressRepo, addressSnapshot } from "../shopping/address.repo.js";
import type { FlashGate } from "./flash-gate.redis.js";
import { createFlashBatches } from "./flash-batch.js";
import { countSales, freeCoupon, limitHolds, returnFlashUnits, returnStock, takeFlashUnits, takeStock, useCoupon, type HoldLimits } from "./inventory.js";
import type { FlashUnits, OrderEventBus, OrderEvents } from "./order-events.js";
import { newOrderId } from "./order-id.js";
import { orderView, type OrderRow } from "./order-view.js";
import type { Order } from "./orders.dto.js";
import { mergeLines, priceOrder, type PricingRules } from "./pricing.js";
import { isUniqueViolation } from "./sql-errors.js";

/** What happens to an order. */
export type LifecycleEvent = "place" | "pay" | "cancel" | "shortenHold" | "ship" | "confirm" | "refundAll" | "unsell" | "refundSettled" | "refundDone";

/** What a transition does besides moving the status, inside its transaction, in the order listed. */
export type Effect =
  | "limitHolds" // under the user's lock: unpaid orders and unpaid units per SKU within the limits (or UNPAID_*_LIMIT)
  | "holdGroupPlace" // the group's row is locked and a place taken (or GROUP_FULL / GROUP_CLOSED)
  | "useCoupon" // the user's unused claim is marked used by this order
  | "clearCartLines" // checked-out lines leave the cart
  | "takeFlashUnits" // the buyer's bought + q <= limit, the sale's sold + q <= quantity (and the gate took them first)
  | "takeStock" // stock - q WHERE stock >= q, last: the SKU row stays locked only until commit
  | "countSales" // products.sales grows by the paid units
  | "freeCoupon" // the claim is usable again (unless the coupon expired)
  | "returnFlashUnits" // the buyer's bought and the sale's sold shrink; after commit the gate gets them back
  | "returnStock" // stock + q
  | "moveDeadline" // pay_deadline brought forward, never later
  | "requireGroupComplete" // a group-buy order ships only once its group is complete
  | "addRefunded"; // refunded_fen grows by a settled refund

export interface Transition {
  from: OrderStatus | null;
  on: LifecycleEvent;
  to: OrderStatus;
  effects: readonly Effect[];
  /** Told after commit (order-events.ts). */
  then?: keyof OrderEvents;
}

const t = (from: OrderStatus | null, on: LifecycleEvent, to: OrderStatus, effects: readonly Effect[] = [], then?: keyof OrderEvents): Transition => ({ from, on, to, effects, then });
const REFUNDABLE = ["paid", "shipped", "completed"] as const;

/**
 * How an order lives: every change of an order's status, and every movement of stock, flash units
 * and coupon use, is one of these rows, applied by this module only. A transition is a conditional
 * update on the current status, so it happens once however often it is asked for; its effects run
 * in the same transaction; what follows (`then`) is told after commit. Rows whose `from` equals
 * `to` change no status (a replayed payment, a refund settling).
 */
export const ORDER_LIFECYCLE: readonly Transition[] = [
  t(null, "place", "pending_payment", ["limitHolds", "holdGroupPlace", "useCoupon", "clearCartLines", "takeFlashUnits", "takeStock"], "placed"),
  t("pending_payment", "pay", "paid", ["countSales"], "paid"),
  t("paid", "pay", "paid", [], "paid"),
  t("cancelled", "pay", "cancelled", [], "paidAfterClose"),
  t("pending_payment", "cancel", "cancelled", ["freeCoupon", "returnFlashUnits", "returnStock"], "cancelled"),
  t("pending_payment", "shortenHold", "pending_payment", ["moveDeadline"], "deadlinesMoved"),
  t("paid", "ship", "shipped", ["requireGroupComplete"]),
  t("shipped", "confirm", "completed"),
  ...REFUNDABLE.map((s) => t(s, "refundAll", "refunding")),
  t("paid", "unsell", "refunding", ["returnStock"]),
  ...(["paid", "shipped", "completed", "refunding", "refunded", "cancelled"] as const).map((s) => t(s, "refundSettled", s, ["addRefunded"])),
  ...(["refunding", ...REFUNDABLE] as const).map((s) => t(s, "refundDone", "refunded")),
];

/** Whether `from --on--> to` is a row of the table. */
export const isTransition = (from: OrderStatus | null, on: LifecycleEvent, to: OrderStatus) => ORDER_LIFECYCLE.some((r) => r.from === from && r.on === on && r.to === to);

type Plan = { froms: OrderStatus[]; to: OrderStatus | null; effects: readonly Effect[]; then: Map<OrderStatus, keyof OrderEvents> };

/** Per event: the status-moving rows (one target, one list of effects) and the rows that keep the status. */
function plan(on: LifecycleEvent): { moves: Plan | null; stays: Plan | null } {
  const rows = ORDER_LIFECYCLE.filter((r) => r.on === on && r.from !== null);
  const group = (list: Transition[], moving: boolean): Plan | null => {
    if (list.length === 0) return null;
    const first = list[0]!;
    for (const r of list) {
      if ((moving && r.to !== first.to) || r.effects.join() !== first.effects.join()) throw new Error(`order lifecycle: the rows of "${on}" disagree`);
    }
    return { froms: list.map((r) => r.from!), to: moving ? first.to : null, effects: first.effects, then: new Map(list.flatMap((r) => (r.then ? [[r.from!, r.then] as const] : []))) };
  };
  return { moves: group(rows.filter((r) => r.from !== r.to), true), stays: group(rows.filter((r) => r.from === r.to), false) };
}
const PLANS = new Map((["pay", "cancel", "shortenHold", "ship", "confirm", "refundAll", "unsell", "refundSettled", "refundDone"] as const).map((e) => [e, plan(e)]));

/** A cancelled order's flash units for one sale, back in PostgreSQL and owed to the Redis gate. */
type GiveBack = FlashUnits & { orderId: string };
type Later = { events: { [K in keyof OrderEvents]: [K, OrderEvents[K]] }[keyof OrderEvents][]; giveBack: GiveBack[] };

/** One transaction of lifecycle work: what it tells and gives back waits for the commit. */
export interface Work {
  tx: Db;
  readonly later: Later;
}

/** Inputs of a transition beyond the order: columns it sets, and the amounts its effects move. */
type FireOptions = {
  /** Columns set with a status move. */
  set?: Partial<typeof orders.$inferInsert>;
  /** moveDeadline: the new deadline. */
  until?: Date;
  /** addRefunded: the settled amount. */
  refundedFen?: number;
  /** No matching row is not an error: the transition is simply not due (returns []). */
  quiet?: boolean;
};

export interface PlaceInput {
  lines: { skuId: string; quantity: number }[];
  addressId: string;
  source: "cart" | "buy_now" | "flash" | "group";
  streamId?: string;
  expectedTotalFen?: number;
  /** The request's Idempotency-Key: a second order with the same key returns the first. */
  requestKey?: string;
  /** A live flash sale checked in PostgreSQL alone (one line, at the live price); the hot path is `placeFlashBatch`. */
  flash?: { id: string; priceFen: number; perUserLimit: number };
  /**
   * A place in a group buy, at the group price: `claim` runs first inside the order's transaction
   * (it locks the group and takes the place, or throws) and the order pays by `payDeadline`, or by
   * the earlier deadline `claim` returns (the place that filled a join-first group).
   */
  group?: { id: string; priceFen: number; payDeadline: Date; claim: (w: Work, orderId: string) => Promise<Date | void> };
  /** A live coupon the user claimed: used by this order (once) or COUPON_NOT_APPLICABLE. */
  couponId?: string;
}

/** Placing read a price that moved before the SKU row was locked: placing runs again. */
class PriceMoved extends Error {}

/**
 * A give-back that found the gate not loaded stays owed this long: past it, no load that read
 * PostgreSQL before the cancel committed can still be on its way (its reads and its LOAD are each
 * bounded by a command timeout), and the next load reads the units from PostgreSQL.
 */
const GIVE_BACK_UNLOADED_KEPT_MS = 60_000;

/** The sale's fence: a transaction-level advisory lock on (SALE_LOCK, hashtext(saleId)). */
export const SALE_LOCK = 7_406_002;

/**
 * The one owner of order state (see ORDER_LIFECYCLE). Payments, groups, flash sales and coupons
 * ask it; nothing else writes `orders.status`, stock, flash units or coupon use. Subscribers hear
 * of each change through `events`, after commit.
 */
export function createLifecycle(deps: { db: Db; events: OrderEventBus; log: Logger; payTimeoutSec: number; holds: HoldLimits; pricing: PricingRules; gate?: FlashGate }) {
  const { db, events, log } = deps;

  /** Runs lifecycle work in one transaction; after commit, gives flash units back to the gate and tells subscribers. */
  async function run<T>(fn: (w: Work) => Promise<T>): Promise<T> {
    const later: Later = { events: [], giveBack: [] };
    const result = await db.transaction((tx) => fn({ tx, later }));
    await afterCommit(later);
    return result;
  }

  async function afterCommit(later: Later) {
    // The change has committed; a failed give-back must not turn it into an error: its row in
    // flash_give_backs stays, and the flash reconcile gives it (`giveBackLeft`).
    for (const u of later.giveBack) await giveBack(u).catch((err: unknown) => log.warn({ err, ...u }, "flash units not given back to the gate yet; the flash reconcile retries"));
    const failures: unknown[] = [];
    for (const [name, event] of later.events) await events.emit(name, event as never).catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Gives a cancelled order's units to the gate (once per order, however often asked), then forgets
   * its row. A gate that is not loaded keeps the row a while: a load in progress may have read
   * PostgreSQL before this cancel committed, and then the give is still owed to what it loads.
   */
  async function giveBack(u: GiveBack, ageMs = 0) {
    if (!deps.gate) return;
    const given = await deps.gate.give(u.flashSaleId, u.orderId, u.userId, u.quantity);
    if (given === "notLoaded" && ageMs < GIVE_BACK_UNLOADED_KEPT_MS) return;
    await db.delete(flashGiveBacks).where(and(eq(flashGiveBacks.orderId, u.orderId), eq(flashGiveBacks.flashSaleId, u.flashSaleId)));
  }

  /**
   * The give-backs of cancels committed at least `minAgeMs` ago that have not reached the gate (its
   * Redis did not answer, or the node stopped in between): given now, each once. Returns how many.
   */
  async function giveBackLeft(minAgeMs: number, limit = 500): Promise<number> {
    // Ages by PostgreSQL's clock, which wrote `created_at`: a node's clock may be off.
    const ageMs = sql<number>`extract(epoch from now() - ${flashGiveBacks.createdAt}) * 1000`.mapWith(Number);
    const left = await db
      .select({ orderId: flashGiveBacks.orderId, flashSaleId: flashGiveBacks.flashSaleId, userId: flashGiveBacks.userId, quantity: flashGiveBacks.quantity, ageMs })
      .from(flashGiveBacks)
      .where(sql`${flashGiveBacks.createdAt} < now() - ${minAgeMs} * interval '1 millisecond'`)
      .orderBy(asc(flashGiveBacks.createdAt))
      .limit(limit);
    for (const { ageMs: age, ...u } of left) await giveBack(u, age);
    if (left.length > 0) log.info({ givenBack: left.length }, "flash units of cancelled orders given back to the gate late");
    return left.length;
  }

  const tell = <K extends keyof OrderEvents>(w: Work, name: K, event: OrderEvents[K]) => void w.later.events.push([name, event] as never);

  const itemsOf = async (tx: Db, ids: string[]) => (ids.length ? tx.select().from(orderItems).where(inArray(orderItems.orderId, ids)) : []);

  /**
   * Applies `on` to the orders `where` selects, as the table says: a conditional update from the
   * rows' states, then their effects; else the rows that keep the status. Returns the orders changed.
   */
  async function fire(w: Work, on: Exclude<LifecycleEvent, "place">, where: SQL, o: FireOptions = {}): Promise<OrderRow[]> {
    const { moves, stays } = PLANS.get(on)!;
    const now = new Date();
    const inRow = (p: Plan) => ({
      ...(p.effects.includes("moveDeadline") ? { payDeadline: o.until } : {}),
      ...(p.effects.includes("addRefunded") ? { refundedFen: sql`${orders.refundedFen} + ${o.refundedFen ?? 0}` } : {}),
      updatedAt: now,
    });
    let applied: Plan | null = null;
    let rows: OrderRow[] = [];
    if (moves) {
      rows = await w.tx.update(orders).set({ ...o.set, ...inRow(moves), status: moves.to! }).where(and(where, inArray(orders.status, moves.froms))).returning();
      applied = moves;
    }
    if (rows.length === 0 && stays) {
      rows = await w.tx.update(orders).set(inRow(stays)).where(and(where, inArray(orders.status, stays.froms))).returning();
      applied = stays;
    }
    if (rows.length === 0 || !applied) {
      if (o.quiet) return [];
      const [current] = await w.tx.select({ status: orders.status }).from(orders).where(where);
      if (!current) throw new AppError("NOT_FOUND", "No such order.");
      throw new AppError("ORDER_STATE", `The order is ${current.status}.`, { status: current.status });
    }
    const needsItems = applied.effects.some((e) => e === "countSales" || e === "returnStock" || e === "returnFlashUnits") || [...applied.then.values()].some((e) => e === "paid" || e === "cancelled");
    const items = needsItems ? await itemsOf(w.tx, rows.map((r) => r.id)) : [];
    for (const row of rows) {
      const mine = items.filter((i) => i.orderId === row.id).sort((a, b) => (a.skuId < b.skuId ? -1 : 1));
      const flash = mine.filter((i) => i.flashSaleId).map((i) => ({ flashSaleId: i.flashSaleId!, userId: row.userId, quantity: i.quantity }));
      const from = applied === moves ? null : row.status;
      for (const effect of applied.effects) {
        if (effect === "countSales") await countSales(w.tx, mine);
        else if (effect === "freeCoupon" && row.couponId) await freeCoupon(w.tx, { couponId: row.couponId, userId: row.userId, orderId: row.id });
        else if (effect === "returnFlashUnits" && flash.length > 0) {
          await returnFlashUnits(w.tx, row.userId, flash);
          const owed = flash.map((u) => ({ ...u, orderId: row.id }));
          if (deps.gate) await w.tx.insert(flashGiveBacks).values(owed);
          w.later.giveBack.push(...owed);
        } else if (effect === "returnStock") await returnStock(w.tx, mine);
        else if (effect === "requireGroupComplete" && row.groupId) {
          const [g] = await w.tx.select({ status: groups.status }).from(groups).where(eq(groups.id, row.groupId));
          if (g?.status !== "complete") throw new AppError("ORDER_STATE", "The group buy is not complete yet.", { status: "paid" });
        }
      }
      // The row a stay applied is the one of the order's own status; a move's is the first of its rows.
      const then = from === null ? applied.then.values().next().value : applied.then.get(from);
      if (then === "paid") tell(w, "paid", { order: { id: row.id, userId: row.userId, groupId: row.groupId, streamId: row.streamId }, items: mine.map((i) => ({ productId: i.productId, name: i.name, quantity: i.quantity })), replay: from !== null });
      else if (then === "paidAfterClose") tell(w, "paidAfterClose", { order: { id: row.id, totalFen: row.totalFen } });
      else if (then === "cancelled") tell(w, "cancelled", { order: { id: row.id, userId: row.userId, groupId: row.groupId }, flash });
    }
    if ([...applied.then.values()].includes("deadlinesMoved")) tell(w, "deadlinesMoved", { orders: rows.map((r) => ({ id: r.id, payDeadline: r.payDeadline })) });
    return rows;
  }

  const byId = (id: string, userId: string | null = null) => and(eq(orders.id, id), userId ? eq(orders.userId, userId) : undefined)!;

  /** Places one order: every effect of `place`, in one transaction; a second order with the same request key returns the first. */
  async function place(userId: string, input: PlaceInput): Promise<Order> {
    const existing = async () => {
      if (!input.requestKey) return null;
      const [o] = await db.select().from(orders).where(and(eq(orders.userId, userId), eq(orders.requestKey, input.requestKey)));
      return o ? orderView(o, await itemsOf(db, [o.id])) : null;
    };
    const first = await existing();
    if (first) return first;
    const snapshot = addressSnapshot(await addressRepo.get(db, userId, input.addressId));
    const lines = mergeLines(input.lines);
    const livePriceFen = input.flash?.priceFen ?? input.group?.priceFen;
    for (let attempt = 1; ; attempt++) {
      const id = newOrderId();
      try {
        return await run(async (w) => {
          await limitHolds(w.tx, userId, lines, deps.holds);
          let payDeadline = input.group?.payDeadline ?? new Date(Date.now() + deps.payTimeoutSec * 1000);
          if (input.group) payDeadline = (await input.group.claim(w, id)) ?? payDeadline; // holdGroupPlace
          const { items: priced, streamId, itemsFen, discountFen, totalFen } = await priceOrder(w.tx, { userId, lines, rules: deps.pricing, streamId: input.streamId, livePriceFen, couponId: input.couponId });
          if (input.expectedTotalFen !== undefined && input.expectedTotalFen !== totalFen) {
            throw new AppError("PRICE_CHANGED", undefined, { totalFen, total: totalFen / 100 });
          }
          const now = new Date();
          const [row] = await w.tx
            .insert(orders)
            .values({
              id,
              userId,
              status: "pending_payment",
              itemsFen,
              discountFen,
              couponId: input.couponId ?? null,
              totalFen,
              address: snapshot,
              source: input.source,
              streamId,
              groupId: input.group?.id ?? null,
              requestKey: input.requestKey ?? null,
              payDeadline,
              createdAt: now,
              updatedAt: now,
            })
            .returning();
          const items = await w.tx
            .insert(orderItems)
            .values(priced.map(({ subtotalFen: _s, ...item }, i) => ({ ...item, orderId: id, line: i + 1, flashSaleId: input.flash?.id ?? null })))
            .returning();
          if (input.couponId) await useCoupon(w.tx, { couponId: input.couponId, userId, orderId: id });
          if (input.source === "cart") {
            await w.tx.delete(cartItems).where(and(eq(cartItems.userId, userId), inArray(cartItems.skuId, lines.map(([s]) => s))));
          }
          const flash = input.flash ? [{ flashSaleId: input.flash.id, userId, quantity: lines[0]![1] }] : [];
          if (input.flash) {
            const taken = await takeFlashUnits(w.tx, input.flash, new Map([[userId, lines[0]![1]]]));
            if (!taken.ok) throw "overLimit" in taken ? new AppError("LIMIT_EXCEEDED", `At most ${input.flash.perUserLimit} per person.`) : new AppError("SOLD_OUT");
          }
          const prices = await takeStock(w.tx, lines);
          if (livePriceFen === undefined && items.some((i) => prices.get(i.skuId) !== i.unitPriceFen)) throw new PriceMoved();
          tell(w, "placed", { orders: [{ id, userId, payDeadline, groupId: row!.groupId, streamId: row!.streamId }], flash, flashBatch: null });
          return orderView(row!, items);
        });
      } catch (err) {
        if (err instanceof PriceMoved && attempt < 3) continue;
        // A concurrent request with the same key won the race: its order is the answer.
        if (isUniqueViolation(err)) {
          const again = await existing();
          if (again) return again;
        }
        throw err;
      }
    }
  }

  /**
   * Takes the sale's fence: batches share it, a reconcile holds it alone (see flash-checkout.ts).
   * With `waitMs`, waiting longer fails (`isLockTimeout`) and the transaction is over.
   */
  function lockSale(tx: Db, saleId: string, mode: "shared" | "exclusive", waitMs?: number): Promise<unknown> {
    const lock = () => tx.execute(mode === "shared" ? sql`select pg_advisory_xact_lock_shared(${SALE_LOCK}, hashtext(${saleId}))` : sql`select pg_advisory_xact_lock(${SALE_LOCK}, hashtext(${saleId}))`);
    if (waitMs === undefined) return lock();
    return tx.execute(sql`select set_config('lock_timeout', ${`${Math.max(1, Math.round(waitMs))}ms`}, true)`).then(lock);
  }
  const { placeFlashBatch } = createFlashBatches({
    db,
    log,
    payTimeoutSec: deps.payTimeoutSec,
    lockSale,
    placed: (event) => afterCommit({ events: [["placed", event]], giveBack: [] }),
  });


  /** The order a user's request key named, if any. */
  async function byRequestKey(userId: string, requestKey: string): Promise<Order | null> {
    const [o] = await db.select().from(orders).where(and(eq(orders.userId, userId), eq(orders.requestKey, requestKey)));
    return o ? orderView(o, await itemsOf(db, [o.id])) : null;
  }

  return {
    run,
    place,
    placeFlashBatch,
    lockSale,
    byRequestKey,
    giveBackLeft,

    /** A payment landed (WeChat said SUCCESS): pays an unpaid order; a replay tells again; money for a closed order goes back. Quiet otherwise. */
    pay: (orderId: string, payment: { paidAt: Date; transactionId: string | null }) =>
      run(async (w) => (await fire(w, "pay", byId(orderId), { set: { paidAt: payment.paidAt, transactionId: payment.transactionId }, quiet: true }))[0] ?? null),

    /** Cancels an unpaid order (the user, a timeout, a lapsed group hold): stock, flash units and the coupon come back, once. */
    cancel: (userId: string | null, orderId: string, reason: string) =>
      run(async (w) => (await fire(w, "cancel", byId(orderId, userId), { set: { cancelledAt: new Date(), cancelReason: reason } }))[0]!),

    /**
     * Brings the pay deadline of a group's unpaid orders forward to `until` (never later), in the
     * caller's work; their timers move after commit. Returns the orders moved.
     */
    shortenHolds: (w: Work, groupId: string, until: Date) =>
      fire(w, "shortenHold", and(inArray(orders.id, w.tx.select({ id: groupMembers.orderId }).from(groupMembers).where(eq(groupMembers.groupId, groupId))), gt(orders.payDeadline, until))!, { until, quiet: true }),

    ship: (orderId: string, courier: string, trackingNo: string) =>
      run(async (w) => (await fire(w, "ship", byId(orderId), { set: { courier, trackingNo, shippedAt: new Date() } }))[0]!),

    confirm: (userId: string | null, orderId: string) => run(async (w) => (await fire(w, "confirm", byId(orderId, userId), { set: { completedAt: new Date() } }))[0]!),

    /** The whole amount is being refunded (in the refund's work): the order moves to refunding, if it is paid, shipped or completed. */
    refundAll: (w: Work, orderId: string) => fire(w, "refundAll", byId(orderId), { quiet: true }),

    /** A paid order of a failed group will be refunded and never ships: `paid → refunding`, its units back on sale, once. */
    unsell: (w: Work, orderId: string) => fire(w, "unsell", byId(orderId), { quiet: true }),

    /** A refund settled: the refunded sum grows, and an order refunded in full (not a cancelled one) is `refunded`. */
    async refundSettled(w: Work, orderId: string, amountFen: number) {
      const [o] = await fire(w, "refundSettled", byId(orderId), { refundedFen: amountFen, quiet: true });
      if (o && o.refundedFen >= o.totalFen) await fire(w, "refundDone", byId(orderId), { quiet: true });
      return o ?? null;
    },

    /** Tells the timers again about deadlines brought forward (a reconcile after a crash between commit and move). */
    remindDeadlines: (list: { id: string; payDeadline: Date }[]) => (list.length === 0 ? Promise.resolve() : events.emit("deadlinesMoved", { orders: list })),
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
