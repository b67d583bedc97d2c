import { z } from "zod";
import { ImageUrl } from "../media/image-url.js";

/** Catalog shapes on the wire. Money is integer fen; `price` (yuan) is only for seed pages. */
const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only");
/** Pictures, icons and banners: one of our uploaded images (`/images/…`) or an http(s) URL. */
const url = ImageUrl;
const fen = z.number().int().min(0).max(100_000_000);

export const Category = z.object({ id: z.string(), name: z.string(), parentId: z.string().nullable(), iconUrl: z.string(), sort: z.number() });
export const CategoryInput = z.object({
  name: z.string().trim().min(1).max(40),
  parentId: id.nullable().default(null),
  iconUrl: z.union([url, z.literal("")]).default(""),
  sort: z.number().int().min(0).max(1_000_000).default(0),
});

export const Sku = z.object({ id: z.string(), specs: z.record(z.string(), z.string()), priceFen: z.number(), stock: z.number() });
const specs = z.record(z.string().min(1).max(20), z.string().min(1).max(40));
const skuStock = z.number().int().min(0).max(10_000_000);
export const SkuInput = z.object({ specs: specs.default({}), priceFen: fen, stock: skuStock });
/** Only the fields sent change (no defaults here: zod's partial() would still apply them). */
export const SkuPatch = z.object({ specs: specs.optional(), priceFen: fen.optional(), stock: skuStock.optional() });

export const ProductSummary = z.object({
  id: z.string(),
  sn: z.string(),
  name: z.string(),
  brief: z.string(),
  /** The product page's long text. */
  description: z.string(),
  cover: z.string(),
  /** The same as cover, under the name seed pages read (`product.image`). */
  image: z.string(),
  categoryId: z.string().nullable(),
  listed: z.boolean(),
  /** Lowest SKU price, fen. */
  priceFen: z.number(),
  /** The same in yuan, for seed pages that multiply `price` by quantity. */
  price: z.number(),
  stock: z.number(),
  sales: z.number(),
});
export const ProductDetail = ProductSummary.extend({ pictures: z.array(z.string()), skus: z.array(Sku) });

const productName = z.string().trim().min(1).max(120);
const brief = z.string().trim().max(500);
const description = z.string().trim().max(10_000);
const pictures = z.array(url).max(20);
export const ProductInput = z.object({
  sn: z.string().trim().min(1).max(40).regex(/^[A-Za-z0-9_-]+$/),
  name: productName,
  brief: brief.default(""),
  description: description.default(""),
  pictures: pictures.default([]),
  categoryId: id.nullable().default(null),
  listed: z.boolean().default(true),
  skus: z.array(SkuInput).min(1).max(100),
});
/** Only the fields sent change; `listed` lists or delists. */
export const ProductPatch = z.object({
  name: productName.optional(),
  brief: brief.optional(),
  description: description.optional(),
  pictures: pictures.optional(),
  categoryId: id.nullable().optional(),
  listed: z.boolean().optional(),
});

export const ProductQuery = z.object({
  q: z.string().trim().max(60).optional(),
  categoryId: id.optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export const ProductPage = z.object({ items: z.array(ProductSummary), total: z.number(), page: z.number(), pageSize: z.number() });

export const Banner = z.object({ id: z.string(), imageUrl: z.string(), link: z.string(), sort: z.number() });
export const BannerInput = z.object({ imageUrl: url, link: z.string().max(500).default(""), sort: z.number().int().min(0).default(0) });

export type ProductSummary = z.infer<typeof ProductSummary>;
export type ProductDetail = z.infer<typeof ProductDetail>;
