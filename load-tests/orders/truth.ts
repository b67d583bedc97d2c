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
};

/** What PostgreSQL (the truth) holds about the sale once the rush is over, read without the server. */
export async function readTruth(databaseUrl: string, saleId: string, skuId: string): Promise<Truth> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [sale] = await sql<{ sold: number; quantity: number }[]>`select sold, quantity from flash_sales where id = ${saleId}`;
    const [sku] = await sql<{ stock: number }[]>`select stock from skus where id = ${skuId}`;
    const [buyers] = await sql<{ max: number | null; sum: string | null }[]>`
      select max(bought) as max, sum(bought) as sum from flash_buyers where flash_sale_id = ${saleId}`;
    const [units] = await sql<{ units: string; orders: string }[]>`
      select coalesce(sum(i.quantity), 0) as units, count(distinct o.id) as orders
      from order_items i join orders o on o.id = i.order_id
      where i.flash_sale_id = ${saleId} and o.status <> 'cancelled'`;
    if (!sale || !sku) throw new Error(`sale ${saleId} or SKU ${skuId} is missing from the database`);
    const orderedUnits = Number(units!.units);
    return {
      quantity: sale.quantity,
      sold: sale.sold,
      orderedUnits,
      orders: Number(units!.orders),
      skuStock: sku.stock,
      maxPerUser: buyers?.max ?? 0,
      buyerUnits: Number(buyers?.sum ?? 0),
      oversold: Math.max(0, orderedUnits - sale.quantity),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
