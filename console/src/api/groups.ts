import type { GroupProgress } from "@protocol/messages";
import { call } from "./http";
import { ROUTES } from "./paths";
import type { GroupActivity } from "./types";

export interface ActivityInput {
  productId: string;
  skuId?: string;
  streamId?: string;
  groupSize: number;
  groupPriceFen: number;
  windowSec: number;
  perUserLimit: number;
  simulateOnExpiry: boolean;
  flow: "leader_pays" | "join_first";
}
export type ActivityPatch = Partial<Pick<ActivityInput, "groupSize" | "groupPriceFen" | "windowSec" | "perUserLimit" | "simulateOnExpiry" | "flow">>;

export const groupActivities = (filter: { productId?: string; streamId?: string; status?: "active" | "ended" }) =>
  call<GroupActivity[]>(ROUTES.groupActivities, {}, { query: { ...filter } });
export const groupActivity = (id: string) => call<{ activity: GroupActivity; openGroups: GroupProgress[] }>(ROUTES.groupActivity, { id });
export const createGroupActivity = (input: ActivityInput) => call<GroupActivity>(ROUTES.createGroupActivity, {}, { body: input });
export const updateGroupActivity = (id: string, patch: ActivityPatch) => call<GroupActivity>(ROUTES.updateGroupActivity, { id }, { body: patch });
export const endGroupActivity = (id: string) => call<GroupActivity>(ROUTES.endGroupActivity, { id });
/** Completes an open group with simulated members; the reason is audited. */
export const completeGroup = (id: string, reason: string) => call<GroupProgress>(ROUTES.completeGroup, { id }, { body: { reason } });
