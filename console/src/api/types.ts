/**
 * The API's JSON shapes as the console reads them (the server's zod DTOs in the *.dto.ts files and
 * src/http/*.routes.ts are the source). Money is integer fen; times are ISO strings unless named *At ms.
 */
export type StaffRole = "host" | "admin";

export interface StaffUser {
  id: string;
  nickname: string;
  username: string | null;
  role: StaffRole | "user";
  hostOf: string[];
}

export interface StreamInfo {
  id: string;
  title: string;
  status: "idle" | "live" | "ended";
  hostId: string;
  hostName: string;
  createdAt: string;
  flvUrl: string | null;
  /** "" for none. */
  coverUrl: string;
  scheduledAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  viewerCount: number;
  likeCount: number;
}

export interface PublishKey {
  id?: string;
  streamKey: string;
  rtmpUrl: string | null;
}

export interface Category {
  id: string;
  name: string;
  parentId: string | null;
  iconUrl: string;
  sort: number;
}

export interface Sku {
  id: string;
  specs: Record<string, string>;
  priceFen: number;
  stock: number;
}

export interface ProductSummary {
  id: string;
  sn: string;
  name: string;
  brief: string;
  cover: string;
  categoryId: string | null;
  listed: boolean;
  priceFen: number;
  stock: number;
  sales: number;
}

export interface ProductDetail extends ProductSummary {
  pictures: string[];
  skus: Sku[];
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export const ORDER_STATUSES = ["pending_payment", "paid", "shipped", "completed", "cancelled", "refunding", "refunded"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderItem {
  productId: string;
  skuId: string;
  name: string;
  specs: Record<string, string>;
  cover: string;
  unitPriceFen: number;
  quantity: number;
  subtotalFen: number;
}

export interface Order {
  id: string;
  status: OrderStatus;
  items: OrderItem[];
  itemsFen: number;
  discountFen: number;
  couponId: string | null;
  totalFen: number;
  address: { name: string; phone: string; province: string; city: string; district: string; detail: string };
  streamId: string | null;
  groupId: string | null;
  payDeadline: string;
  createdAt: string;
  paidAt: string | null;
  courier: string | null;
  trackingNo: string | null;
  shippedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
}

export interface Refund {
  outRefundNo: string;
  orderId: string;
  amountFen: number;
  status: string;
  reason: string;
}

export interface ScheduledPush {
  id: string;
  streamId: string;
  productId: string;
  title: string;
  priceFen: number | null;
  imageUrl: string | null;
  at: number;
  countdownSec: number;
  status: "scheduled" | "fired" | "cancelled";
  createdAt: string;
  firedAt: string | null;
}

export interface FlashSaleInfo {
  id: string;
  productId: string;
  skuId: string;
  priceFen: number;
  quantity: number;
  left: number;
  perUserLimit: number;
  endsAt: number;
  status?: "active" | "ended";
  /** Units paid or held by unpaid orders (the stream's list has it). */
  sold?: number;
  createdAt?: string;
}

export interface CouponInfo {
  id: string;
  title: string;
  discountFen: number;
  minSpendFen: number;
  quantity: number;
  left: number;
  expiresAt: number;
  streamId: string;
  status: "active" | "ended";
}

/** A stream's coupon limits (its own, or the server's defaults) and its drops so far. */
export interface CouponLimits {
  streamId: string;
  /** The most one coupon may take off. */
  maxDiscountFen: number;
  /** How many coupons the stream may drop in all (ended ones count). */
  maxDrops: number;
  dropped: number;
  /** false: the server's defaults (COUPON_MAX_DISCOUNT_FEN, COUPON_MAX_DROPS_PER_STREAM). */
  custom: boolean;
}

/** A ban in force (src/live/bans.service.ts `Ban`). */
export interface Ban {
  /** null: every room (an admin's ban). */
  streamId: string | null;
  userId: string;
  nickname: string;
  reason: string;
  /** The staff member's user id. */
  bannedBy: string;
  createdAt: string;
  /** null: until lifted. */
  expiresAt: string | null;
}

export interface BanInput {
  /** Absent: until lifted. At least 60. */
  durationSec?: number;
  reason: string;
}

export interface GroupActivity {
  id: string;
  productId: string;
  skuId: string;
  streamId: string | null;
  groupSize: number;
  groupPriceFen: number;
  windowSec: number;
  perUserLimit: number;
  simulateOnExpiry: boolean;
  status: "active" | "ended";
  createdAt: string;
  /** leader_pays: the leader pays to open; join_first: members join, and all pay once it is full. */
  flow: "leader_pays" | "join_first";
}

export interface StaffAccount {
  id: string;
  username: string;
  nickname: string;
  role: StaffRole;
  disabled: boolean;
  createdAt?: string;
  hostOf?: string[];
}

/** One 10-second bucket of a show. */
export interface StatsPoint {
  at: number;
  viewers: number;
  likes: number;
  comments: number;
  orders: number;
  gmvFen: number;
}
