/**
 * Every API route the console calls, as the server's route templates. API modules call only
 * these (through `call`), and a browser test checks each one against the server's /openapi.json.
 */
export const ROUTES = {
  // auth
  staffLogin: { method: "POST", path: "/v1/auth/staff-login" },
  logout: { method: "POST", path: "/v1/auth/logout" },
  me: { method: "GET", path: "/v1/me" },
  // streams
  myStreams: { method: "GET", path: "/v1/streams/mine" },
  createStream: { method: "POST", path: "/v1/streams" },
  stream: { method: "GET", path: "/v1/streams/:id" },
  updateStream: { method: "PATCH", path: "/v1/streams/:id" },
  rotateKey: { method: "POST", path: "/v1/streams/:id/key" },
  setStreamProducts: { method: "PUT", path: "/v1/streams/:id/products" },
  // live room extras
  sensitiveWords: { method: "GET", path: "/v1/streams/:id/sensitive-words" },
  setSensitiveWords: { method: "PUT", path: "/v1/streams/:id/sensitive-words" },
  roomBans: { method: "GET", path: "/v1/streams/:id/bans" },
  banInRoom: { method: "PUT", path: "/v1/streams/:id/bans/:userId" },
  liftRoomBan: { method: "DELETE", path: "/v1/streams/:id/bans/:userId" },
  kick: { method: "POST", path: "/v1/streams/:id/kicks" },
  siteBans: { method: "GET", path: "/v1/admin/bans" },
  banEverywhere: { method: "PUT", path: "/v1/admin/bans/:userId" },
  liftSiteBan: { method: "DELETE", path: "/v1/admin/bans/:userId" },
  // stats
  streamStats: { method: "GET", path: "/v1/streams/:id/stats" },
  // catalog
  categories: { method: "GET", path: "/v1/categories" },
  listedProducts: { method: "GET", path: "/v1/products" },
  product: { method: "GET", path: "/v1/products/:id" },
  adminProducts: { method: "GET", path: "/v1/admin/products" },
  createProduct: { method: "POST", path: "/v1/admin/products" },
  updateProduct: { method: "PATCH", path: "/v1/admin/products/:id" },
  addSku: { method: "POST", path: "/v1/admin/products/:id/skus" },
  updateSku: { method: "PATCH", path: "/v1/admin/skus/:id" },
  deleteSku: { method: "DELETE", path: "/v1/admin/skus/:id" },
  uploadImage: { method: "POST", path: "/v1/admin/images" },
  // orders
  adminOrders: { method: "GET", path: "/v1/admin/orders" },
  shipOrder: { method: "POST", path: "/v1/admin/orders/:id/ship" },
  refundOrder: { method: "POST", path: "/v1/admin/orders/:id/refund" },
  // flash sales
  startFlash: { method: "POST", path: "/v1/streams/:id/flash-sales" },
  streamFlashSales: { method: "GET", path: "/v1/streams/:id/flash-sales" },
  endFlash: { method: "POST", path: "/v1/flash-sales/:id/end" },
  // coupons
  dropCoupon: { method: "POST", path: "/v1/streams/:id/coupons" },
  streamCoupons: { method: "GET", path: "/v1/streams/:id/coupons" },
  endCoupon: { method: "POST", path: "/v1/coupons/:id/end" },
  couponLimits: { method: "GET", path: "/v1/streams/:id/coupon-limits" },
  setCouponLimits: { method: "PUT", path: "/v1/admin/streams/:id/coupon-limits" },
  // scheduled pushes
  schedulePush: { method: "POST", path: "/v1/streams/:id/pushes" },
  streamPushes: { method: "GET", path: "/v1/streams/:id/pushes" },
  movePush: { method: "PATCH", path: "/v1/pushes/:id" },
  cancelPush: { method: "DELETE", path: "/v1/pushes/:id" },
  // group buys
  groupActivities: { method: "GET", path: "/v1/group-activities" },
  groupActivity: { method: "GET", path: "/v1/group-activities/:id" },
  createGroupActivity: { method: "POST", path: "/v1/admin/group-activities" },
  updateGroupActivity: { method: "PATCH", path: "/v1/admin/group-activities/:id" },
  endGroupActivity: { method: "POST", path: "/v1/admin/group-activities/:id/end" },
  completeGroup: { method: "POST", path: "/v1/admin/groups/:id/complete" },
  // staff
  staff: { method: "GET", path: "/v1/admin/staff" },
  createStaff: { method: "POST", path: "/v1/admin/staff" },
  updateStaff: { method: "PATCH", path: "/v1/admin/staff/:id" },
} as const satisfies Record<string, { method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"; path: string }>;

export type RouteName = keyof typeof ROUTES;
export type Route = (typeof ROUTES)[RouteName];
