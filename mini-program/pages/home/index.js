/** Home: banners, categories, live and upcoming streams, hot products; pull down to refresh. */
const catalog = require('../../services/catalog');
const streams = require('../../services/streams');
const { showError } = require('../../lib/errors');
const { assetUrl } = require('../../lib/format');
const ui = require('../../lib/ui');

const GRID_SIZE = 10;

/** Resolves to { ok, value } or { ok: false, error }: one failed section does not hide the rest. */
function settle(promise) {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error) => ({ ok: false, error }),
  );
}

Component({
  data: {
    loading: true,
    failed: false,
    banners: [],
    categories: [],
    liveStreams: [],
    upcomingStreams: [],
    hotProducts: [],
  },
  methods: {
    onLoad() {
      return this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      ui.stopPullDownRefresh();
    },
    async load() {
      try {
        await this.loadSections();
      } catch (err) {
        this.setData({ loading: false });
        showError(err, '首页加载失败');
      }
    },
    async loadSections() {
      const [banners, categories, live, upcoming, hot] = await Promise.all([
        settle(catalog.banners()),
        settle(catalog.categories()),
        settle(streams.live()),
        settle(streams.upcoming()),
        settle(catalog.hotProducts()),
      ]);
      const results = [banners, categories, live, upcoming, hot];
      const firstError = results.find((r) => !r.ok);
      const patch = { loading: false, failed: results.every((r) => !r.ok) };
      if (banners.ok) patch.banners = banners.value.map((b) => ({ id: b.id, image: assetUrl(b.imageUrl), link: b.link }));
      if (categories.ok) {
        patch.categories = categories.value
          .filter((c) => !c.parentId)
          .slice(0, GRID_SIZE)
          .map((c) => ({ id: c.id, name: c.name, icon: assetUrl(c.iconUrl), initial: c.name.slice(0, 1) }));
      }
      if (live.ok) patch.liveStreams = live.value;
      if (upcoming.ok) patch.upcomingStreams = upcoming.value;
      if (hot.ok) patch.hotProducts = hot.value;
      this.setData(patch);
      if (firstError) showError(firstError.error, '首页加载失败');
    },
    onRetry() {
      this.setData({ loading: true, failed: false });
      return this.load();
    },
    onSearch() {
      ui.navigate('/pages/search/index');
    },
    onBanner(e) {
      const link = e.currentTarget.dataset.link;
      if (link && link.indexOf('/pages/') === 0) ui.navigate(link);
    },
    onCategory(e) {
      const app = getApp();
      if (app && app.globalData) app.globalData.categoryId = e.currentTarget.dataset.id;
      ui.navigate('/pages/category/index');
    },
    onShareAppMessage() {
      return { title: '拼播 · 边看直播边拼单', path: '/pages/home/index' };
    },
  },
});
