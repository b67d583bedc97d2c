import { randomUUID } from "node:crypto";
import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { addresses } from "../db/shopping.schema.js";
import { AppError } from "../protocol/errors.js";
import type { AddressInput } from "./shopping.dto.js";

const columns = {
  id: addresses.id,
  name: addresses.name,
  phone: addresses.phone,
  province: addresses.province,
  city: addresses.city,
  district: addresses.district,
  detail: addresses.detail,
  isDefault: addresses.isDefault,
};

/** What an order keeps of an address: the fields a courier needs, copied when it is placed. */
export const addressSnapshot = (a: { name: string; phone: string; province: string; city: string; district: string; detail: string }) => ({
  name: a.name,
  phone: a.phone,
  province: a.province,
  city: a.city,
  district: a.district,
  detail: a.detail,
});

/** A user's addresses. Making one default unsets the others in the same transaction. */
export const addressRepo = {
  list: (db: Db, userId: string) =>
    db.select(columns).from(addresses).where(eq(addresses.userId, userId)).orderBy(desc(addresses.isDefault), desc(addresses.createdAt)),

  async get(db: Db, userId: string, id: string) {
    const [row] = await db.select(columns).from(addresses).where(and(eq(addresses.id, id), eq(addresses.userId, userId)));
    if (!row) throw new AppError("NOT_FOUND", "No such address.");
    return row;
  },

  async getDefault(db: Db, userId: string) {
    const [row] = await db.select(columns).from(addresses).where(and(eq(addresses.userId, userId), eq(addresses.isDefault, true)));
    return row ?? null;
  },

  async create(db: Db, userId: string, input: AddressInput) {
    const id = randomUUID();
    await db.transaction(async (tx) => {
      const [first] = await tx.select({ id: addresses.id }).from(addresses).where(eq(addresses.userId, userId)).limit(1);
      const isDefault = input.isDefault || !first;
      if (isDefault) await tx.update(addresses).set({ isDefault: false }).where(eq(addresses.userId, userId));
      await tx.insert(addresses).values({ id, userId, ...input, isDefault });
    });
    return addressRepo.get(db, userId, id);
  },

  async update(db: Db, userId: string, id: string, input: AddressInput) {
    await db.transaction(async (tx) => {
      if (input.isDefault) await tx.update(addresses).set({ isDefault: false }).where(eq(addresses.userId, userId));
      const rows = await tx
        .update(addresses)
        .set(input)
        .where(and(eq(addresses.id, id), eq(addresses.userId, userId)))
        .returning({ id: addresses.id });
      if (rows.length === 0) throw new AppError("NOT_FOUND", "No such address.");
    });
    return addressRepo.get(db, userId, id);
  },

  async remove(db: Db, userId: string, id: string) {
    const rows = await db.delete(addresses).where(and(eq(addresses.id, id), eq(addresses.userId, userId))).returning({ id: addresses.id });
    if (rows.length === 0) throw new AppError("NOT_FOUND", "No such address.");
  },
};
