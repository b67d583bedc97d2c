import { fileURLToPath } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** The pinlive node the dev server forwards API, socket.io and image requests to. */
const target = "http://127.0.0.1:8080";

/** The host console: served by pinlive at /console/ from console/dist (`npm run build:console`). */
export default defineConfig({
  root: here("."),
  base: "/console/",
  plugins: [vue()],
  resolve: { alias: { "@protocol": here("../src/protocol") } },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: {
      "/v1": { target },
      "/images": { target },
      "/socket.io": { target, ws: true },
    },
  },
});
