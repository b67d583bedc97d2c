/** Categories on the left, the chosen category's products on the right (paged on scroll). */
const catalog = require('../../services/catalog');
const { showError } = require('../../lib/errors');
const ui = require('../../lib/ui');

const PAGE_SIZE = 20;

Component({
  data: {
    categories: [],
    activeId: '',
    products: [],
    page: 0,
    total: 0,
    status: 'idle',
    loadingCategories: true,
    failed: false,
  },
  methods: {
    onLoad() {
      return this.loadCategories();
    },
    onShow() {
      // The home page's category grid leaves its choice in globalData before switching here.
      const app = getApp();
      const wanted = app && app.globalData ? app.globalData.categoryId : null;
      if (!wanted) return undefined;
      app.globalData.categoryId = null;
      if (this.data.categories.some((c) => c.id === wanted)) return this.select(wanted);
      this.pendingId = wanted;
      return undefined;
    },
    async loadCategories() {
      this.setData({ loadingCategories: true, failed: false });
      try {
        const all = await catalog.categories();
        const categories = all.filter((c) => !c.parentId);
        const first = this.pendingId && categories.some((c) => c.id === this.pendingId) ? this.pendingId : categories.length ? categories[0].id : '';
        this.pendingId = null;
        this.setData({ categories, loadingCategories: false });
        if (first) await this.select(first);
      } catch (err) {
        this.setData({ loadingCategories: false, failed: true });
        showError(err, '分类加载失败');
      }
    },
    async select(id) {
      this.setData({ activeId: id, products: [], page: 0, total: 0, status: 'idle' });
      await this.loadMore();
    },
    async loadMore() {
      const { activeId, page, products, status } = this.data;
      if (!activeId || status === 'loading' || status === 'done') return;
      const token = activeId;
      this.setData({ status: 'loading' });
      try {
        const res = await catalog.products({ categoryId: activeId, page: page + 1, pageSize: PAGE_SIZE });
        if (token !== this.data.activeId) return; // switched category meanwhile
        const next = products.concat(res.items);
        this.setData({ products: next, page: res.page, total: res.total, status: next.length >= res.total ? 'done' : 'more' });
      } catch (err) {
        if (token === this.data.activeId) this.setData({ status: 'error' });
        showError(err, '商品加载失败');
      }
    },
    onTapCategory(e) {
      const id = e.currentTarget.dataset.id;
      if (id !== this.data.activeId) return this.select(id);
      return undefined;
    },
    onScrollBottom() {
      return this.loadMore();
    },
    onRetry() {
      return this.loadMore();
    },
    onReloadCategories() {
      return this.loadCategories();
    },
    onSearch() {
      ui.navigate('/pages/search/index');
    },
  },
});
