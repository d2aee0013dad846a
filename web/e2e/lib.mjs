// Shared by the end-to-end tests and the screenshot script: start the real binary on a free port
// with a temporary data dir, and drive /usr/bin/chromium with playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);

/** The binary under test: $TAPEARR_BIN, else the newer of the release and debug builds. */
export function binary() {
	if (process.env.TAPEARR_BIN) return resolve(process.env.TAPEARR_BIN);
	const found = ['target/release/tapearr', 'target/debug/tapearr']
		.map((p) => join(ROOT, p))
		.filter((p) => existsSync(p))
		.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
	if (!found.length) throw new Error('no tapearr binary: run `cargo build -p tapearr` first');
	return found[0];
}

/** Resolves when `child` has exited (at once when it already has). */
function exited(child) {
	return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
}

function freePort() {
	return new Promise((ok, fail) => {
		const s = createServer();
		s.once('error', fail);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => ok(port));
		});
	});
}

/**
 * Starts `tapearr serve`; resolves once /readyz answers. `base` is the base path ('' or '/x');
 * `env` adds variables (e.g. the Twitch settings from `fakeTwitch().env`).
 */
export async function startServer({ base = '', dataDir, port, env = {} } = {}) {
	const ownDir = !dataDir;
	dataDir ??= mkdtempSync(join(tmpdir(), 'tapearr-e2e-'));
	port ??= await freePort();
	const bin = binary();
	const log = [];
	const child = spawn(bin, ['--data-dir', dataDir, 'serve'], {
		env: {
			...process.env,
			TAPEARR_LISTEN: `127.0.0.1:${port}`,
			TAPEARR_BASE_PATH: base,
			TAPEARR_LOG__LEVEL: 'info',
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	child.stdout.on('data', (d) => log.push(String(d)));
	child.stderr.on('data', (d) => log.push(String(d)));
	const origin = `http://127.0.0.1:${port}`;
	const url = `${origin}${base}`;
	const deadline = Date.now() + 20_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`tapearr exited ${child.exitCode}:\n${log.join('')}`);
		try {
			const r = await fetch(`${url}/readyz`);
			if (r.ok) break;
		} catch {
			// not listening yet
		}
		if (Date.now() > deadline) throw new Error(`tapearr not ready after 20 s:\n${log.join('')}`);
		await new Promise((r) => setTimeout(r, 100));
	}
	return {
		url,
		origin,
		base,
		bin,
		dataDir,
		port,
		log,
		/** Dies at once, keeping the data dir (for restart tests). */
		async kill() {
			const gone = exited(child);
			child.kill('SIGKILL');
			await gone;
		},
		async stop() {
			// A graceful stop waits for running jobs; tests do not need that grace.
			const gone = exited(child);
			child.kill('SIGTERM');
			const t = setTimeout(() => child.kill('SIGKILL'), 3000);
			await gone;
			clearTimeout(t);
			if (ownDir) rmSync(dataDir, { recursive: true, force: true });
		}
	};
}

/** The Chromium to drive: $CHROMIUM, else the distribution's. */
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

/** Chromium with a fresh profile (a persistent context in a new temp dir). */
export async function launch({ viewport = { width: 1280, height: 800 }, colorScheme = 'light' } = {}) {
	const profile = mkdtempSync(join(tmpdir(), 'tapearr-chromium-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: CHROMIUM_ARGS,
		viewport,
		colorScheme
	});
	context.setDefaultTimeout(10_000);
	return {
		context,
		async close() {
			await context.close();
			rmSync(profile, { recursive: true, force: true });
		}
	};
}

/** A page that records console errors and uncaught exceptions (`page.problems`). */
export async function watchedPage(context) {
	const page = context.pages()[0] ?? (await context.newPage());
	const problems = [];
	page.on('console', (m) => {
		if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
	});
	page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
	page.problems = problems;
	return page;
}

export const ADMIN = { username: 'admin', password: 'correct horse battery' };

/** Creates the admin through the API (for tests that are not about setup). */
export async function setupAdmin(server) {
	const r = await fetch(`${server.url}/api/v1/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(ADMIN)
	});
	if (r.status !== 201) throw new Error(`setup: ${r.status} ${await r.text()}`);
}

/** The CSRF token of the signed-in browser context (its double-submit cookie). */
export async function csrfOf(context) {
	const cookie = (await context.cookies()).find((c) => c.name === 'tapearr_csrf');
	if (!cookie) throw new Error('no tapearr_csrf cookie: sign in first');
	return cookie.value;
}

/** A write to the API as the signed-in `page` (its cookies, plus the CSRF header). */
export async function apiPost(page, server, path, data) {
	return page.request.post(`${server.url}${path}`, { headers: { 'X-CSRF-Token': await csrfOf(page.context()) }, data });
}

/** Polls `check` (sync or async) every `every` ms until it returns something truthy; returns that. */
export async function until(check, { timeout = 15_000, every = 100, what = 'the condition' } = {}) {
	const deadline = Date.now() + timeout;
	for (;;) {
		const v = await check();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
		await new Promise((r) => setTimeout(r, every));
	}
}

/** Signs in through the login form. */
export async function login(page, server) {
	await page.goto(`${server.url}/login`);
	await page.getByLabel('User name').fill(ADMIN.username);
	await page.getByLabel('Password').fill(ADMIN.password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

/** The fakes binary next to the tapearr under test (`cargo build -p tapearr-testkit`). */
export function fakesBinary() {
	if (process.env.TAPEARR_FAKES_BIN) return resolve(process.env.TAPEARR_FAKES_BIN);
	const p = join(dirname(binary()), 'tapearr-fakes');
	if (!existsSync(p)) throw new Error(`no ${p}: run \`cargo build -p tapearr-testkit\` first`);
	return p;
}

/**
 * Starts `tapearr-fakes twitch` (a fake Twitch with its own HLS origin). `env` is what tapearr
 * needs to use it; `control(path, body)` drives it (`/users`, `/live/LOGIN`, `/offline/LOGIN`,
 * `/chat/LOGIN` with `{user, text}` …).
 */
export async function fakeTwitch({ clientId = 'e2e-client', clientSecret = 'e2e-secret' } = {}) {
	const child = spawn(fakesBinary(), ['twitch', '--client-id', clientId, '--client-secret', clientSecret], {
		stdio: ['pipe', 'pipe', 'pipe']
	});
	const log = [];
	const url = await new Promise((ok, fail) => {
		let out = '';
		const t = setTimeout(() => fail(new Error(`tapearr-fakes not ready after 20 s:\n${out}${log.join('')}`)), 20_000);
		child.stdout.on('data', (d) => {
			out += String(d);
			const m = out.match(/^READY (\S+)/m);
			if (m) {
				clearTimeout(t);
				ok(m[1].replace(/\/$/, ''));
			}
		});
		child.stderr.on('data', (d) => log.push(String(d)));
		child.once('exit', (code) => {
			clearTimeout(t);
			fail(new Error(`tapearr-fakes exited ${code}:\n${out}${log.join('')}`));
		});
	});
	return {
		url,
		log,
		env: {
			TAPEARR_TWITCH__CLIENT_ID: clientId,
			TAPEARR_TWITCH__CLIENT_SECRET: clientSecret,
			TAPEARR_TWITCH__HELIX_URL: `${url}/helix/`,
			TAPEARR_TWITCH__ID_URL: `${url}/`,
			TAPEARR_TWITCH__GQL_URL: `${url}/gql`,
			TAPEARR_TWITCH__USHER_URL: `${url}/`,
			TAPEARR_TWITCH__CHAT_URL: `${url.replace(/^http:/, 'ws:')}/irc`,
			TAPEARR_TWITCH__POLL_SECS: '1'
		},
		async control(path, body = {}) {
			const r = await fetch(`${url}/_control${path}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(body)
			});
			if (!r.ok) throw new Error(`fake Twitch ${path}: ${r.status} ${await r.text()}`);
			const text = await r.text();
			return text ? JSON.parse(text) : null;
		},
		async stop() {
			const gone = exited(child);
			child.stdin.end();
			const t = setTimeout(() => child.kill('SIGKILL'), 3000);
			await gone;
			clearTimeout(t);
		}
	};
}

/**
 * Starts `tapearr-fakes trailers` (a fake Radarr, Sonarr, TMDB, a video site for yt-dlp and Plex).
 * `ready` is its READY line (`radarr.url`, `radarr.apiKey`, `tmdb`, `videoOrigin`, `plex.url`, `plex.token` …); `control(which,
 * path, body)` drives one of them through its `/_control/…`; `env(library)` is what tapearr needs
 * to use them with `library` as its library root.
 */
export async function fakeTrailers(args = ['--movies', '0', '--series', '0']) {
	const child = spawn(fakesBinary(), ['trailers', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
	const log = [];
	const ready = await new Promise((ok, fail) => {
		let out = '';
		const t = setTimeout(() => fail(new Error(`tapearr-fakes trailers not ready after 20 s:\n${out}${log.join('')}`)), 20_000);
		child.stdout.on('data', (d) => {
			out += String(d);
			const m = out.match(/^READY (\{.*\})$/m);
			if (m) {
				clearTimeout(t);
				ok(JSON.parse(m[1]));
			}
		});
		child.stderr.on('data', (d) => log.push(String(d)));
		child.once('exit', (code) => {
			clearTimeout(t);
			fail(new Error(`tapearr-fakes trailers exited ${code}:\n${out}${log.join('')}`));
		});
	});
	const base = (which) => ready[which].url.replace(/\/$/, '');
	return {
		ready,
		log,
		env(library) {
			return {
				TAPEARR_LIBRARY_ROOTS: library,
				TAPEARR_DISK__LOW_FREE_GB: '0',
				TAPEARR_TMDB__API_URL: `${base('tmdb')}/3`,
				TAPEARR_TMDB__API_KEY: ready.tmdb.apiKey,
				TAPEARR_TRAILERS__WATCH_URL: ready.videoOrigin.watchTemplate,
				TAPEARR_TRAILERS__SEARCH_TARGET: `${base('videoOrigin')}/feed?q={query}&n={n}`,
				TAPEARR_TRAILERS__HOST_INTERVAL_SECS: '0',
				TAPEARR_TRAILERS__HOST_JITTER_SECS: '0',
				// plex.tv (and its sign-in page) for "Sign in with Plex".
				TAPEARR_PLEX__TV_URL: base('plexTv'),
				TAPEARR_PLEX__APP_URL: base('plexTv')
			};
		},
		async control(which, path, body = {}) {
			const r = await fetch(`${base(which)}/_control${path}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(body)
			});
			if (!r.ok) throw new Error(`fake ${which} ${path}: ${r.status} ${await r.text()}`);
			const text = await r.text();
			return text ? JSON.parse(text) : null;
		},
		async stop() {
			const gone = exited(child);
			child.stdin.end();
			const t = setTimeout(() => child.kill('SIGKILL'), 3000);
			await gone;
			clearTimeout(t);
		}
	};
}

/**
 * A new data dir whose `tools` is the tools venv `make tools` installed (yt-dlp), found in
 * $TAPEARR_TEST_TOOLS_DATA_DIR (set by `make test` and `make web-e2e`), else `data/`.
 */
export function dataDirWithTools() {
	const shared = resolve(process.env.TAPEARR_TEST_TOOLS_DATA_DIR || join(ROOT, 'data'));
	const tools = join(shared, 'tools');
	if (!existsSync(join(tools, 'venv/bin/yt-dlp'))) throw new Error(`no yt-dlp in ${tools}/venv: run \`make tools\` first`);
	const dir = mkdtempSync(join(tmpdir(), 'tapearr-e2e-'));
	symlinkSync(tools, join(dir, 'tools'));
	return dir;
}
