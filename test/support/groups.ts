import postgres from "postgres";
import type { HttpClient } from "./http.js";
import { waitUntil } from "./clients.js";
import { payInSandbox, wechatUser } from "./wechat.js";

export type Progress = { id: string; status: string; flow: "leader_pays" | "join_first"; size: number; taken: number; paid: number; left: number; endsAt: number };
export type Placed = { group: Progress; order: { id: string; status: string; totalFen: number; groupId: string | null; payDeadline: string }; complete?: boolean };
export type Participant = { userId: string; leader: boolean; paid: boolean; payBy: string | null };
export type MyGroup = { group: Progress; productName: string; productImage: string; orderId: string; orderStatus: string; payBy: string | null; leader: boolean };

/** Group-buy steps as a buyer's mini program takes them, against a running server. */
export function groupBuyer(call: HttpClient) {
  return {
    user: (name = "Buyer") => wechatUser(call, name),
    open: (token: string, activityId: string) => call<Placed>("POST", `/v1/group-activities/${activityId}/groups`, { token, body: {} }),
    join: (token: string, groupId: string) => call<Placed & { code?: string }>("POST", `/v1/groups/${groupId}/join`, { token, body: {} }),
    /** wx.requestPayment's parameters for the place (or the refusal). */
    payParams: (token: string, groupId: string) => call<Record<string, string> & { code?: string; details?: { left?: number } }>("POST", `/v1/groups/${groupId}/pay`, { token }),
    mine: (token: string) => call<MyGroup[]>("GET", "/v1/me/groups", { token }),
    /** Gets wx.requestPayment's parameters for the place and pays in the sandbox. */
    async pay(token: string, groupId: string, notifyDelayMs = 0) {
      const params = await call<Record<string, string>>("POST", `/v1/groups/${groupId}/pay`, { token });
      if (params.status !== 200) throw new Error(`pay: ${params.status} ${JSON.stringify(params.body)}`);
      return payInSandbox(call, params.body, notifyDelayMs);
    },
    detail: (groupId: string, token?: string) => call<{ group: Progress; participants: Participant[]; canJoin: boolean }>("GET", `/v1/groups/${groupId}`, { token }),
  };
}

/** What PostgreSQL says about a group: the truth the assertions read. */
export function groupTruth(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });
  return {
    sql,
    async group(id: string) {
      const [g] = await sql<{ status: string; simulated: boolean }[]>`select status, simulated from groups where id = ${id}`;
      return g!;
    },
    members: (groupId: string) =>
      sql<{ user_id: string; order_id: string; status: string; total_fen: number; refunded_fen: number }[]>`
        select m.user_id, o.id as order_id, o.status, o.total_fen, o.refunded_fen from group_members m join orders o on o.id = m.order_id where m.group_id = ${groupId}`,
    /** Every order of the group ever placed (lapsed holds too), with its refunds and the sandbox's view. */
    orders: (groupId: string) =>
      sql<{ id: string; status: string; total_fen: number; refunded_fen: number; refunds: number; sandbox_state: string | null; sandbox_refunds: number }[]>`
        select o.id, o.status, o.total_fen, o.refunded_fen,
          (select count(*)::int from refunds r where r.order_id = o.id) as refunds,
          (select t.state from sandbox_transactions t where t.out_trade_no = o.id) as sandbox_state,
          (select count(*)::int from sandbox_refunds s where s.out_trade_no = o.id) as sandbox_refunds
        from orders o where o.group_id = ${groupId}`,
    /** Each order's pay deadline (ms), by order id. */
    async deadlines(groupId: string) {
      const rows = await sql<{ id: string; pay_deadline: Date }[]>`select id, pay_deadline from orders where group_id = ${groupId}`;
      return new Map(rows.map((r) => [r.id, r.pay_deadline.getTime()]));
    },
    async expireNow(groupId: string) {
      await sql`update groups set expires_at = now() where id = ${groupId}`;
    },
    /** The order's payment hold ends now; its timer closes it when run (`jobs.runNow("order.timeout", orderId)`). */
    async lapseNow(orderId: string) {
      await sql`update orders set pay_deadline = now() where id = ${orderId}`;
    },
    until: waitUntil,
    close: () => sql.end(),
  };
}
