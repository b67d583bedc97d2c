// Orders as a buyer places them, and what PostgreSQL then says about them (the truth a case checks).
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { makeProduct, type HttpClient } from "../../support/http.js";
import { wechatUser } from "../../support/wechat.js";

export type PlacedOrder = { id: string; status: string; totalFen: number; payDeadline: string };

/** A product with `stock` units and a WeChat buyer with an address, ready to order. */
export async function buyerAndProduct(call: HttpClient, admin: string, o: { priceFen: number; stock?: number }) {
  const [product, buyer] = await Promise.all([makeProduct(call, admin, { priceFen: o.priceFen, stock: o.stock ?? 10 }), wechatUser(call)]);
  return { product, buyer };
}

/** The buyer's unpaid order for `quantity` of the product; with `prepay`, WeChat Pay knows it too (its JSAPI parameters). */
export async function placeOrder(call: HttpClient, who: Awaited<ReturnType<typeof buyerAndProduct>>, o: { quantity?: number; streamId?: string; prepay?: boolean } = {}) {
  const { buyer, product } = who;
  const placed = await call<PlacedOrder>("POST", "/v1/orders", {
    token: buyer.token,
    headers: { "idempotency-key": `fault-${randomBytes(6).toString("hex")}` },
    body: { items: [{ skuId: product.skuId, quantity: o.quantity ?? 1 }], addressId: buyer.addressId, ...(o.streamId ? { streamId: o.streamId } : {}) },
  });
  if (placed.status !== 201) throw new Error(`order: ${placed.status} ${JSON.stringify(placed.body)}`);
  let payParams: Record<string, string> | null = null;
  if (o.prepay) {
    const p = await call<Record<string, string>>("POST", `/v1/orders/${placed.body.id}/pay`, { token: buyer.token });
    if (p.status !== 200) throw new Error(`pay params: ${p.status} ${JSON.stringify(p.body)}`);
    payParams = p.body;
  }
  return { buyer, product, order: placed.body, payParams };
}

/** A new buyer's unpaid order for a new product. */
export async function unpaidOrder(call: HttpClient, admin: string, o: { priceFen: number; quantity?: number; stock?: number; streamId?: string; prepay?: boolean }) {
  const who = await buyerAndProduct(call, admin, o);
  // An order from a stream must be for a product the stream sells.
  if (o.streamId) {
    const attached = await call("PUT", `/v1/streams/${o.streamId}/products`, { token: admin, body: { productIds: [who.product.productId] } });
    if (attached.status !== 200) throw new Error(`attach: ${attached.status} ${JSON.stringify(attached.body)}`);
  }
  return placeOrder(call, who, o);
}

/** Reads orders, stock, sales, refunds and the sandbox's side straight from PostgreSQL. */
export function orderTruth(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  return {
    sql,
    async order(id: string) {
      const [o] = await sql<{ status: string; paid_at: Date | null; transaction_id: string | null; refunded_fen: number; cancel_reason: string | null }[]>`
        select status, paid_at, transaction_id, refunded_fen, cancel_reason from orders where id = ${id}`;
      return o!;
    },
    async stock(skuId: string) {
      return (await sql<{ stock: number }[]>`select stock from skus where id = ${skuId}`)[0]!.stock;
    },
    async sales(productId: string) {
      return (await sql<{ sales: number }[]>`select sales from products where id = ${productId}`)[0]!.sales;
    },
    refunds: (orderId: string) => sql<{ status: string; amount_fen: number }[]>`select status, amount_fen from refunds where order_id = ${orderId} order by created_at`,
    /** WeChat's side in the sandbox: the transaction's state and its refunds. */
    async wechat(orderId: string) {
      const [t] = await sql<{ state: string }[]>`select state from sandbox_transactions where out_trade_no = ${orderId}`;
      const [r] = await sql<{ n: number; fen: number }[]>`select count(*)::int as n, coalesce(sum(amount_fen), 0)::int as fen from sandbox_refunds where out_trade_no = ${orderId}`;
      return { state: t?.state ?? null, refunds: r!.n, refundedFen: r!.fen };
    },
    close: () => sql.end(),
  };
}
