import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Logger } from "../log.js";
import type { Images } from "../media/images.service.js";
import type { Db } from "../db/client.js";
import { bannerPicture, coverPicture, iconPicture, productPicture, type Motif, type Palette } from "./demo-images.js";
import { generatePassword, hashPassword, verifyPassword } from "../staff/passwords.js";
import { banners, categories, devCredentials, groupActivities, liveStreams, products, skus, streamProducts, users } from "../db/schema.js";

const PALETTES = {
  tea: { from: [226, 242, 222], to: [150, 196, 146], ink: [62, 120, 70], accent: [196, 222, 150], light: [250, 252, 244] },
  puer: { from: [240, 226, 206], to: [176, 128, 92], ink: [104, 62, 40], accent: [190, 150, 110], light: [252, 244, 230] },
  celadon: { from: [228, 242, 238], to: [148, 190, 180], ink: [96, 156, 146], accent: [200, 228, 220], light: [250, 253, 252] },
  silk: { from: [252, 232, 228], to: [222, 150, 150], ink: [190, 70, 80], accent: [244, 196, 160], light: [255, 248, 244] },
  clay: { from: [244, 228, 218], to: [190, 120, 96], ink: [140, 70, 50], accent: [214, 160, 120], light: [255, 246, 238] },
  honey: { from: [255, 244, 214], to: [240, 186, 80], ink: [222, 142, 30], accent: [250, 210, 110], light: [255, 252, 240] },
  osmanthus: { from: [255, 248, 226], to: [236, 200, 130], ink: [200, 120, 60], accent: [244, 170, 40], light: [255, 253, 246] },
  indigo: { from: [226, 234, 248], to: [120, 140, 196], ink: [52, 72, 140], accent: [160, 190, 230], light: [246, 249, 255] },
} satisfies Record<string, Palette>;

const DEMO_CATEGORIES: { id: string; name: string; sort: number; icon: [Motif, Palette] }[] = [
  { id: "demo-tea-cat", name: "茶叶", sort: 1, icon: ["tea", PALETTES.tea] },
  { id: "demo-home-cat", name: "家居", sort: 2, icon: ["mug", PALETTES.celadon] },
  { id: "demo-food-cat", name: "食品", sort: 3, icon: ["honey", PALETTES.honey] },
  { id: "demo-wear-cat", name: "服饰", sort: 4, icon: ["scarf", PALETTES.silk] },
];

/** The demo's staff accounts: console sign-in names. */
const DEMO_STAFF = [
  { id: "demo-host", username: "host", role: "host" },
  { id: "demo-admin", username: "admin", role: "admin" },
] as const;

/** A demo staff account's sign-in; `password` is null once someone changed it (only its hash is known then). */
export interface DemoLogin {
  username: string;
  password: string | null;
}

/**
 * The demo's console passwords: generated at first run and kept in `dev_credentials` (development
 * only: DEMO_DATA is refused in production) next to the accounts' scrypt hashes, so every demo
 * start can show them. Never in the repository, never in a URL.
 */
async function demoPasswords(db: Db): Promise<{ host: DemoLogin; admin: DemoLogin }> {
  const generated = { host: generatePassword(), admin: generatePassword() };
  await db.insert(devCredentials).values({ name: "demo-staff", value: generated }).onConflictDoNothing();
  const [row] = await db.select().from(devCredentials).where(eq(devCredentials.name, "demo-staff"));
  const stored = row!.value as Record<string, string>;
  const out: Record<string, DemoLogin> = {};
  for (const a of DEMO_STAFF) {
    const password = stored[a.username]!;
    // Accounts from an older demo database get their sign-in now.
    await db
      .update(users)
      .set({ username: a.username, role: a.role, passwordHash: await hashPassword(password) })
      .where(and(eq(users.id, a.id), isNull(users.passwordHash)));
    const [u] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, a.id));
    out[a.username] = { username: a.username, password: (await verifyPassword(password, u?.passwordHash ?? null)) ? password : null };
  }
  return { host: out.host!, admin: out.admin! };
}

