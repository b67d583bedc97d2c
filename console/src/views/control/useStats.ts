import { computed, onBeforeUnmount, ref, type Ref } from "vue";
import { streamStats } from "../../api/stats";
import type { StatsPoint } from "../../api/types";
import type { LiveRoom } from "../../realtime/room";

const POLL_MS = 10_000;
const LIVE_KEEP_MS = 10 * 60_000;

interface Sample {
  at: number;
  viewers: number;
  likes: number;
  /** Comments seen on the socket in the second before `at`. */
  comments: number;
}
type Series = [number, number][];

/**
 * The show's statistics for the charts: the server's buckets from the start of the show (so a
 * console opened mid-show draws all of it), refreshed every 10 s, with live values from the room's
 * socket drawn after the last bucket. A point's counts cover `at` until the next point (the last
 * one: until now), so rates divide by that span.
 */
export function useShowStats(streamId: string, room: LiveRoom, error: Ref<unknown>) {
  const history = ref<StatsPoint[]>([]);
  const live = ref<Sample[]>([]);
  const polledAt = ref(Date.now());
  let commentsThisSecond = 0;
  const off = room.on("comment", () => commentsThisSecond++);

  async function poll() {
    try {
      const last = history.value.at(-1);
      const fresh = await streamStats(streamId, last?.at);
      const byAt = new Map(history.value.map((p) => [p.at, p]));
      for (const p of fresh) byAt.set(p.at, p);
      history.value = [...byAt.values()].sort((a, b) => a.at - b.at);
      polledAt.value = Date.now();
      error.value = null;
    } catch (err) {
      error.value = err;
    }
  }

  const sample = setInterval(() => {
    const now = Date.now();
    const next = [...live.value, { at: now, viewers: room.view.viewerCount, likes: room.view.likeCount, comments: commentsThisSecond }];
    commentsThisSecond = 0;
    live.value = next.filter((s) => now - s.at <= LIVE_KEEP_MS);
  }, 1_000);
  const poller = setInterval(() => void poll(), POLL_MS);
  const ready = poll();

  function stop() {
    clearInterval(sample);
    clearInterval(poller);
    off();
  }
  onBeforeUnmount(stop);

  /** Seconds each point's counts cover. */
  const spans = computed(() =>
    history.value.map((p, i, all) => Math.max(1, ((all[i + 1]?.at ?? Math.max(polledAt.value, p.at + 1000)) - p.at) / 1000)),
  );
  /** Live samples after the last point: the socket's values until the server's next point. */
  const tail = computed(() => {
    const last = history.value.at(-1);
    return live.value.filter((s) => !last || s.at > last.at);
  });

  /** Likes per minute at a live sample, from the like count's rise over the 10 s before it; null without an earlier sample. */
  function likesPerMinute(s: Sample): number | null {
    const from = live.value.find((x) => x.at >= s.at - 10_500 && x.at < s.at);
    if (!from) return null;
    return Math.max(0, Math.round(((s.likes - from.likes) * 60_000) / (s.at - from.at)));
  }
  function commentsPerSecond(s: Sample) {
    const window = live.value.filter((x) => x.at > s.at - 10_000 && x.at <= s.at);
    return +(window.reduce((n, x) => n + x.comments, 0) / Math.max(window.length, 1)).toFixed(1);
  }

  const viewers = computed<Series>(() => [...history.value.map((p): [number, number] => [p.at, p.viewers]), ...tail.value.map((s): [number, number] => [s.at, s.viewers])]);
  /**
   * Points whose span is over: the newest one is still filling (its rate would dip), so rate charts
   * draw the socket's values from its start instead.
   */
  const complete = computed(() => {
    const all = history.value;
    const last = all.at(-1);
    if (!last || all.length < 2) return all.map((p, i) => ({ p, span: spans.value[i]! }));
    const bucket = (last.at - all.at(-2)!.at) / 1000;
    const done = polledAt.value - last.at >= bucket * 1000;
    return (done ? all : all.slice(0, -1)).map((p, i) => ({ p, span: spans.value[i]! }));
  });
  const rateTail = computed(() => {
    const last = complete.value.at(-1)?.p;
    return live.value.filter((s) => !last || s.at > last.at);
  });
  const likes = computed<Series>(() => [
    ...complete.value.map(({ p, span }): [number, number] => [p.at, Math.round((p.likes / span) * 60)]),
    ...rateTail.value.flatMap((s): [number, number][] => {
      const v = likesPerMinute(s);
      return v === null ? [] : [[s.at, v]];
    }),
  ]);
  const comments = computed<Series>(() => [
    ...complete.value.map(({ p, span }): [number, number] => [p.at, +(p.comments / span).toFixed(1)]),
    ...rateTail.value.map((s): [number, number] => [s.at, commentsPerSecond(s)]),
  ]);
  const orders = computed<Series>(() => history.value.map((p) => [p.at, p.orders]));
  const gmv = computed<Series>(() => {
    let sum = 0;
    return history.value.map((p) => [p.at, (sum += p.gmvFen)]);
  });
  const totals = computed(() => history.value.reduce((t, p) => ({ orders: t.orders + p.orders, gmvFen: t.gmvFen + p.gmvFen }), { orders: 0, gmvFen: 0 }));

  return { history, ready, poll, stop, viewers, likes, comments, orders, gmv, totals };
}
