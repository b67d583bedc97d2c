/** A product tile (grid) or row; tapping it opens the product. */
const { assetUrl } = require('../../lib/format');
const ui = require('../../lib/ui');

Component({
  properties: {
    goods: { type: Object, value: {} },
    layout: { type: String, value: 'grid' },
  },
  data: { image: '', initial: '' },
  observers: {
    goods(g) {
      const item = g || {};
      this.setData({ image: assetUrl(item.image || item.cover || ''), initial: (item.name || '?').slice(0, 1) });
    },
  },
  methods: {
    onTap() {
      const id = this.data.goods && this.data.goods.id;
      if (id) ui.navigate(`/pages/goods/details?id=${encodeURIComponent(id)}`);
    },
  },
});
