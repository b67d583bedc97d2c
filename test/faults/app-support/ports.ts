import { createServer, type AddressInfo } from "node:net";

/** A loopback port nothing listens on (taken, then released): where requests go to be lost. */
export async function deadPort() {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
