import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, ilike, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { banners, categories, products, skus } from "../db/catalog.schema.js";
import { streamProducts } from "../db/live.schema.js";
import { AppError } from "../protocol/errors.js";
import type { ProductDetail, ProductSummary } from "./catalog.dto.js";

/** Postgres unique violation → CONFLICT with a message the admin can act on. */
async function unique<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    if (code === "23505") throw new AppError("CONFLICT", `${what} already exists.`);
    if (code === "23503") throw new AppError("CONFLICT", `${what} refers to something that does not exist or is still in use.`);
    throw err;
  }
}

const yuan = (fen: number) => Math.round(fen) / 100;

// Per product: lowest SKU price and total stock (correlated on the outer "products" row; written
// out because drizzle renders a lone column without its table inside a select).
const skuAgg = sql<string>`(select coalesce(min(s.price_fen), 0) from skus s where s.product_id = "products"."id")`;
const stockAgg = sql<string>`(select coalesce(sum(s.stock), 0) from skus s where s.product_id = "products"."id")`;

const summaryColumns = {
  id: products.id,
  sn: products.sn,
  name: products.name,
  brief: products.brief,
  description: products.description,
  pictures: products.pictures,
  categoryId: products.categoryId,
  listed: products.listed,
  sales: products.sales,
  priceFen: skuAgg,
  stock: stockAgg,
};

type SummaryRow = { [K in keyof typeof summaryColumns]: unknown };

function toSummary(r: SummaryRow): ProductSummary {
  const priceFen = Number(r.priceFen);
  const pictures = r.pictures as string[];
  return {
    id: r.id as string,
    sn: r.sn as string,
    name: r.name as string,
    brief: r.brief as string,
    description: r.description as string,
    cover: pictures[0] ?? "",
    image: pictures[0] ?? "",
    categoryId: r.categoryId as string | null,
    listed: r.listed as boolean,
    priceFen,
    price: yuan(priceFen),
    stock: Number(r.stock),
    sales: r.sales as number,
  };
}

