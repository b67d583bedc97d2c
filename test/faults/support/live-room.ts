// A live room under broadcast: a host sending comments steadily and viewers following it, each
// connection going to the node its picker names (and reconnecting there after a close).
import { devSession, devStream } from "../../support/clients.js";
import { RoomHost } from "./room-host.js";
import { RoomViewer } from "./room-viewer.js";

export type Pick = () => string;

/** Creates a stream on `baseUrl`, joins `viewers` viewers (viewer i through `viewerNode(i)`), then starts the host. */
export async function liveRoom(baseUrl: string, o: { viewers: number; viewerNode: (i: number) => Pick; hostNode: Pick; everyMs: number }) {
  const host = await devSession(baseUrl, "Host");
  const streamId = await devStream(baseUrl, host.token);
  const path = `/live-stream/${streamId}/ws`;
  const viewers = await Promise.all(Array.from({ length: o.viewers }, (_, i) => RoomViewer.join(path, o.viewerNode(i))));
  const sender = await RoomHost.start(path, o.hostNode, host.token, o.everyMs);
  return {
    streamId,
    viewers,
    sender,
    /** The room's epoch when the viewers joined. */
    epoch: viewers[0]!.epoch!,
    close() {
      for (const v of viewers) v.close();
      sender.stop();
    },
  };
}
