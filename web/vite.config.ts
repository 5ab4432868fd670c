import { defineConfig } from "vite";

// Two pages: the storefront (index.html, every /shop/... path) and the seller console (seller.html, /seller),
// so a buyer never downloads the console's code. Everything is bundled: nothing is fetched from elsewhere.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: { input: { main: "index.html", seller: "seller.html" } },
  },
});
