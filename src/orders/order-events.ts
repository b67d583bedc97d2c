import type { Logger } from "../log.js";

/** Units of a flash sale an order took (placing) or gave back (cancelling). */
export type FlashUnits = { flashSaleId: string; userId: string; quantity: number };

/** What the order lifecycle tells the rest of the server, after the change has committed. */
export interface OrderEvents {
  /** Orders were placed (one, or a whole flash batch): their payment timers start, flash sales show fewer units left. */
  placed: {
    orders: { id: string; userId: string; payDeadline: Date; groupId: string | null; streamId: string | null }[];
    flash: FlashUnits[];
    /** The flash batch that placed them together (`orders.flash_batch`): they share its one payment timer. Null: each has its own. */
    flashBatch: string | null;
  };
  /**
   * An order is paid. `replay`: a repeated notification of a payment already applied; what
   * follows a payment may not have finished the first time, so subscribers run again (idempotently).
   */
  paid: {
    order: { id: string; userId: string; groupId: string | null; streamId: string | null };
    items: { productId: string; name: string; quantity: number }[];
    replay: boolean;
  };
  /** A payment landed on an order that was closed first: the money goes back. */
  paidAfterClose: { order: { id: string; totalFen: number } };
  /** An unpaid order was cancelled: its stock, flash units and coupon are back; a group place it held is free. */
  cancelled: { order: { id: string; userId: string; groupId: string | null }; flash: FlashUnits[] };
  /** Pay deadlines were brought forward (a join-first group filled): their timers move. */
  deadlinesMoved: { orders: { id: string; payDeadline: Date }[] };
}

/** Questions the lifecycle asks before acting; a check throws (an AppError) to refuse. */
export interface OrderChecks {
  /** May this unpaid order get payment parameters now? (A join-first group place pays only once the group is full.) */
  payable: { id: string; groupId: string | null; payDeadline: Date };
}

type Listener<T> = (event: T) => Promise<void> | void;

/**
 * The order lifecycle's typed events and checks. Subscribers and checks are registered once, at
 * start, and added to, never replaced; `seal` closes registration (a late `on` throws). Every
 * subscriber of an event runs, in registration order; the first failure is rethrown after all ran.
 */
export function createOrderEvents(log: Logger) {
  const listeners: { [K in keyof OrderEvents]?: Listener<OrderEvents[K]>[] } = {};
  const checks: { [K in keyof OrderChecks]?: Listener<OrderChecks[K]>[] } = {};
  let sealed = false;

  const open = (what: string) => {
    if (sealed) throw new Error(`order events are sealed: ${what} must be registered at start`);
  };

  return {
    /** Adds a subscriber. */
    on<K extends keyof OrderEvents>(name: K, listener: Listener<OrderEvents[K]>) {
      open(`on(${name})`);
      ((listeners[name] ??= []) as Listener<OrderEvents[K]>[]).push(listener);
    },
    /** Adds a check. */
    check<K extends keyof OrderChecks>(name: K, check: Listener<OrderChecks[K]>) {
      open(`check(${name})`);
      ((checks[name] ??= []) as Listener<OrderChecks[K]>[]).push(check);
    },
    /** No more subscribers or checks from now on. */
    seal() {
      sealed = true;
    },
    /** Tells every subscriber; rethrows the first failure once all have run. */
    async emit<K extends keyof OrderEvents>(name: K, event: OrderEvents[K]) {
      const failures: unknown[] = [];
      for (const listener of listeners[name] ?? []) {
        try {
          await listener(event);
        } catch (err) {
          log.debug({ err, event: name }, "order event subscriber failed");
          failures.push(err);
        }
      }
      if (failures.length > 0) throw failures[0];
    },
    /** Runs every check; the first refusal is thrown. */
    async ask<K extends keyof OrderChecks>(name: K, subject: OrderChecks[K]) {
      for (const check of checks[name] ?? []) await check(subject);
    },
  };
}

export type OrderEventBus = ReturnType<typeof createOrderEvents>;
