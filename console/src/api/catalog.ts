import { call, upload } from "./http";
import { ROUTES } from "./paths";
import type { Category, Page, ProductDetail, ProductSummary, Sku } from "./types";

export interface ProductQuery {
  q?: string;
  categoryId?: string;
  page?: number;
  pageSize?: number;
}
export interface ProductInput {
  sn: string;
  name: string;
  brief?: string;
  pictures?: string[];
  categoryId?: string | null;
  listed?: boolean;
  skus: { specs: Record<string, string>; priceFen: number; stock: number }[];
}
export type ProductPatch = Partial<Pick<ProductDetail, "name" | "brief" | "pictures" | "categoryId" | "listed">>;
export type SkuInput = Omit<Sku, "id">;

export interface StoredImage {
  id: string;
  /** Root-relative (`/images/…`) unless the server has a public base URL. */
  url: string;
  contentType: string;
  bytes: number;
  width: number;
  height: number;
}
/** Uploads a PNG, JPEG or WebP picture (admins); its url goes into pictures, covers and banners. */
export const uploadImage = (file: File) => upload<StoredImage>(ROUTES.uploadImage.path, file);

export const categories = () => call<Category[]>(ROUTES.categories);
/** Listed products (what hosts can attach to their stream). */
export const listedProducts = (query: ProductQuery) => call<Page<ProductSummary>>(ROUTES.listedProducts, {}, { query: { ...query } });
/** A product with its SKUs (admins also see delisted ones). */
export const product = (id: string) => call<ProductDetail>(ROUTES.product, { id });
export const adminProducts = (query: ProductQuery) => call<Page<ProductSummary>>(ROUTES.adminProducts, {}, { query: { ...query } });
export const createProduct = (input: ProductInput) => call<ProductDetail>(ROUTES.createProduct, {}, { body: input });
export const updateProduct = (id: string, patch: ProductPatch) => call<ProductDetail>(ROUTES.updateProduct, { id }, { body: patch });
export const addSku = (productId: string, sku: SkuInput) => call<ProductDetail>(ROUTES.addSku, { id: productId }, { body: sku });
export const updateSku = (skuId: string, patch: Partial<SkuInput>) => call<ProductDetail>(ROUTES.updateSku, { id: skuId }, { body: patch });
export const deleteSku = (skuId: string) => call<ProductDetail>(ROUTES.deleteSku, { id: skuId });
