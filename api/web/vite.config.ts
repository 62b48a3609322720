import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Everything is bundled: nothing is loaded from a CDN at run time. `npm run dev` proxies the API.
const api = process.env.GRIDCAST_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: {
      "/graphql": { target: api, ws: true },
      "/auth": api,
      "/dashboard": api,
    },
  },
});
