import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/**
 * One build serves any base path: the server replaces this placeholder with its configured
 * `base_path` (empty, or e.g. `/tapearr`) in every text file it serves (crates/api/src/web.rs).
 */
export const BASE_PLACEHOLDER = '/__tapearr_base__';

/** @type {import('@sveltejs/kit').Config} */
export default {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
		paths: { base: process.env.VITEST ? '' : BASE_PLACEHOLDER, relative: false },
		serviceWorker: { register: false },
		output: { bundleStrategy: 'single' },
		version: { pollInterval: 0 }
	}
};
