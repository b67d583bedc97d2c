import { z } from "zod";
import type { Db } from "../db/client.js";
import { updateProfile } from "../db/users.repo.js";
import { ImageUrl } from "../media/image-url.js";
import type { Images } from "../media/images.service.js";
import { AppError } from "../protocol/errors.js";
import { SessionUser, sessionUser } from "../staff/staff.service.js";
import type { Api } from "./api.js";

const ProfilePatch = z.object({
  nickname: z.string().trim().min(1).max(40).optional(),
  /** An uploaded image's url (see POST /v1/me/avatar), an http(s) URL, or "" to remove it. */
  avatarUrl: z.union([ImageUrl, z.literal("")]).optional(),
});

/** The signed-in user's own profile: read it, change nickname and avatar, upload an avatar. */
export function profileRoutes(api: Api, deps: { db: Db; images: Images; maxImageBytes: number }) {
  const { db } = deps;

  api.route({ method: "get", path: "/v1/me", summary: "Who I am: profile, role, staff username, the streams I host", tag: "profile", auth: "user", response: SessionUser }, ({ user }) =>
    sessionUser(db, user!.userId),
  );
  api.route(
    { method: "patch", path: "/v1/me", summary: "Change my nickname or avatar (WeChat's nickname and avatar fill-in)", tag: "profile", auth: "user", body: ProfilePatch, response: SessionUser },
    async ({ user, body }) => {
      if (!(await updateProfile(db, user!.userId, body))) throw new AppError("AUTH_FAILED");
      return sessionUser(db, user!.userId);
    },
  );
  api.route(
    {
      method: "post",
      path: "/v1/me/avatar",
      summary: "Upload my avatar (multipart field `file`, as wx.uploadFile sends it after chooseAvatar) and use it",
      tag: "profile",
      auth: "user",
      upload: { field: "file", maxBytes: deps.maxImageBytes },
      rateLimit: "uploads",
      response: z.object({ avatarUrl: z.string() }),
    },
    async ({ user, file }) => {
      const image = await deps.images.save(file!.bytes, user!.userId);
      await updateProfile(db, user!.userId, { avatarUrl: image.url });
      return { avatarUrl: image.url };
    },
  );
}
