import { eq } from "drizzle-orm";
import type { Logger } from "../log.js";
import type { Db } from "./client.js";
import { liveStreams, products, streamProducts, users } from "./schema.js";
import { createSession } from "./users.repo.js";

const DEMO_PRODUCTS = [
  { id: "demo-tea", sn: "DEMO-0001", name: "West Lake Longjing tea, 250 g", priceFen: 12800, stock: 500 },
  { id: "demo-mug", sn: "DEMO-0002", name: "Celadon mug", priceFen: 5900, stock: 300 },
  { id: "demo-fan", sn: "DEMO-0003", name: "Silk folding fan", priceFen: 3900, stock: 1000 },
];

/**
 * A host, a viewer, a live room `demo` and three products, created once (safe to run every start).
 * Fresh session tokens are issued at each run and logged; none is stored in the repository.
 */
export async function seedDemoData(db: Db, log: Logger) {
  await db
    .insert(users)
    .values([
      { id: "demo-host", nickname: "Demo Host" },
      { id: "demo-viewer", nickname: "Demo Viewer" },
    ])
    .onConflictDoNothing();
  await db.insert(products).values(DEMO_PRODUCTS).onConflictDoNothing();
  await db.insert(liveStreams).values({ id: "demo", hostUserId: "demo-host", title: "Demo live room" }).onConflictDoNothing();
  await db
    .insert(streamProducts)
    .values(DEMO_PRODUCTS.map((p, i) => ({ streamId: "demo", productId: p.id, position: i })))
    .onConflictDoNothing();
  const [stream] = await db.select().from(liveStreams).where(eq(liveStreams.id, "demo"));
  const host = await createSession(db, "demo-host", 7 * 24 * 3600);
  const viewer = await createSession(db, "demo-viewer", 7 * 24 * 3600);
  log.info(
    {
      streamId: stream?.id,
      hostToken: host.token,
      viewerToken: viewer.token,
      viewerUrl: `/live-stream/demo/ws?token=${viewer.token}`,
      products: DEMO_PRODUCTS.map((p) => p.id),
    },
    "demo data ready",
  );
}
