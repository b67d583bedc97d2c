/** An empty or failed state: a title, a hint, and an optional action button (event `action`). */
Component({
  properties: {
    title: { type: String, value: '这里空空如也' },
    desc: { type: String, value: '' },
    actionText: { type: String, value: '' },
    icon: { type: String, value: 'box' },
  },
  methods: {
    onAction() {
      this.triggerEvent('action');
    },
  },
});
