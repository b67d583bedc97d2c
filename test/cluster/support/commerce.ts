import { adminToken } from "../../support/admin.js";
import { devSession, devStream } from "../../support/clients.js";
import { buyOnce, makeBuyers, type Attempt, type FlashSetup } from "../../support/flash.js";
import { httpClient, makeProduct } from "../../support/http.js";
import type { SpawnedServer } from "../../support/servers.js";

/**
 * A flash sale whose gate lands where `wanted` says (its keys' master, say): sales are started in
 * fresh streams until one does. Then `buyers` buyers with addresses.
 */
export async function flashSaleWhere(baseUrl: string, databaseUrl: string, o: { quantity: number; limit: number; buyers: number; wanted: (saleId: string) => Promise<boolean> }): Promise<FlashSetup & { streamId: string }> {
  const call = httpClient(baseUrl);
  const admin = await adminToken(databaseUrl);
  const host = await devSession(baseUrl, "Host");
  for (let attempt = 0; attempt < 30; attempt++) {
    const streamId = await devStream(baseUrl, host.token);
    const p = await makeProduct(call, admin, { priceFen: 9900, stock: o.quantity * 2 }, "Rush item");
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });
    const sale = await call<{ id: string }>("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body: { skuId: p.skuId, priceFen: 1990, quantity: o.quantity, perUserLimit: o.limit } });
    if (sale.status !== 201) throw new Error(`flash sale: ${sale.status} ${JSON.stringify(sale.body)}`);
    if (await o.wanted(sale.body.id)) {
      return { streamId, saleId: sale.body.id, skuId: p.skuId, quantity: o.quantity, limit: o.limit, buyers: await makeBuyers(baseUrl, o.buyers) };
    }
    await call("POST", `/v1/flash-sales/${sale.body.id}/end`, { token: host.token });
  }
  throw new Error("no flash sale landed where wanted");
}

/**
 * `workers` buyers rush the sale, worker i through node i mod n (a dead node's requests fail and
 * the worker moves on to the next node), one unit per request with a fresh key, until `stop` or sold out.
 */
export async function rushAcross(nodes: SpawnedServer[], s: FlashSetup, o: { workers: number; tag: string; stop: (attempts: Attempt[]) => boolean }) {
  const attempts: (Attempt & { node: number; at: number; ms: number })[] = [];
  let n = 0;
  let done = false;
  await Promise.all(
    Array.from({ length: o.workers }, async (_, w) => {
      let node = w % nodes.length;
      while (!done) {
        const buyer = s.buyers[Math.floor(Math.random() * s.buyers.length)]!;
        const at = Date.now();
        const a = await buyOnce(nodes[node]!.url, s.saleId, buyer, `${o.tag}-${++n}`);
        attempts.push({ ...a, node, at, ms: Date.now() - at });
        if (a.status === null) {
          node = (node + 1) % nodes.length;
          await new Promise((r) => setTimeout(r, 50));
        }
        if (a.code === "SOLD_OUT" || o.stop(attempts)) done = true;
      }
    }),
  );
  return attempts;
}

/** How many times each order was closed at its deadline, from every node's log. */
export function closesByOrder(nodes: SpawnedServer[]) {
  const closes = new Map<string, number>();
  for (const node of nodes) {
    for (const line of node.output().split("\n")) {
      if (!line.includes('"msg":"unpaid order closed at its deadline"')) continue;
      const id = /"orderId":"([^"]+)"/.exec(line)?.[1];
      if (id) closes.set(id, (closes.get(id) ?? 0) + 1);
    }
  }
  return closes;
}
