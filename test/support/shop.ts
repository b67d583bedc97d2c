import { afterAll, beforeAll } from "vitest";
import { adminToken } from "./admin.js";
import { devSession, devStream } from "./clients.js";
import { httpClient, testAddress, type HttpClient } from "./http.js";
import { startTestServer, type EnvOverrides, type TestServer } from "./servers.js";
import { useTestServices } from "./services.js";

/**
 * A real server for the calling test file (its own database and Redis prefix), an admin token,
 * and the shoppers and hosts its tests need. Read the fields inside tests and hooks.
 */
export function useShop(env: EnvOverrides = {}) {
  const services = useTestServices();
  const shop = {
    services,
    server: null as unknown as TestServer,
    call: null as unknown as HttpClient,
    admin: "",
    /** A fresh Idempotency-Key header. */
    key: () => ({ "idempotency-key": `shop-${Date.now()}-${keyNo++}` }),
    /** A signed-in user with a shipping address. */
    buyer: async (nickname: string) => {
      const user = await devSession(shop.server.url, nickname);
      const addr = await shop.call<{ id: string }>("POST", "/v1/addresses", { token: user.token, body: testAddress });
      return { ...user, addressId: addr.body.id };
    },
    /** A host with a stream of their own that sells `productIds`. */
    host: async (nickname: string, productIds: string[] = []) => {
      const host = await devSession(shop.server.url, nickname);
      const streamId = await devStream(shop.server.url, host.token);
      if (productIds.length > 0) await shop.call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds } });
      return { ...host, streamId };
    },
    stockOf: async (productId: string) => (await shop.call<{ stock: number }>("GET", `/v1/products/${productId}`)).body.stock,
  };
  let keyNo = 0;
  beforeAll(async () => {
    shop.server = await startTestServer(services.databaseUrl, services.redisPrefix, env);
    shop.call = httpClient(shop.server.url);
    shop.admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await shop.server?.stop();
  });
  return shop;
}
