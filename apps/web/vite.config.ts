import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built once (npm install / npm run build) and served by the server at `/`; hashed files under
// /assets are cached for a year. `npm run dev` runs it with a watched server
// behind it (`npm run dev -w apps/web` alone proxies to a server you started).
export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, reportCompressedSize: false, manifest: true },
  // `npm run dev` (root) sets INFINITY_PORT to the port the watched server listens on; ws for realtime.
  server: { proxy: { '/api': { target: `http://127.0.0.1:${process.env.INFINITY_PORT ?? '8080'}`, ws: true } } },
});
