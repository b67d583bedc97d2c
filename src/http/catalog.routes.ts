import { z } from "zod";
import {
  Banner,
  BannerInput,
  Category,
  CategoryInput,
  ProductDetail,
  ProductInput,
  ProductPage,
  ProductPatch,
  ProductQuery,
  ProductSummary,
  SkuInput,
  SkuPatch,
} from "../catalog/catalog.dto.js";
import { catalogRepo } from "../catalog/catalog.repo.js";
import type { Db } from "../db/client.js";
import type { Api } from "./api.js";

const IdParams = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/) });
const Ok = z.object({ ok: z.literal(true) });
const HOT_LIMIT = 20;

/** Public catalog, admin catalog management, and seed 001's home-page calls. */
export function catalogRoutes(api: Api, db: Db) {
  // ----- public -----
  api.route({ method: "get", path: "/v1/categories", summary: "All categories", tag: "catalog", auth: "public", response: z.array(Category) }, () =>
    catalogRepo.listCategories(db),
  );
  api.route(
    { method: "get", path: "/v1/products", summary: "Listed products: search, filter, page", tag: "catalog", auth: "public", query: ProductQuery, response: ProductPage },
    ({ query }) => catalogRepo.listProducts(db, query),
  );
  api.route(
    { method: "get", path: "/v1/products/hot", summary: "Best-selling listed products", tag: "catalog", auth: "public", response: z.array(ProductSummary) },
    () => catalogRepo.hotProducts(db, HOT_LIMIT),
  );
  api.route(
    { method: "get", path: "/v1/products/:id", summary: "A listed product with its SKUs", tag: "catalog", auth: "public", params: IdParams, response: ProductDetail },
    ({ params, user }) => catalogRepo.getProduct(db, params.id, user?.admin === true),
  );
  api.route({ method: "get", path: "/v1/banners", summary: "Home-page banners", tag: "catalog", auth: "public", response: z.array(Banner) }, () =>
    catalogRepo.listBanners(db),
  );

  // ----- seed 001's home page: the body is the array it reads as `res.data` -----
  api.route({ method: "get", path: "/api/banners", summary: "Seed: home banners", tag: "seed", auth: "public", response: z.array(Banner) }, () =>
    catalogRepo.listBanners(db),
  );
  api.route({ method: "get", path: "/api/categories", summary: "Seed: categories", tag: "seed", auth: "public", response: z.array(Category) }, () =>
    catalogRepo.listCategories(db),
  );
  api.route(
    { method: "get", path: "/api/products/hot", summary: "Seed: hot products", tag: "seed", auth: "public", response: z.array(ProductSummary) },
    () => catalogRepo.hotProducts(db, HOT_LIMIT),
  );

  // ----- admin -----
  api.route(
    { method: "post", path: "/v1/admin/categories", summary: "Create a category", tag: "admin", auth: "admin", body: CategoryInput, response: Category, status: 201 },
    ({ body }) => catalogRepo.createCategory(db, body),
  );
  api.route(
    { method: "put", path: "/v1/admin/categories/:id", summary: "Edit a category", tag: "admin", auth: "admin", params: IdParams, body: CategoryInput, response: Category },
    ({ params, body }) => catalogRepo.updateCategory(db, params.id, body),
  );
  api.route(
    { method: "del", path: "/v1/admin/categories/:id", summary: "Delete an unused category", tag: "admin", auth: "admin", params: IdParams, response: Ok },
    async ({ params }) => {
      await catalogRepo.deleteCategory(db, params.id);
      return { ok: true as const };
    },
  );
  api.route(
    { method: "get", path: "/v1/admin/products", summary: "All products, listed or not", tag: "admin", auth: "admin", query: ProductQuery, response: ProductPage },
    ({ query }) => catalogRepo.listProducts(db, { ...query, includeUnlisted: true }),
  );
  api.route(
    { method: "post", path: "/v1/admin/products", summary: "Create a product with its SKUs", tag: "admin", auth: "admin", body: ProductInput, response: ProductDetail, status: 201 },
    ({ body }) => catalogRepo.createProduct(db, body),
  );
  api.route(
    { method: "patch", path: "/v1/admin/products/:id", summary: "Edit a product; `listed` lists or delists it", tag: "admin", auth: "admin", params: IdParams, body: ProductPatch, response: ProductDetail },
    ({ params, body }) => catalogRepo.updateProduct(db, params.id, body),
  );
  api.route(
    { method: "del", path: "/v1/admin/products/:id", summary: "Delete a product", tag: "admin", auth: "admin", params: IdParams, response: Ok },
    async ({ params }) => {
      await catalogRepo.deleteProduct(db, params.id);
      return { ok: true as const };
    },
  );
  api.route(
    { method: "post", path: "/v1/admin/products/:id/skus", summary: "Add a SKU", tag: "admin", auth: "admin", params: IdParams, body: SkuInput, response: ProductDetail, status: 201 },
    ({ params, body }) => catalogRepo.addSku(db, params.id, body),
  );
  api.route(
    { method: "patch", path: "/v1/admin/skus/:id", summary: "Edit a SKU's specs, price or stock", tag: "admin", auth: "admin", params: IdParams, body: SkuPatch, response: ProductDetail },
    ({ params, body }) => catalogRepo.updateSku(db, params.id, body),
  );
  api.route(
    { method: "del", path: "/v1/admin/skus/:id", summary: "Delete a SKU", tag: "admin", auth: "admin", params: IdParams, response: ProductDetail },
    ({ params }) => catalogRepo.deleteSku(db, params.id),
  );
  api.route(
    { method: "post", path: "/v1/admin/banners", summary: "Add a banner", tag: "admin", auth: "admin", body: BannerInput, response: Banner, status: 201 },
    ({ body }) => catalogRepo.createBanner(db, body),
  );
  api.route(
    { method: "del", path: "/v1/admin/banners/:id", summary: "Remove a banner", tag: "admin", auth: "admin", params: IdParams, response: Ok },
    async ({ params }) => {
      await catalogRepo.deleteBanner(db, params.id);
      return { ok: true as const };
    },
  );
}
