/** Profile: avatar (chooseAvatar → upload), nickname (type="nickname" → PATCH /v1/me), log out. */
const session = require('../../lib/session');
const user = require('../../services/user');
const { showError } = require('../../lib/errors');
const { assetUrl } = require('../../lib/format');
const ui = require('../../lib/ui');

const NICKNAME_MAX = 20;

Component({
  data: {
    loading: true,
    id: '',
    avatar: '',
    initial: '',
    nickname: '',
    draft: '',
    error: '',
    saving: false,
    uploading: false,
  },
  methods: {
    onLoad() {
      return this.load();
    },
    async load() {
      try {
        await session.ensureLogin();
        const me = await user.me();
        session.updateUser({ nickname: me.nickname, avatarUrl: me.avatarUrl || '' });
        this.setData({ loading: false, id: me.id, nickname: me.nickname, draft: me.nickname, avatar: assetUrl(me.avatarUrl || ''), initial: (me.nickname || '拼').slice(0, 1) });
      } catch (err) {
        this.setData({ loading: false });
        showError(err, '资料加载失败');
      }
    },
    async onChooseAvatar(e) {
      const path = e.detail && e.detail.avatarUrl;
      if (!path || this.data.uploading) return;
      this.setData({ uploading: true });
      try {
        const res = await ui.withLoading('上传中', () => user.uploadAvatar(path));
        this.setData({ avatar: assetUrl(res.avatarUrl) });
        ui.toast('头像已更新', 'success');
      } catch (err) {
        showError(err, '头像上传失败');
      } finally {
        this.setData({ uploading: false });
      }
    },
    onNicknameInput(e) {
      this.setData({ draft: e.detail.value, error: '' });
    },
    validate(nickname) {
      if (!nickname) return '昵称不能为空';
      if (nickname.length > NICKNAME_MAX) return `昵称最多 ${NICKNAME_MAX} 个字`;
      return '';
    },
    async onSave() {
      const nickname = (this.data.draft || '').trim();
      const error = this.validate(nickname);
      if (error) {
        this.setData({ error });
        return;
      }
      if (nickname === this.data.nickname || this.data.saving) return;
      this.setData({ saving: true });
      try {
        const u = await user.updateProfile({ nickname });
        this.setData({ nickname: u.nickname, draft: u.nickname, initial: u.nickname.slice(0, 1) });
        ui.toast('已保存', 'success');
      } catch (err) {
        showError(err, '保存失败');
      } finally {
        this.setData({ saving: false });
      }
    },
    async onLogout() {
      if (!(await ui.confirm('确定退出登录吗？', { confirmText: '退出' }))) return;
      await session.logout();
      ui.back();
    },
  },
});
