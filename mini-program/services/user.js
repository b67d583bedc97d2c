/** The signed-in user: profile, avatar, and my group buys. */
const { request, upload } = require('../lib/request');
const session = require('../lib/session');

const me = () => request({ path: '/v1/me', auth: 'required' });

/** PATCH /v1/me { nickname?, avatarUrl? }; the stored session's user follows. */
async function updateProfile(patch) {
  const user = await request({ path: '/v1/me', method: 'PATCH', data: patch, auth: 'required' });
  session.updateUser({ nickname: user.nickname, avatarUrl: user.avatarUrl });
  return user;
}

/** Uploads the file chooseAvatar gave (a temporary path) → { avatarUrl }; the session's user follows. */
async function uploadAvatar(filePath) {
  const body = await upload({ path: '/v1/me/avatar', filePath, name: 'file' });
  session.updateUser({ avatarUrl: body.avatarUrl });
  return body;
}

/** [{ group, productName, productImage, orderId, orderStatus, payBy, leader }], newest first. */
const myGroups = () => request({ path: '/v1/me/groups', auth: 'required' });

module.exports = { me, updateProfile, uploadAvatar, myGroups };
