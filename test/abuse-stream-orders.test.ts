// Issue 11, finding 5: an order's streamId is checked. An unknown stream is 404 STREAM_NOT_FOUND
// (and leaves no Redis keys behind); a product the stream does not sell is 409 NOT_IN_STREAM; so a
// paid order says "just bought" only in a room that sells what was bought.
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { redisUrl } from "./support/env.js";
import { sleep, WsClient } from "./support/clients.js";
import { makeProduct } from "./support/http.js";
import { useShop } from "./support/shop.js";
import { payInSandbox, wechatUser } from "./support/wechat.js";

type ErrorBody = { code: string; details?: Record<string, unknown> };
type Order = { id: string; status: string; streamId: string | null };

describe("an order's stream", () => {
  const shop = useShop();
  const call: typeof shop.call = (...args) => shop.call(...args);

  async function roomKeys(streamId: string) {
    const r = new Redis(redisUrl);
    try {
      return await r.keys(`${shop.services.redisPrefix}:{room:${streamId}}*`);
    } finally {
      r.disconnect();
    }
  }
  const place = (u: { token: string; addressId: string }, skuId: string, streamId: string) =>
    call<Order & ErrorBody>("POST", "/v1/orders", { token: u.token, headers: shop.key(), body: { items: [{ skuId, quantity: 1 }], addressId: u.addressId, streamId } });

  it("refuses an unknown stream on every way to place or quote, and creates no keys for it", async () => {
    const p = await makeProduct(call, shop.admin, { priceFen: 500, stock: 10 });
    const u = await shop.buyer("Mei");
    const ghost = "no-such-room";
    expect(await place(u, p.skuId, ghost)).toMatchObject({ status: 404, body: { code: "STREAM_NOT_FOUND" } });
    const quote = await call<ErrorBody>("POST", "/v1/orders/quote", { token: u.token, body: { items: [{ skuId: p.skuId, quantity: 1 }], streamId: ghost } });
    expect(quote).toMatchObject({ status: 404, body: { code: "STREAM_NOT_FOUND" } });
    await call("POST", "/v1/cart/items", { token: u.token, body: { skuId: p.skuId, quantity: 1 } });
    const cart = (await call<{ items: { id: string; quantity: number }[] }>("GET", "/api/cart", { token: u.token })).body;
    const seed = await call<ErrorBody>("POST", "/api/orders", { token: u.token, body: { items: cart.items, address: { id: u.addressId }, totalAmount: "5.00", streamId: ghost } });
    expect(seed).toMatchObject({ status: 404, body: { code: "STREAM_NOT_FOUND" } });
    expect(await shop.stockOf(p.productId)).toBe(10);
    expect(await roomKeys(ghost)).toEqual([]);
  });

  it("refuses a product the stream does not sell, and announces a paid order only in the room that sells it", async () => {
    const sold = await makeProduct(call, shop.admin, { priceFen: 500, stock: 10 }, "Tea");
    const elsewhere = await makeProduct(call, shop.admin, { priceFen: 700, stock: 10 }, "Fan");
    const mine = await shop.host("Host A", [sold.productId]);
    const other = await shop.host("Host B", [elsewhere.productId]);
    const roomA = await WsClient.connect(`${shop.server.ws}/live-stream/${mine.streamId}/ws`);
    const roomB = await WsClient.connect(`${shop.server.ws}/live-stream/${other.streamId}/ws`);
    await roomA.next("snapshot");
    await roomB.next("snapshot");

    const u = await wechatUser(call, "Lan");
    // Fan is sold in room B, not in room A: ordering it "from" room A is refused, nothing taken.
    expect(await place(u, elsewhere.skuId, mine.streamId)).toMatchObject({ status: 409, body: { code: "NOT_IN_STREAM", details: { productId: elsewhere.productId, streamId: mine.streamId } } });
    const quote = await call<ErrorBody>("POST", "/v1/orders/quote", { token: u.token, body: { items: [{ skuId: elsewhere.skuId, quantity: 1 }], streamId: mine.streamId } });
    expect(quote).toMatchObject({ status: 409, body: { code: "NOT_IN_STREAM" } });
    expect(await shop.stockOf(elsewhere.productId)).toBe(10);

    // Tea from room A: placed, paid, and room A (only) hears it.
    const ok = await place(u, sold.skuId, mine.streamId);
    expect(ok).toMatchObject({ status: 201, body: { streamId: mine.streamId } });
    const params = (await call<Record<string, unknown>>("POST", `/v1/orders/${ok.body.id}/pay`, { token: u.token })).body;
    expect(await payInSandbox(call, params)).toBe("requestPayment:ok");
    const purchase = await roomA.next("purchase");
    expect(purchase).toMatchObject({ purchase: { productId: sold.productId, quantity: 1 } });
    await sleep(1000);
    expect(roomB.of("purchase")).toEqual([]);
    roomA.close();
    roomB.close();
  });
});
