import { randomUUID } from "node:crypto";

/** An order id that is also a valid WeChat Pay out_trade_no: 32 hex characters. */
export const newOrderId = () => randomUUID().replaceAll("-", "");
