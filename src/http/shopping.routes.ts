import { z } from "zod";
import type { Db } from "../db/client.js";
import { addressRepo } from "../shopping/address.repo.js";
import { cartRepo } from "../shopping/cart.repo.js";
import { AddToCart, Address, AddressInput, Cart, CartLinePatch, SelectAll } from "../shopping/shopping.dto.js";
import type { Api } from "./api.js";

const IdParams = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/) });
const Ok = z.object({ ok: z.literal(true) });
const ok = { ok: true as const };

/** Cart and addresses of the signed-in user, plus seed 001's cart and order-page calls. */
export function shoppingRoutes(api: Api, db: Db) {
  const me = (user: { userId: string } | null) => user!.userId;

  api.route({ method: "get", path: "/v1/cart", summary: "My cart, priced now", tag: "cart", auth: "user", response: Cart }, ({ user }) =>
    cartRepo.view(db, me(user)),
  );
  api.route(
    { method: "post", path: "/v1/cart/items", summary: "Add a SKU (merges with its line)", tag: "cart", auth: "user", body: AddToCart, response: Cart, status: 201 },
    async ({ user, body }) => {
      await cartRepo.add(db, me(user), body.skuId, body.quantity);
      return cartRepo.view(db, me(user));
    },
  );
  api.route(
    { method: "patch", path: "/v1/cart/items/:id", summary: "Change a line's quantity or selection", tag: "cart", auth: "user", params: IdParams, body: CartLinePatch, response: Cart },
    async ({ user, params, body }) => {
      await cartRepo.update(db, me(user), params.id, body);
      return cartRepo.view(db, me(user));
    },
  );
  api.route(
    { method: "del", path: "/v1/cart/items/:id", summary: "Remove a line", tag: "cart", auth: "user", params: IdParams, response: Cart },
    async ({ user, params }) => {
      await cartRepo.remove(db, me(user), params.id);
      return cartRepo.view(db, me(user));
    },
  );
  api.route(
    { method: "post", path: "/v1/cart/select", summary: "Select or unselect every line", tag: "cart", auth: "user", body: SelectAll, response: Cart },
    async ({ user, body }) => {
      await cartRepo.selectAll(db, me(user), body.selected);
      return cartRepo.view(db, me(user));
    },
  );

  api.route({ method: "get", path: "/v1/addresses", summary: "My addresses, default first", tag: "addresses", auth: "user", response: z.array(Address) }, ({ user }) =>
    addressRepo.list(db, me(user)),
  );
  api.route(
    { method: "get", path: "/v1/addresses/default", summary: "My default address, or null", tag: "addresses", auth: "user", response: Address.nullable() },
    ({ user }) => addressRepo.getDefault(db, me(user)),
  );
  api.route(
    { method: "post", path: "/v1/addresses", summary: "Add an address (the first becomes default)", tag: "addresses", auth: "user", body: AddressInput, response: Address, status: 201 },
    ({ user, body }) => addressRepo.create(db, me(user), body),
  );
  api.route(
    { method: "put", path: "/v1/addresses/:id", summary: "Replace an address", tag: "addresses", auth: "user", params: IdParams, body: AddressInput, response: Address },
    ({ user, params, body }) => addressRepo.update(db, me(user), params.id, body),
  );
  api.route(
    { method: "del", path: "/v1/addresses/:id", summary: "Delete an address", tag: "addresses", auth: "user", params: IdParams, response: Ok },
    async ({ user, params }) => {
      await addressRepo.remove(db, me(user), params.id);
      return ok;
    },
  );

  // ----- seed 001: cart page (GET /api/cart reads res.data.items; PUT /api/cart/:id {quantity}) and the order page's default address -----
  api.route({ method: "get", path: "/api/cart", summary: "Seed: my cart", tag: "seed", auth: "user", response: Cart }, ({ user }) => cartRepo.view(db, me(user)));
  api.route(
    { method: "put", path: "/api/cart/:id", summary: "Seed: change a line's quantity", tag: "seed", auth: "user", params: IdParams, body: CartLinePatch, response: Cart },
    async ({ user, params, body }) => {
      await cartRepo.update(db, me(user), params.id, body);
      return cartRepo.view(db, me(user));
    },
  );
  api.route(
    { method: "get", path: "/api/user/address/default", summary: "Seed: my default address, or null", tag: "seed", auth: "user", response: Address.nullable() },
    ({ user }) => addressRepo.getDefault(db, me(user)),
  );
}
