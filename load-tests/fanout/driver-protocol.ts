/** Parent → driver worker. Every command gets exactly one reply with the same id. */
export type DriverCommand =
  | {
      cmd: "connect";
      client: "ws" | "socketio";
      url: string;
      count: number;
      /** Global index of this worker's first viewer; viewers whose index is a multiple of sampleEvery record latency. */
      firstIndex: number;
      sampleEvery: number;
      timeoutMs: number;
    }
  | { cmd: "mark" }
  | { cmd: "report"; from: number; to: number }
  | { cmd: "close" };

export type Counters = { frames: number; events: number; closed: number; closeCodes: Record<string, number> };

export type ConnectReply = { open: number; failed: number; firstError: string | null };
export type MarkReply = Counters & { at: number; cpuMs: number };
/** latencies: ms, for comments whose send stamp lies in [from, to). */
export type ReportReply = Counters & { latencies: number[]; sampledViewers: number; samplesDropped: number };

export type DriverReply = { id: number } & (ConnectReply | MarkReply | ReportReply | { closed: number });
