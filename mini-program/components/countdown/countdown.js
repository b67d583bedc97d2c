/** Time left until `target` (epoch ms or ISO), ticking each second; emits `end` once at zero. */
const { countdown } = require('../../lib/format');

function toMs(target) {
  if (target === null || target === undefined || target === '') return NaN;
  return typeof target === 'number' ? target : new Date(target).getTime();
}

Component({
  properties: {
    target: { type: null, value: null },
    prefix: { type: String, value: '' },
    endText: { type: String, value: '已结束' },
  },
  data: { text: '', ended: false },
  observers: {
    target() {
      this.start();
    },
  },
  lifetimes: {
    detached() {
      this.stop();
    },
  },
  methods: {
    start() {
      this.stop();
      this.endFired = false;
      this.tick();
      if (!this.data.ended) this.timer = setInterval(() => this.tick(), 1000);
    },
    stop() {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    },
    tick() {
      const end = toMs(this.data.target);
      if (Number.isNaN(end)) {
        this.setData({ text: '', ended: false });
        this.stop();
        return;
      }
      const left = end - Date.now();
      if (left <= 0) {
        this.setData({ text: this.data.endText, ended: true });
        this.stop();
        if (!this.endFired) {
          this.endFired = true;
          this.triggerEvent('end');
        }
        return;
      }
      this.setData({ text: `${this.data.prefix}${countdown(left)}`, ended: false });
    },
  },
});