type DemoProduct = { id: string; sn: string; name: string; brief: string; description: string; categoryId: string; motif: Motif; palette: Palette };
const DEMO_PRODUCTS: DemoProduct[] = [
  {
    id: "demo-tea",
    sn: "DEMO-0001",
    name: "西湖龙井 明前特级 250g",
    brief: "明前头采 · 豆花香",
    description: "杭州西湖产区明前头采，一芽一叶，扁平光滑，色泽嫩绿。冲泡后豆花香清幽，滋味鲜爽回甘。建议 80℃ 水温，玻璃杯下投法。",
    categoryId: "demo-tea-cat",
    motif: "tea",
    palette: PALETTES.tea,
  },
  {
    id: "demo-mug",
    sn: "DEMO-0002",
    name: "龙泉青瓷马克杯",
    brief: "梅子青釉 · 350ml",
    description: "浙江龙泉窑手工拉坯，梅子青釉色温润如玉。杯身握感饱满，适合日常咖啡、茶饮。可入洗碗机，勿空烧。",
    categoryId: "demo-home-cat",
    motif: "mug",
    palette: PALETTES.celadon,
  },
  {
    id: "demo-fan",
    sn: "DEMO-0003",
    name: "苏绣真丝折扇",
    brief: "桑蚕丝扇面 · 竹骨",
    description: "苏州绣娘手工刺绣，桑蚕丝扇面配楠竹扇骨，开合顺滑。夏日纳凉、送礼皆宜，附赠锦盒。",
    categoryId: "demo-wear-cat",
    motif: "fan",
    palette: PALETTES.silk,
  },
  {
    id: "demo-puer",
    sn: "DEMO-0004",
    name: "云南古树普洱茶饼 357g",
    brief: "勐海古树 · 石磨压制",
    description: "西双版纳勐海古树春茶原料，传统石磨压制。汤色金黄透亮，香气馥郁，耐泡度高，适合长期存放转化。",
    categoryId: "demo-tea-cat",
    motif: "puer",
    palette: PALETTES.puer,
  },
  {
    id: "demo-teapot",
    sn: "DEMO-0005",
    name: "宜兴紫砂壶 西施",
    brief: "原矿紫泥 · 200ml",
    description: "宜兴原矿紫泥全手工制作，西施壶型圆润饱满，出水利落。适合冲泡乌龙、普洱、红茶，越养越润。",
    categoryId: "demo-home-cat",
    motif: "teapot",
    palette: PALETTES.clay,
  },
  {
    id: "demo-honey",
    sn: "DEMO-0006",
    name: "秦岭百花蜂蜜",
    brief: "天然成熟蜜 · 无添加",
    description: "秦岭深山蜂场，百花盛开时节采收的天然成熟蜜，浓度高、易结晶。温水冲饮，早晚一杯。",
    categoryId: "demo-food-cat",
    motif: "honey",
    palette: PALETTES.honey,
  },
  {
    id: "demo-cake",
    sn: "DEMO-0007",
    name: "桂花糕礼盒 12 枚",
    brief: "金桂入馅 · 软糯清甜",
    description: "选用当季金桂与糯米粉，手工蒸制，软糯清甜不腻口。独立包装，礼盒装 12 枚，冷藏保存 7 天。",
    categoryId: "demo-food-cat",
    motif: "cake",
    palette: PALETTES.osmanthus,
  },
  {
    id: "demo-scarf",
    sn: "DEMO-0008",
    name: "桑蚕丝印花围巾",
    brief: "100% 桑蚕丝 · 180×65cm",
    description: "16 姆米重磅桑蚕丝，水墨印花，手工卷边。轻盈透气，四季皆可佩戴，附赠礼盒与手提袋。",
    categoryId: "demo-wear-cat",
    motif: "scarf",
    palette: PALETTES.indigo,
  },
];
const DEMO_SKUS: { id: string; productId: string; specs: Record<string, string>; priceFen: number; stock: number }[] = [
  { id: "demo-tea-250", productId: "demo-tea", specs: { 规格: "250g" }, priceFen: 12800, stock: 500 },
  { id: "demo-tea-500", productId: "demo-tea", specs: { 规格: "500g" }, priceFen: 23800, stock: 200 },
  { id: "demo-mug-1", productId: "demo-mug", specs: { 颜色: "梅子青", 容量: "350ml" }, priceFen: 5900, stock: 300 },
  { id: "demo-mug-2", productId: "demo-mug", specs: { 颜色: "月白", 容量: "350ml" }, priceFen: 5900, stock: 200 },
  { id: "demo-fan-1", productId: "demo-fan", specs: { 图案: "山水" }, priceFen: 3900, stock: 1000 },
  { id: "demo-fan-2", productId: "demo-fan", specs: { 图案: "花鸟" }, priceFen: 4500, stock: 600 },
  { id: "demo-puer-2019", productId: "demo-puer", specs: { 年份: "2019" }, priceFen: 16800, stock: 150 },
  { id: "demo-puer-2015", productId: "demo-puer", specs: { 年份: "2015" }, priceFen: 26800, stock: 60 },
  { id: "demo-teapot-1", productId: "demo-teapot", specs: { 泥料: "紫泥", 容量: "200ml" }, priceFen: 29900, stock: 40 },
  { id: "demo-honey-500", productId: "demo-honey", specs: { 规格: "500g" }, priceFen: 4900, stock: 400 },
  { id: "demo-honey-1000", productId: "demo-honey", specs: { 规格: "1kg" }, priceFen: 8900, stock: 200 },
  { id: "demo-cake-osmanthus", productId: "demo-cake", specs: { 口味: "桂花" }, priceFen: 3600, stock: 300 },
  { id: "demo-cake-redbean", productId: "demo-cake", specs: { 口味: "红豆" }, priceFen: 3600, stock: 300 },
  { id: "demo-scarf-indigo", productId: "demo-scarf", specs: { 颜色: "黛青" }, priceFen: 19900, stock: 120 },
  { id: "demo-scarf-rouge", productId: "demo-scarf", specs: { 颜色: "胭脂" }, priceFen: 19900, stock: 120 },
];

