// Vite builds the UI into ui/dist, which the Tauri shell serves from disk
// (hence the relative `base`); in development the shell loads the dev server
// on a fixed port, so a busy port must fail rather than move.
import { defineConfig } from "vitest/config";

const host = process.env.TAURI_DEV_HOST;

export default defineConfig({
  base: "./",
  clearScreen: false,
  envPrefix: ["VITE_", "TAURI_ENV_"],
  server: {
    port: 1420,
    strictPort: true,
    host: host || false,
    hmr: host ? { protocol: "ws", host, port: 1421 } : undefined,
    watch: { ignored: ["**/src-tauri/**"] },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The oldest webviews Tauri 2 runs on: WebView2 (Chromium) and WKWebView.
    target: ["es2021", "chrome105", "safari15"],
    sourcemap: false,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
