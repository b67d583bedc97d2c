import { z } from "zod";
import { Nickname, Password, SessionUser, STAFF_ROLES, StaffAccount, Username, type Staff } from "../staff/staff.service.js";
import type { Api } from "./api.js";

const IdParams = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/) });
const StaffLogin = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) });
const StaffSession = z.object({ token: z.string(), expiresAt: z.string(), user: SessionUser });

/** Staff sign-in (hosts and admins, for the console) and the admin pages' staff accounts. */
export function staffRoutes(api: Api, staff: Staff) {
  api.route(
    {
      method: "post",
      path: "/v1/auth/staff-login",
      summary: "Staff sign-in with a username and password (limited per address and per account; LOGIN_FAILED, ACCOUNT_LOCKED, RATE_LIMITED)",
      tag: "auth",
      auth: "none",
      body: StaffLogin,
      response: StaffSession,
    },
    ({ body, address }) => staff.login(body, address),
  );
  api.route({ method: "get", path: "/v1/admin/staff", summary: "Staff accounts (hosts and admins)", tag: "admin", auth: "admin", response: z.array(StaffAccount) }, () => staff.list());
  api.route(
    {
      method: "post",
      path: "/v1/admin/staff",
      summary: "Create a host or admin account",
      tag: "admin",
      auth: "admin",
      body: z.object({ username: Username, nickname: Nickname, role: z.enum(STAFF_ROLES), password: Password }),
      response: StaffAccount,
      status: 201,
    },
    ({ body }) => staff.create(body),
  );
  api.route(
    {
      method: "patch",
      path: "/v1/admin/staff/:id",
      summary: "Change a staff account; disabling, a role change or a new password ends its sessions",
      tag: "admin",
      auth: "admin",
      params: IdParams,
      body: z.object({ nickname: Nickname.optional(), password: Password.optional(), role: z.enum(STAFF_ROLES).optional(), disabled: z.boolean().optional() }),
      response: StaffAccount,
    },
    ({ user, params, body }) => staff.update(user!, params.id, body),
  );
}
