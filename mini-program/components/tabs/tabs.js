/** A row of tabs [{ key, label, badge? }] with the active one underlined; emits `change` { key }. */
Component({
  properties: {
    tabs: { type: Array, value: [] },
    active: { type: String, value: '' },
  },
  methods: {
    onTap(e) {
      const key = e.currentTarget.dataset.key;
      if (key !== this.data.active) this.triggerEvent('change', { key });
    },
  },
});
