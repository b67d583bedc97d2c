import { call } from "./http";
import { ROUTES } from "./paths";
import type { StaffAccount, StaffRole } from "./types";

export interface NewStaff {
  username: string;
  nickname: string;
  role: StaffRole;
  password: string;
}
export interface StaffPatch {
  nickname?: string;
  password?: string;
  role?: StaffRole;
  disabled?: boolean;
}

export const listStaff = () => call<StaffAccount[]>(ROUTES.staff);
export const createStaff = (input: NewStaff) => call<StaffAccount>(ROUTES.createStaff, {}, { body: input });
/** Disabling or changing the role signs the person out everywhere. */
export const updateStaff = (id: string, patch: StaffPatch) => call<StaffAccount>(ROUTES.updateStaff, { id }, { body: patch });
