/** Product search: a query → /v1/products?q=, more on reaching the bottom, an empty state. */
const catalog = require('../../services/catalog');
const { showError } = require('../../lib/errors');

const PAGE_SIZE = 20;
const HISTORY_KEY = 'pinlive.searchHistory';
const HISTORY_MAX = 10;

function readHistory() {
  try {
    const h = wx.getStorageSync(HISTORY_KEY);
    return Array.isArray(h) ? h : [];
  } catch (e) {
    return [];
  }
}

Component({
  data: {
    keyword: '',
    query: '',
    results: [],
    page: 0,
    total: 0,
    status: 'idle',
    searched: false,
    history: [],
  },
  methods: {
    onLoad(options) {
      this.setData({ history: readHistory() });
      const q = options && options.q ? decodeURIComponent(options.q) : '';
      if (q) {
        this.setData({ keyword: q });
        return this.search(q);
      }
      return undefined;
    },
    onReachBottom() {
      return this.loadMore();
    },
    onInput(e) {
      this.setData({ keyword: e.detail.value });
    },
    onConfirm() {
      return this.search(this.data.keyword);
    },
    onClear() {
      this.setData({ keyword: '', query: '', results: [], searched: false, status: 'idle' });
    },
    onHistory(e) {
      const q = e.currentTarget.dataset.q;
      this.setData({ keyword: q });
      return this.search(q);
    },
    onClearHistory() {
      wx.removeStorageSync(HISTORY_KEY);
      this.setData({ history: [] });
    },
    remember(q) {
      const history = [q].concat(this.data.history.filter((h) => h !== q)).slice(0, HISTORY_MAX);
      try {
        wx.setStorageSync(HISTORY_KEY, history);
      } catch (e) {
        // history is a convenience
      }
      this.setData({ history });
    },
    async search(raw) {
      const q = (raw || '').trim();
      if (!q) return;
      this.remember(q);
      this.setData({ query: q, results: [], page: 0, total: 0, status: 'idle', searched: true });
      await this.loadMore();
    },
    async loadMore() {
      const { query, page, results, status } = this.data;
      if (!query || status === 'loading' || status === 'done') return;
      this.setData({ status: 'loading' });
      try {
        const res = await catalog.products({ q: query, page: page + 1, pageSize: PAGE_SIZE });
        if (query !== this.data.query) return;
        const next = results.concat(res.items);
        this.setData({ results: next, page: res.page, total: res.total, status: next.length >= res.total ? 'done' : 'more' });
      } catch (err) {
        if (query === this.data.query) this.setData({ status: 'error' });
        showError(err, '搜索失败');
      }
    },
    onRetry() {
      return this.loadMore();
    },
  },
});
