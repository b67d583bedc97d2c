import { call } from "./http";
import { ROUTES } from "./paths";
import type { StaffUser } from "./types";

export interface StaffLogin {
  token: string;
  expiresAt: string;
  user: StaffUser;
}

/** Staff sign-in: LOGIN_FAILED (401), RATE_LIMITED (429) and ACCOUNT_LOCKED (423) carry their meaning. */
export const staffLogin = (username: string, password: string) => call<StaffLogin>(ROUTES.staffLogin, {}, { body: { username, password } });
export const logout = () => call<void>(ROUTES.logout);
export const me = () => call<StaffUser>(ROUTES.me);
