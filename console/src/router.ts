import { createRouter, createWebHistory, type RouteLocationNormalized } from "vue-router";
import { isAdmin, onSessionExpired, session } from "./session";

/** Routes under /console/. `admin: true` pages are for admins; the server refuses others with 403 too. */
export const router = createRouter({
  history: createWebHistory("/console/"),
  routes: [
    { path: "/login", name: "login", component: () => import("./views/SignIn.vue"), meta: { public: true, title: "登录" } },
    {
      path: "/",
      component: () => import("./layout/ConsoleLayout.vue"),
      children: [
        { path: "", redirect: { name: "streams" } },
        { path: "streams", name: "streams", component: () => import("./views/StreamList.vue"), meta: { title: "直播间" } },
        { path: "streams/:id", name: "control", component: () => import("./views/control/ControlRoom.vue"), meta: { title: "直播控制台", wide: true } },
        { path: "admin/catalog", name: "catalog", component: () => import("./views/admin/CatalogView.vue"), meta: { title: "商品管理", admin: true } },
        { path: "admin/orders", name: "orders", component: () => import("./views/admin/OrdersView.vue"), meta: { title: "订单管理", admin: true } },
        { path: "admin/groups", name: "groups", component: () => import("./views/admin/GroupActivitiesView.vue"), meta: { title: "拼团活动", admin: true } },
        { path: "admin/bans", name: "bans", component: () => import("./views/admin/BansView.vue"), meta: { title: "封禁管理", admin: true } },
        { path: "admin/staff", name: "staff", component: () => import("./views/admin/StaffView.vue"), meta: { title: "员工账号", admin: true } },
        { path: ":rest(.*)*", name: "not-found", component: () => import("./views/NotFound.vue"), meta: { title: "页面不存在" } },
      ],
    },
  ],
});

router.beforeEach((to: RouteLocationNormalized) => {
  if (!to.meta.public && !session.current) return { name: "login", query: to.fullPath === "/" ? {} : { next: to.fullPath } };
  if (to.name === "login" && session.current) return { name: "streams" };
  return true;
});

router.afterEach((to) => {
  document.title = `${typeof to.meta.title === "string" ? to.meta.title : "控制台"} · pinlive 直播控制台`;
});

onSessionExpired(() => {
  const here = router.currentRoute.value;
  if (here.name !== "login") void router.push({ name: "login", query: { next: here.fullPath, expired: "1" } });
});

export const adminOnly = (route: RouteLocationNormalized) => route.meta.admin === true && !isAdmin.value;
