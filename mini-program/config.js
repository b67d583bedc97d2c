/**
 * Where this mini program finds its pinlive server: the one setting to change for a deployment.
 * Production needs an https:// URL whose domain is on the mini program's request and socket
 * allowlists (WeChat admin console: 开发管理 → 服务器域名); WebSocket URLs are derived from it.
 */
module.exports = {
  BASE_URL: 'http://127.0.0.1:8080',
};
