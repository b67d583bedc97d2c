import { z } from "zod";

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only");
export const MAX_LINE_QUANTITY = 99;
const quantity = z.number().int().min(1).max(MAX_LINE_QUANTITY);

export const CartLine = z.object({
  id: z.string(),
  skuId: z.string(),
  productId: z.string(),
  name: z.string(),
  specs: z.record(z.string(), z.string()),
  cover: z.string(),
  priceFen: z.number(),
  /** Yuan, for seed 001's cart page (`item.price * item.quantity`). */
  price: z.number(),
  quantity: z.number(),
  selected: z.boolean(),
  stock: z.number(),
  /** Listed and in stock for this quantity. */
  available: z.boolean(),
});
export const Cart = z.object({
  items: z.array(CartLine),
  /** Selected, available lines, computed by the server. */
  totalFen: z.number(),
  total: z.number(),
  selectedCount: z.number(),
});
export const AddToCart = z.object({ skuId: id, quantity: quantity.default(1) });
export const CartLinePatch = z.object({ quantity: quantity.optional(), selected: z.boolean().optional() });
export const SelectAll = z.object({ selected: z.boolean() });

export const Address = z.object({
  id: z.string(),
  name: z.string(),
  phone: z.string(),
  province: z.string(),
  city: z.string(),
  district: z.string(),
  detail: z.string(),
  isDefault: z.boolean(),
});
export const AddressInput = z.object({
  name: z.string().trim().min(1).max(40),
  phone: z.string().regex(/^1[3-9]\d{9}$/, "a mainland mobile number"),
  province: z.string().trim().min(1).max(40),
  city: z.string().trim().min(1).max(40),
  district: z.string().trim().min(1).max(40),
  detail: z.string().trim().min(1).max(200),
  isDefault: z.boolean().default(false),
});

export type CartLine = z.infer<typeof CartLine>;
export type AddressInput = z.infer<typeof AddressInput>;
