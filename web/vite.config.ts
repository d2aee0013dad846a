import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	server: {
		// `npm run dev` talks to a server started with `tapearr serve` on the default port.
		proxy: { '/api': { target: 'http://127.0.0.1:7070', ws: true } }
	},
	build: { sourcemap: false, reportCompressedSize: true },
	test: { include: ['src/**/*.test.ts'], environment: 'node' }
});
