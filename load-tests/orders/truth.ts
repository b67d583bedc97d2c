import postgres from "postgres";

export type Truth = {
  quantity: number;
  /** flash_sales.sold. */
  sold: number;
  /** Units in the sale's orders that are not cancelled: what was really sold. */
  orderedUnits: number;
  orders: number;
  skuStock: number;
  maxPerUser: number;
  /** Sum of flash_buyers.bought. */
  buyerUnits: number;
  oversold: number;
  /** 201s whose order is not in PostgreSQL, plus orders in PostgreSQL that no 201 answered (before or on retry). */
  lost: number;
  /** 201s whose order id PostgreSQL does not have. */
  answeredMissing: number;
  /** Orders of the sale that were neither answered 201 nor returned on a retry of their key. */
  unanswered: number;
  /** Orders without exactly one line, or without their Idempotency-Key answer. */
  halfWritten: number;
  /** The cart SKU's stock taken, against the units the cart checkouts' 201s ordered. */
  cartStockTaken: number;
  cartOrderedUnits: number;
  /** flash_buyers: units per buyer. */
  buyers: Record<string, number>;
};

/** What PostgreSQL (the truth) holds about the sale and the cart SKU once the rushes are over, read without the server. */
export async function readTruth(
  databaseUrl: string,
  sale: { saleId: string; skuId: string; cartSkuId: string; cartStock: number },
  answered: { ids: Set<string> },
): Promise<Truth> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [s] = await sql<{ sold: number; quantity: number }[]>`select sold, quantity from flash_sales where id = ${sale.saleId}`;
    const [sku] = await sql<{ stock: number }[]>`select stock from skus where id = ${sale.skuId}`;
    const [cartSku] = await sql<{ stock: number }[]>`select stock from skus where id = ${sale.cartSkuId}`;
    const [buyers] = await sql<{ max: number | null; sum: string | null }[]>`
      select max(bought) as max, sum(bought) as sum from flash_buyers where flash_sale_id = ${sale.saleId}`;
    const orders = await sql<{ id: string; status: string; units: number; lines: number; answers: number }[]>`
      select o.id, o.status, coalesce(sum(i.quantity), 0)::int as units, count(i.*)::int as lines,
        (select count(*)::int from idempotency_keys k where k.key = o.request_key and k.scope like o.user_id || ' %') as answers
      from orders o join order_items i on i.order_id = o.id where i.flash_sale_id = ${sale.saleId} group by o.id`;
    const perBuyer = await sql<{ user_id: string; bought: number }[]>`select user_id, bought from flash_buyers where flash_sale_id = ${sale.saleId}`;
    const [cart] = await sql<{ units: string }[]>`
      select coalesce(sum(i.quantity), 0) as units from order_items i join orders o on o.id = i.order_id
      where i.sku_id = ${sale.cartSkuId} and o.status <> 'cancelled'`;
    if (!s || !sku || !cartSku) throw new Error(`sale ${sale.saleId} or its SKUs are missing from the database`);
    const live = orders.filter((o) => o.status !== "cancelled");
    const orderedUnits = live.reduce((n, o) => n + o.units, 0);
    const ids = new Set(orders.map((o) => o.id));
    const answeredMissing = [...answered.ids].filter((id) => !ids.has(id)).length;
    const unanswered = orders.filter((o) => !answered.ids.has(o.id)).length;
    return {
      quantity: s.quantity,
      sold: s.sold,
      orderedUnits,
      orders: live.length,
      skuStock: sku.stock,
      maxPerUser: buyers?.max ?? 0,
      buyerUnits: Number(buyers?.sum ?? 0),
      oversold: Math.max(0, orderedUnits - s.quantity),
      lost: answeredMissing + unanswered,
      answeredMissing,
      unanswered,
      halfWritten: orders.filter((o) => o.lines !== 1 || o.answers !== 1).length,
      cartStockTaken: sale.cartStock - cartSku.stock,
      cartOrderedUnits: Number(cart?.units ?? 0),
      buyers: Object.fromEntries(perBuyer.map((b) => [b.user_id, b.bought])),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