export const catalogRepo = {
  listCategories: (db: Db) => db.select().from(categories).orderBy(asc(categories.sort), asc(categories.name)),

  createCategory: (db: Db, input: { name: string; parentId: string | null; iconUrl: string; sort: number }) =>
    unique("The category", async () => (await db.insert(categories).values({ id: randomUUID(), ...input }).returning())[0]!),

  async updateCategory(db: Db, id: string, input: { name: string; parentId: string | null; iconUrl: string; sort: number }) {
    const [row] = await db.update(categories).set(input).where(eq(categories.id, id)).returning();
    if (!row) throw new AppError("NOT_FOUND", "No such category.");
    return row;
  },

  async deleteCategory(db: Db, id: string) {
    const [used] = await db.select({ id: products.id }).from(products).where(eq(products.categoryId, id)).limit(1);
    const [child] = await db.select({ id: categories.id }).from(categories).where(eq(categories.parentId, id)).limit(1);
    if (used || child) throw new AppError("CONFLICT", "The category still has products or subcategories.");
    const deleted = await db.delete(categories).where(eq(categories.id, id)).returning({ id: categories.id });
    if (deleted.length === 0) throw new AppError("NOT_FOUND", "No such category.");
  },

  async listProducts(db: Db, q: { q?: string; categoryId?: string; page: number; pageSize: number; includeUnlisted?: boolean }) {
    const where: SQL[] = [];
    if (!q.includeUnlisted) where.push(eq(products.listed, true));
    if (q.categoryId) where.push(eq(products.categoryId, q.categoryId));
    if (q.q) {
      const pattern = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(or(ilike(products.name, pattern), ilike(products.sn, pattern), ilike(products.brief, pattern))!);
    }
    const cond = where.length ? and(...where) : undefined;
    const rows = await db
      .select(summaryColumns)
      .from(products)
      .where(cond)
      .orderBy(desc(products.createdAt), asc(products.id))
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize);
    const [count] = await db.select({ n: sql<string>`count(*)` }).from(products).where(cond);
    return { items: rows.map(toSummary), total: Number(count?.n ?? 0), page: q.page, pageSize: q.pageSize };
  },

  async hotProducts(db: Db, limit: number) {
    const rows = await db
      .select(summaryColumns)
      .from(products)
      .where(eq(products.listed, true))
      .orderBy(desc(products.sales), desc(products.createdAt))
      .limit(limit);
    return rows.map(toSummary);
  },

  async getProduct(db: Db, id: string, includeUnlisted = false): Promise<ProductDetail> {
    const [row] = await db.select(summaryColumns).from(products).where(eq(products.id, id));
    if (!row || (!row.listed && !includeUnlisted)) throw new AppError("NOT_FOUND", "No such product.");
    const variants = await db
      .select({ id: skus.id, specs: skus.specs, priceFen: skus.priceFen, stock: skus.stock })
      .from(skus)
      .where(eq(skus.productId, id))
      .orderBy(asc(skus.priceFen), asc(skus.id));
    return { ...toSummary(row), pictures: row.pictures, skus: variants };
  },

  async createProduct(
    db: Db,
    input: { sn: string; name: string; brief: string; description?: string; pictures: string[]; categoryId: string | null; listed: boolean; skus: { specs: Record<string, string>; priceFen: number; stock: number }[] },
  ) {
    const id = randomUUID();
    await unique("A product with this sn", () =>
      db.transaction(async (tx) => {
        const { skus: variants, ...product } = input;
        await tx.insert(products).values({ id, ...product });
        await tx.insert(skus).values(variants.map((v) => ({ id: randomUUID(), productId: id, ...v })));
      }),
    );
    return catalogRepo.getProduct(db, id, true);
  },

  async updateProduct(db: Db, id: string, patch: Partial<{ name: string; brief: string; description: string; pictures: string[]; categoryId: string | null; listed: boolean }>) {
    if (Object.keys(patch).length > 0) {
      const rows = await unique("The category", () => db.update(products).set(patch).where(eq(products.id, id)).returning({ id: products.id }));
      if (rows.length === 0) throw new AppError("NOT_FOUND", "No such product.");
    }
    return catalogRepo.getProduct(db, id, true);
  },

  async deleteProduct(db: Db, id: string) {
    const deleted = await db.transaction(async (tx) => {
      await tx.delete(streamProducts).where(eq(streamProducts.productId, id));
      return tx.delete(products).where(eq(products.id, id)).returning({ id: products.id });
    });
    if (deleted.length === 0) throw new AppError("NOT_FOUND", "No such product.");
  },

  async addSku(db: Db, productId: string, input: { specs: Record<string, string>; priceFen: number; stock: number }) {
    await unique("The product", () => db.insert(skus).values({ id: randomUUID(), productId, ...input }));
    return catalogRepo.getProduct(db, productId, true);
  },

  async updateSku(db: Db, id: string, patch: Partial<{ specs: Record<string, string>; priceFen: number; stock: number }>) {
    const [row] =
      Object.keys(patch).length > 0
        ? await db.update(skus).set(patch).where(eq(skus.id, id)).returning({ productId: skus.productId })
        : await db.select({ productId: skus.productId }).from(skus).where(eq(skus.id, id));
    if (!row) throw new AppError("NOT_FOUND", "No such SKU.");
    return catalogRepo.getProduct(db, row.productId, true);
  },

  async deleteSku(db: Db, id: string) {
    const [row] = await db.delete(skus).where(eq(skus.id, id)).returning({ productId: skus.productId });
    if (!row) throw new AppError("NOT_FOUND", "No such SKU.");
    return catalogRepo.getProduct(db, row.productId, true);
  },

  listBanners: (db: Db) =>
    db.select({ id: banners.id, imageUrl: banners.imageUrl, link: banners.link, sort: banners.sort }).from(banners).where(eq(banners.active, true)).orderBy(asc(banners.sort)),

  createBanner: async (db: Db, input: { imageUrl: string; link: string; sort: number }) =>
    (await db.insert(banners).values({ id: randomUUID(), ...input }).returning({ id: banners.id, imageUrl: banners.imageUrl, link: banners.link, sort: banners.sort }))[0]!,

  async deleteBanner(db: Db, id: string) {
    const deleted = await db.delete(banners).where(eq(banners.id, id)).returning({ id: banners.id });
    if (deleted.length === 0) throw new AppError("NOT_FOUND", "No such banner.");
  },
};
