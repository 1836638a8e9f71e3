import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built once (npm install / npm run build) and served by the server at `/`; hashed files under
// /assets are cached for a year. `npm run dev -w apps/web` proxies the API to a local server.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, reportCompressedSize: false, manifest: true },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
