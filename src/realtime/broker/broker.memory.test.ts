import { MemoryBroker } from "./broker.memory.js";
import { brokerContract } from "./broker.contract.js";

brokerContract("in memory", () => {
  const broker = new MemoryBroker({ maxLen: 200 });
  return Promise.resolve({
    broker,
    peer: broker,
    maxLen: 200,
    lose: (roomId: string) => Promise.resolve(broker.forget(roomId)),
    interrupt: () => broker.interrupt(),
    close: () => Promise.resolve(),
  });
});
