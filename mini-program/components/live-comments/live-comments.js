/** The room's comments over the stream, newest at the bottom. `comments`: [{ id, anchor, name, content, role, kind }]. */
Component({
  properties: {
    comments: { type: Array, value: [] },
  },
  data: { anchor: '' },
  observers: {
    comments(list) {
      const last = list && list.length ? list[list.length - 1] : null;
      this.setData({ anchor: last ? last.anchor : '' });
    },
  },
});
