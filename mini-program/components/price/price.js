/** A price in fen shown as ¥ + integer + decimals; `size` s | m | l, `muted` for a struck-through original. */
const { yuan } = require('../../lib/format');

Component({
  properties: {
    fen: { type: Number, value: 0 },
    size: { type: String, value: 'm' },
    muted: { type: Boolean, value: false },
  },
  data: { int: '0', dec: '00' },
  observers: {
    fen(value) {
      const parts = yuan(value).split('.');
      this.setData({ int: parts[0], dec: parts[1] });
    },
  },
});
