import { inject, type InjectionKey, type Ref } from "vue";
import type { ProductSummary, StreamInfo } from "../../api/types";
import type { LiveRoom } from "../../realtime/room";

/** What every control-room panel shares: the live room, the stream, its products and a ticking clock. */
export interface ControlRoomContext {
  streamId: string;
  room: LiveRoom;
  stream: Ref<StreamInfo | null>;
  products: Ref<ProductSummary[]>;
  /** Date.now(), updated four times a second (countdowns). */
  now: Ref<number>;
  reloadStream: () => Promise<void>;
  productName: (productId: string) => string;
}

export const CONTROL_ROOM: InjectionKey<ControlRoomContext> = Symbol("control-room");

export function useControlRoom(): ControlRoomContext {
  const ctx = inject(CONTROL_ROOM);
  if (!ctx) throw new Error("control-room panels must sit inside the control room");
  return ctx;
}