const HOUR = 3600_000;
const CHINA = 8 * HOUR;
/** Midnight (China, UTC+8) of the day `now` falls on. */
const chinaMidnight = (now: number) => Math.floor((now + CHINA) / (24 * HOUR)) * 24 * HOUR - CHINA;
/** The next time of day `hour`:`minute` in China at least `after` from now. */
function nextChinaTime(now: number, hour: number, minute: number, after: number) {
  let t = chinaMidnight(now) + hour * HOUR + minute * 60_000;
  while (t < now + after) t += 24 * HOUR;
  return new Date(t);
}

/**
 * The demo: users (two hosts, a viewer, an admin), four categories, eight products with SKUs,
 * descriptions and generated pictures, two banners, the live room `demo` (cover, schedule, a
 * group-buy activity for the tea), two upcoming streams and one ended one. Safe to run at every
 * start: rows are created once; pictures are generated again (the same bytes, so the same URLs)
 * and filled in where a row has none; the upcoming streams' schedules move forward once passed.
 * The host (`host`) and the admin (`admin`) sign in to the console with the returned passwords.
 * No session token is issued or logged (a token in a log or a URL outlives the demo).
 */
export async function seedDemoData(db: Db, log: Logger, images: Images) {
  const store = async (png: Buffer) => (await images.save(png, "demo-admin")).url;
  const now = Date.now();
  await db
    .insert(users)
    .values([
      { id: "demo-host", nickname: "茶小二", role: "host" },
      { id: "demo-host-2", nickname: "壶里乾坤", role: "host" },
      { id: "demo-viewer", nickname: "游客小王" },
      { id: "demo-admin", nickname: "管理员", role: "admin" },
    ])
    .onConflictDoNothing();
  const logins = await demoPasswords(db);

  for (const c of DEMO_CATEGORIES) {
    const iconUrl = await store(iconPicture(...c.icon));
    await db
      .insert(categories)
      .values({ id: c.id, name: c.name, sort: c.sort, iconUrl })
      .onConflictDoUpdate({ target: categories.id, set: { iconUrl }, setWhere: eq(categories.iconUrl, "") });
  }
  for (const p of DEMO_PRODUCTS) {
    const pictures = [await store(productPicture(p.motif, p.palette)), await store(productPicture(p.motif, p.palette, 600, 1))];
    const { motif: _m, palette: _p, ...row } = p;
    await db
      .insert(products)
      .values({ ...row, pictures })
      .onConflictDoUpdate({ target: products.id, set: { pictures, description: p.description, brief: p.brief }, setWhere: sql`${products.pictures} = '[]'::jsonb` });
  }
  await db.insert(skus).values(DEMO_SKUS).onConflictDoNothing();

  const bannerRows = [
    { id: "demo-banner-live", imageUrl: await store(bannerPicture(["tea", "puer"], PALETTES.tea)), link: "/pages/live/room?streamId=demo", sort: 1 },
    { id: "demo-banner-gifts", imageUrl: await store(bannerPicture(["cake", "honey"], PALETTES.osmanthus)), link: "/pages/goods/details?id=demo-cake", sort: 2 },
  ];
  await db.insert(banners).values(bannerRows).onConflictDoNothing();

  const streams = [
    { id: "demo", hostUserId: "demo-host", title: "春茶上新 · 西湖龙井直播间", cover: coverPicture("tea", PALETTES.tea), at: new Date(Math.ceil((now + 10 * 60_000) / (30 * 60_000)) * 30 * 60_000), products: DEMO_PRODUCTS.map((p) => p.id) },
    { id: "demo-teapot-night", hostUserId: "demo-host-2", title: "紫砂壶鉴赏专场", cover: coverPicture("teapot", PALETTES.clay), at: new Date(Math.ceil((now + 3 * HOUR) / HOUR) * HOUR), products: ["demo-teapot", "demo-puer", "demo-tea"] },
    { id: "demo-honey-trip", hostUserId: "demo-host-2", title: "秦岭蜂蜜溯源", cover: coverPicture("honey", PALETTES.honey), at: nextChinaTime(now, 20, 0, 20 * HOUR), products: ["demo-honey", "demo-cake"] },
  ];
  for (const s of streams) {
    const coverUrl = await store(s.cover);
    await db.insert(liveStreams).values({ id: s.id, hostUserId: s.hostUserId, title: s.title, coverUrl, scheduledAt: s.at }).onConflictDoNothing();
    await db.update(liveStreams).set({ coverUrl }).where(and(eq(liveStreams.id, s.id), eq(liveStreams.coverUrl, "")));
    // Coming up stays coming up: a schedule that passed while the stream sat idle moves to the next slot.
    await db
      .update(liveStreams)
      .set({ scheduledAt: s.at })
      .where(and(eq(liveStreams.id, s.id), eq(liveStreams.status, "idle"), or(isNull(liveStreams.scheduledAt), lt(liveStreams.scheduledAt, new Date(now)))));
    await db
      .insert(streamProducts)
      .values(s.products.map((productId, position) => ({ streamId: s.id, productId, position })))
      .onConflictDoNothing();
  }
  // A show that already happened (yesterday evening), for the "ended" list.
  const yesterday = chinaMidnight(now) - 24 * HOUR + 19 * HOUR;
  await db
    .insert(liveStreams)
    .values({
      id: "demo-cake-replay",
      hostUserId: "demo-host",
      title: "桂花糕手作课",
      status: "ended",
      coverUrl: await store(coverPicture("cake", PALETTES.osmanthus)),
      scheduledAt: new Date(yesterday),
      startedAt: new Date(yesterday + 5 * 60_000),
      endedAt: new Date(yesterday + 95 * 60_000),
    })
    .onConflictDoNothing();
  await db.insert(streamProducts).values({ streamId: "demo-cake-replay", productId: "demo-cake", position: 0 }).onConflictDoNothing();
  // A group buy in the room: three people, 69 yuan instead of 128, within a day.
  await db
    .insert(groupActivities)
    .values({ id: "demo-tea-group", productId: "demo-tea", skuId: "demo-tea-250", streamId: "demo", groupSize: 3, groupPriceFen: 6900, windowSec: 24 * 3600, flow: "join_first", createdBy: "demo-admin" })
    .onConflictDoNothing();
  // No session tokens are issued or logged: the console signs in with the passwords shown, viewers with WeChat (the sandbox).
  log.info(
    {
      streamId: "demo",
      products: DEMO_PRODUCTS.map((p) => p.id),
      streams: [...streams.map((s) => s.id), "demo-cake-replay"],
      groupActivity: "demo-tea-group",
    },
    "demo data ready",
  );
  return logins;
}
