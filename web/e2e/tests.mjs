// End-to-end tests: the real binary, a temporary data dir, Chromium. Run by `make web-e2e`
// (node e2e/run.mjs). Each test gets fresh servers unless it says otherwise.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, apiPost, csrfOf, dataDirWithTools, fakeTrailers, fakeTwitch, launch, login, setupAdmin, startServer, until, watchedPage } from './lib.mjs';

/** Every route of the app frame, with the heading each one shows. */
export const PAGES = [
	['/', 'Dashboard'],
	['/streams', 'Streams'],
	['/recordings', 'Recordings'],
	['/trailers/movies', 'Movies'],
	['/trailers/series', 'Series'],
	['/trailers/profiles', 'Trailer profiles'],
	['/trailers/connections', 'Connections'],
	['/activity/tasks', 'Tasks'],
	['/activity/jobs', 'Jobs'],
	['/activity/events', 'Events'],
	['/activity/logs', 'Logs'],
	['/settings/general', 'General'],
	['/settings/twitch', 'Twitch'],
	['/settings/library', 'Library'],
	['/settings/account', 'Account'],
	['/settings/trailers', 'Trailers'],
	['/settings/api-keys', 'API keys'],
	['/settings/notifications', 'Notifications'],
	['/settings/media-servers', 'Media servers'],
	['/settings/import', 'Import']
];

/**
 * A local HTTP receiver standing in for a webhook target or a Jellyfin server. `seen` lists the
 * requests; `request(match)` resolves with the first one `match` accepts, once it has arrived.
 */
async function receiver(answer) {
	const { createServer } = await import('node:http');
	const seen = [];
	const waiting = new Set();
	const srv = createServer((req, res) => {
		let body = '';
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			const got = { method: req.method, url: req.url, headers: req.headers, body };
			seen.push(got);
			for (const w of waiting) w(got);
			const [status, json] = answer(req);
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(json ? JSON.stringify(json) : '');
		});
	});
	await new Promise((r) => srv.listen(0, '127.0.0.1', r));
	function request(match, timeout = 30_000) {
		const hit = seen.find(match);
		if (hit) return Promise.resolve(hit);
		return new Promise((ok, fail) => {
			const w = (got) => {
				if (!match(got)) return;
				waiting.delete(w);
				clearTimeout(t);
				ok(got);
			};
			const t = setTimeout(() => {
				waiting.delete(w);
				fail(new Error(`no matching request within ${timeout} ms (seen: ${seen.map((r) => `${r.method} ${r.url}`).join(', ')})`));
			}, timeout);
			waiting.add(w);
		});
	}
	return { url: `http://127.0.0.1:${srv.address().port}`, seen, request, close: () => new Promise((r) => srv.close(r)) };
}

function noProblems(page) {
	assert.deepEqual(page.problems, [], 'console errors or exceptions on the page');
}

/** Marks the document; `stillSameDocument` proves no reload happened since. */
async function markDocument(page) {
	await page.evaluate(() => (window.__e2eMark = 'kept'));
}
async function stillSameDocument(page) {
	assert.equal(await page.evaluate(() => window.__e2eMark), 'kept', 'the page reloaded');
}

async function withApp({ base = '', admin = true, viewport, env, dataDir } = {}, fn) {
	const server = await startServer({ base, env, dataDir });
	const browser = await launch({ viewport });
	try {
		if (admin) await setupAdmin(server);
		const page = await watchedPage(browser.context);
		await fn({ server, page, context: browser.context });
	} catch (e) {
		e.message += `\n--- server log (tail) ---\n${server.log.join('').split('\n').slice(-25).join('\n')}`;
		throw e;
	} finally {
		await browser.close();
		await server.stop();
	}
}

/** A fake Twitch and a temporary library folder, and the tapearr settings that use them. */
async function withTwitch(fn) {
	const twitch = await fakeTwitch();
	const library = mkdtempSync(join(tmpdir(), 'tapearr-e2e-library-'));
	try {
		await fn({ twitch, env: { ...twitch.env, TAPEARR_LIBRARY_ROOTS: library, TAPEARR_DISK__LOW_FREE_GB: '0' } });
	} finally {
		await twitch.stop();
		rmSync(library, { recursive: true, force: true });
	}
}

/**
 * The trailer fakes (Radarr, Sonarr, TMDB, a video site), a temporary library folder, a data dir
 * with the tools venv (yt-dlp), and tapearr and Chromium using them.
 */
async function withTrailers(fn) {
	const fakes = await fakeTrailers();
	const library = mkdtempSync(join(tmpdir(), 'tapearr-e2e-library-'));
	const dataDir = dataDirWithTools();
	try {
		await withApp({ env: fakes.env(library), dataDir }, async (app) => fn({ ...app, fakes, library }));
	} finally {
		await fakes.stop();
		rmSync(library, { recursive: true, force: true });
		rmSync(dataDir, { recursive: true, force: true });
	}
}

/** A TMDB video entry as TMDB writes it. */
function tmdbVideo(key, name, type = 'Trailer') {
	return {
		iso_639_1: 'en',
		iso_3166_1: 'US',
		name,
		key,
		site: 'YouTube',
		size: 1080,
		type,
		official: true,
		published_at: '2019-03-25T14:00:06.000Z',
		id: key.padEnd(24, '0').slice(0, 24)
	};
}

/** The channel's recordings, newest first, through the API as the signed-in `page`. */
async function recordingsOf(page, server, channelId) {
	const r = await page.request.get(`${server.url}/api/v1/recordings?channel_id=${channelId}`);
	assert.equal(r.status(), 200);
	return (await r.json()).items;
}

/** Waits until the channel's newest recording satisfies `check`; returns it. */
function recordingWhere(page, server, channelId, check, what, timeout = 30_000) {
	return until(async () => (await recordingsOf(page, server, channelId)).find(check), { timeout, every: 250, what });
}

/** Waits until the `<video>` matching `selector` plays at a time above `above` and below `below`; returns it. */
async function videoTime(page, selector, { above = -1, below = Infinity }, timeout = 15_000) {
	const handle = await page.waitForFunction(
		([sel, lo, hi]) => {
			const v = document.querySelector(sel);
			return v && !v.paused && v.currentTime > lo && v.currentTime < hi ? v.currentTime : false;
		},
		[selector, above, below === Infinity ? Number.MAX_VALUE : below],
		{ timeout }
	);
	return handle.jsonValue();
}

/** Waits until the number in `attr` of the first element matching `selector` is above `min`; returns it. */
async function numberAbove(page, selector, attr, min, timeout = 15_000) {
	const handle = await page.waitForFunction(
		([sel, a, m]) => {
			const v = Number(document.querySelector(sel)?.getAttribute(a));
			return Number.isFinite(v) && v > m ? v : false;
		},
		[selector, attr, min],
		{ timeout }
	);
	return handle.jsonValue();
}

export const tests = {
	async 'a new user sets up the admin, signs in, creates an API key, sees it, revokes it and signs out'() {
		await withApp({ admin: false }, async ({ server, page }) => {
			await page.goto(`${server.url}/`);
			await page.waitForURL(`${server.url}/setup`);
			await page.getByRole('heading', { name: 'Welcome to Tapearr' }).waitFor();
			await page.getByLabel('User name').fill(ADMIN.username);
			await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
			await page.getByLabel('Repeat the password').fill(ADMIN.password);
			await page.getByRole('button', { name: 'Create the admin account' }).click();

			await page.waitForURL(/\/login/);
			await page.getByText(`The account “${ADMIN.username}” is ready`).waitFor();
			assert.equal(await page.getByLabel('User name').inputValue(), ADMIN.username);
			await page.getByLabel('Password').fill(ADMIN.password);
			await page.getByRole('button', { name: 'Sign in' }).click();

			// The set-up guide comes first; skipped, it is not shown again.
			await page.getByRole('heading', { name: 'Set up Tapearr' }).waitFor();
			await page.getByRole('button', { name: 'Skip the set-up' }).click();
			await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
			await page.getByText('Live', { exact: true }).waitFor();
			await page.getByRole('link', { name: 'Settings' }).click();
			await page.getByRole('link', { name: 'API keys' }).click();
			await page.getByRole('heading', { name: 'API keys', exact: true }).waitFor();
			await page.getByText('No API keys').waitFor();

			await page.getByLabel('Name').fill('e2e-script');
			await page.getByRole('button', { name: 'Create key' }).click();
			const secret = (await page.getByTestId('new-secret').textContent()).trim();
			assert.match(secret, /^tpa_/);
			const row = page.locator('tr[data-key="e2e-script"]');
			await row.waitFor();
			assert.ok((await row.textContent()).includes(secret.slice(0, 8)), 'the listed key shows its prefix');

			// The key works for scripts …
			const me = await fetch(`${server.url}/api/v1/auth/me`, { headers: { 'X-Api-Key': secret } });
			assert.equal(me.status, 200);

			// … until it is revoked (two steps: Revoke, then confirm).
			await page.getByRole('button', { name: 'Revoke e2e-script' }).click();
			await page.getByRole('button', { name: 'Revoke “e2e-script”' }).click();
			await page.locator('tr[data-revoked="e2e-script"]').waitFor();
			await row.waitFor({ state: 'detached' });
			const after = await fetch(`${server.url}/api/v1/auth/me`, { headers: { 'X-Api-Key': secret } });
			assert.equal(after.status, 401);

			await page.getByRole('button', { name: /^Sign out/ }).click();
			await page.waitForURL(/\/login$/);
			await page.goto(`${server.url}/activity/jobs`);
			await page.waitForURL(/\/login\?next=%2Factivity%2Fjobs/);
			noProblems(page);
		});
	},

	async 'a task run from Activity shows its job appear and finish without a reload'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.getByRole('link', { name: 'Activity' }).click();
			await page.getByRole('heading', { name: 'Tasks' }).waitFor();
			await markDocument(page);
			const row = page.locator('tr[data-task="prune-sessions"]');
			await row.getByRole('button', { name: 'Run prune-sessions now' }).click();
			await row.getByText('succeeded').first().waitFor({ timeout: 15_000 });

			await page.getByRole('link', { name: 'Jobs' }).click();
			const job = page.locator('tr[data-kind="maintenance.prune_sessions"], tr[data-kind*="prune"]').first();
			await job.waitFor();
			assert.equal(await job.getAttribute('data-status'), 'succeeded');

			// A job queued elsewhere appears, runs and finishes on this page by itself.
			const jobs = page.locator('tbody tr');
			const before = await jobs.count();
			const r = await apiPost(page, server, '/api/v1/jobs', { kind: 'system.probe', payload: { millis: 2000 } });
			assert.equal(r.status(), 201);
			const id = (await r.json()).id;
			const probe = page.locator(`tr[data-job="${id}"]`);
			await probe.waitFor({ timeout: 5000 });
			await page.locator(`tr[data-job="${id}"][data-status="running"]`).waitFor({ timeout: 10_000 });
			await page.locator(`tr[data-job="${id}"][data-status="succeeded"]`).waitFor({ timeout: 15_000 });
			assert.equal(await jobs.count(), before + 1);
			await stillSameDocument(page);
			noProblems(page);
		});
	},

	async 'jobs can be cancelled and retried, and a failure shows its error'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/activity/jobs`);
			await page.getByText('No jobs yet').waitFor();
			const post = (data) => apiPost(page, server, '/api/v1/jobs', data);
			const slow = await (await post({ kind: 'system.probe', payload: { millis: 60000 } })).json();
			const row = page.locator(`tr[data-job="${slow.id}"]`);
			await page.locator(`tr[data-job="${slow.id}"][data-status="running"]`).waitFor({ timeout: 10_000 });
			await row.getByRole('button', { name: 'Cancel system.probe job' }).click();
			await page.locator(`tr[data-job="${slow.id}"][data-status="cancelled"]`).waitFor({ timeout: 15_000 });
			await row.getByRole('button', { name: 'Retry system.probe job' }).click();
			await page.locator(`tr[data-job="${slow.id}"]:is([data-status="queued"],[data-status="running"])`).waitFor();

			const bad = await (await post({ kind: 'system.probe', payload: { millis: 10, fail: 'disk on fire' }, max_attempts: 1 })).json();
			const failed = page.locator(`tr[data-job="${bad.id}"][data-status="failed"]`);
			await failed.waitFor({ timeout: 15_000 });
			assert.ok((await failed.textContent()).includes('disk on fire'));
			noProblems(page);
		});
	},

	async 'every page renders without console errors, on a phone and on a desktop'() {
		for (const viewport of [
			{ width: 360, height: 740 },
			{ width: 1440, height: 900 }
		]) {
			await withApp({ viewport }, async ({ server, page }) => {
				await login(page, server);
				for (const [path, heading] of PAGES) {
					await page.goto(`${server.url}${path}`);
					await page.getByRole('heading', { name: heading, exact: true }).waitFor();
					await page.waitForLoadState('networkidle');
					await page.locator('[role="status"]:has-text("Loading")').waitFor({ state: 'detached' });
					const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
					assert.ok(overflow <= 0, `${path} is ${overflow}px wider than a ${viewport.width}px screen`);
				}
				noProblems(page);
			});
		}
	},

	async 'the navigation works with the keyboard and the phone menu opens and closes'() {
		await withApp({ viewport: { width: 390, height: 844 } }, async ({ server, page }) => {
			await login(page, server);
			const menu = page.getByRole('button', { name: 'Menu', exact: true });
			await menu.focus();
			await page.keyboard.press('Enter');
			assert.equal(await menu.getAttribute('aria-expanded'), 'true');
			await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activity' }).focus();
			await page.keyboard.press('Enter');
			await page.getByRole('heading', { name: 'Tasks' }).waitFor();
			assert.equal(await menu.getAttribute('aria-expanded'), 'false');
			await menu.click();
			await page.keyboard.press('Escape');
			assert.equal(await menu.getAttribute('aria-expanded'), 'false');
			// The skip link comes first in the tab order of a freshly loaded page.
			await page.goto(`${server.url}/activity/jobs`);
			await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
			await page.keyboard.press('Tab');
			assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
			noProblems(page);
		});
	},

	async 'events and log lines arrive live'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/activity/events`);
			await page.getByRole('heading', { name: 'Events' }).waitFor();
			await page.getByText('Live', { exact: true }).waitFor();
			await markDocument(page);
			await apiPost(page, server, '/api/v1/apikeys', { name: 'from-elsewhere' });
			await page.getByText('apikey.created').first().waitFor({ timeout: 5000 });
			await page.getByText('key “from-elsewhere”').waitFor();

			await page.getByRole('link', { name: 'Logs' }).click();
			await page.getByRole('log').waitFor();
			await apiPost(page, server, '/api/v1/jobs', { kind: 'system.probe', payload: { millis: 10, fail: 'marker-for-the-log-tail' }, max_attempts: 1 });
			await page.getByRole('log').getByText('marker-for-the-log-tail').first().waitFor({ timeout: 10_000 });
			await stillSameDocument(page);
			noProblems(page);
		});
	},

	async 'after the server restarts, the WebSocket reconnects and replays what it missed'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/activity/events`);
			await page.getByText('Live', { exact: true }).waitFor();
			await markDocument(page);
			await server.kill();
			await page.getByText('Reconnecting…').waitFor();
			const again = await startServer({ dataDir: server.dataDir, port: server.port });
			try {
				// An event stored while this page is still reconnecting arrives by the replay cursor.
				const login = await fetch(`${again.url}/api/v1/auth/login`, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify(ADMIN)
				});
				const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
				const csrf = (await login.json()).csrf_token;
				const r = await fetch(`${again.url}/api/v1/apikeys`, {
					method: 'POST',
					headers: { 'content-type': 'application/json', cookie, 'X-CSRF-Token': csrf },
					body: JSON.stringify({ name: 'made-while-away' })
				});
				assert.equal(r.status, 201);
				await page.getByText('Live', { exact: true }).waitFor({ timeout: 20_000 });
				await page.getByText('key “made-while-away”').waitFor();
				assert.equal(await page.getByText('key “made-while-away”').count(), 1, 'replayed once');
				await stillSameDocument(page);
				// The browser logs the refused connections while the server was down; nothing else.
				const unexpected = page.problems.filter((p) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(p));
				assert.deepEqual(unexpected, []);
			} finally {
				await again.stop();
			}
		});
	},

	async 'an expired session leads back to the login page, then to where the user was'() {
		await withApp({}, async ({ server, page, context }) => {
			await login(page, server);
			await page.getByText('Live', { exact: true }).waitFor();
			await context.clearCookies({ name: 'tapearr_session' });
			await page.getByRole('link', { name: 'Activity' }).click();
			await page.waitForURL(/\/login\?next=%2Factivity%2Ftasks/);
			await page.getByLabel('User name').fill(ADMIN.username);
			await page.getByLabel('Password').fill(ADMIN.password);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await page.getByRole('heading', { name: 'Tasks', exact: true }).waitFor();
			// The one expected error: the browser logs the 401 that revealed the expiry.
			const unexpected = page.problems.filter((p) => !p.includes('401'));
			assert.deepEqual(unexpected, []);
		});
	},

	async 'theme switch persists, and dark is applied before the first paint'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.getByRole('button', { name: 'Use the dark theme' }).click();
			assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
			await page.reload();
			await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
			assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
			const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
			assert.equal(bg, 'rgb(14, 20, 24)');
			noProblems(page);
		});
	},

	async 'works under a sub-path: assets, API, WebSocket and service worker'() {
		await withApp({ base: '/tapearr', admin: false }, async ({ server, page }) => {
			await page.goto(`${server.origin}/`);
			await page.waitForURL(`${server.url}/setup`);
			await setupAdmin(server);
			await login(page, server);
			await page.getByText('Live', { exact: true }).waitFor();
			const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
			assert.equal(scope, `${server.url}/`);
			const manifest = await page.evaluate(() => document.querySelector('link[rel=manifest]').href);
			assert.equal(manifest, `${server.url}/manifest.webmanifest`);
			const m = await fetch(manifest);
			assert.equal(m.status, 200);
			assert.equal(m.headers.get('cache-control'), 'no-cache');
			await page.goto(`${server.url}/activity/tasks`);
			await page.getByRole('heading', { name: 'Tasks' }).waitFor();
			noProblems(page);
		});
	},

	async 'the server serves the shell with the right headers'() {
		const server = await startServer();
		try {
			const get = (p, h = {}) => fetch(`${server.url}${p}`, { headers: h });
			for (const p of ['/sw.js', '/manifest.webmanifest', '/', '/activity/jobs']) {
				const r = await get(p);
				assert.equal(r.status, 200, p);
				assert.equal(r.headers.get('cache-control'), 'no-cache', p);
			}
			assert.match((await get('/manifest.webmanifest')).headers.get('content-type'), /manifest\+json/);
			assert.match((await get('/sw.js')).headers.get('content-type'), /javascript/);
			const html = await (await get('/activity/jobs')).text();
			assert.ok(!html.includes('__tapearr_base__'), 'the base placeholder is replaced');
			const js = html.match(/"(\/_app\/immutable\/[^"]+\.js)"/)[1];
			const asset = await get(js);
			assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
			const etag = asset.headers.get('etag');
			assert.equal((await get(js, { 'If-None-Match': etag })).status, 304);
			const api404 = await get('/api/v1/nope');
			assert.equal(api404.status, 404);
			assert.equal((await api404.json()).code, 'not_found');
			assert.equal((await get('/_app/immutable/missing.js')).status, 404);
		} finally {
			await server.stop();
		}
	},

	async 'a webhook channel is added, tested and edited without showing its secret'() {
		const hook = await receiver(() => [200]);
		try {
			await withApp({}, async ({ server, page }) => {
				await login(page, server);
				await page.goto(`${server.url}/settings/notifications`);
				await page.getByText('No notification channels yet').waitFor();
				await page.getByLabel('Name').fill('e2e-hook');
				await page.getByLabel('Service').selectOption('webhook');
				await page.getByLabel('URL').fill(`${hook.url}/tapearr`);
				await page.getByLabel('Signing secret (optional)').fill('e2e-secret-value');
				await page.getByRole('button', { name: 'Add channel' }).click();
				const row = page.locator('tr[data-channel="e2e-hook"]');
				await row.waitFor();
				await row.getByRole('button', { name: 'Test' }).click();
				await row.getByText('Test message sent.').waitFor();
				const got = hook.seen.at(-1);
				assert.equal(got.url, '/tapearr');
				assert.match(got.headers['x-tapearr-signature'], /^sha256=[0-9a-f]{64}$/);
				assert.equal(JSON.parse(got.body).title, 'Tapearr test');

				await row.getByRole('button', { name: 'Edit e2e-hook' }).click();
				assert.equal(await page.getByLabel('Signing secret (optional)').inputValue(), '***');
				assert.ok(!(await page.content()).includes('e2e-secret-value'), 'the secret never reaches the page');
				await page.getByLabel('Name').fill('e2e-hook-2');
				await page.getByRole('button', { name: 'Save changes' }).click();
				await page.locator('tr[data-channel="e2e-hook-2"]').getByRole('button', { name: 'Test' }).click();
				await page.getByText('Test message sent.').waitFor();
				assert.equal(hook.seen.length, 2);
				assert.equal(hook.seen[1].headers['x-tapearr-signature'].length, 71, 'still signed with the kept secret');
				noProblems(page);
			});
		} finally {
			await hook.close();
		}
	},

	async 'Settings → Import previews a Trailarr database first, imports it when asked, and shows why a file is refused'() {
		const fixture = fileURLToPath(new URL('./fixtures/trailarr.db', import.meta.url));
		await withApp({ viewport: { width: 390, height: 844 } }, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/settings/import`);
			await page.getByRole('heading', { name: 'Import', exact: true }).waitFor();
			await page.getByLabel('Trailarr database').fill(join(server.dataDir, 'secret.key'));
			await page.getByRole('button', { name: 'Preview import' }).click();
			await page.getByText(/not a Trailarr database|cannot open the source/).waitFor();

			await page.getByLabel('Trailarr database').fill(fixture);
			assert.ok(await page.getByLabel('Dry run: only show what would happen').isChecked(), 'a dry run by default');
			await page.getByRole('button', { name: 'Preview import' }).click();
			await page.getByTestId('import-summary').getByText('Dry run:').waitFor();
			await page.locator('table[data-section="created"]').getByText('Radarr 4K', { exact: true }).waitFor();
			await page.locator('table[data-section="skipped"]').getByText('天気の子', { exact: true }).waitFor();
			await page.locator('table[data-section="not-mapped"]').getByText(/audio format ac3/).first().waitFor();
			if (process.env.E2E_SHOTS) await page.screenshot({ path: join(process.env.E2E_SHOTS, 'import-390.png'), fullPage: true });
			const none = await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json();
			assert.deepEqual(none, [], 'the preview wrote nothing');

			await page.getByLabel('Dry run: only show what would happen').uncheck();
			await page.getByRole('button', { name: 'Import now' }).click();
			await page.getByTestId('import-summary').getByText('Imported.').waitFor();
			const conns = await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json();
			assert.deepEqual(conns.map((c) => c.name), ['Radarr 4K']);
			assert.ok(!(await page.content()).includes('e2e-radarr-key'), 'the key never reaches the page');
			const refused = page.problems.filter((p) => p.includes('400') && p.includes('/api/v1/import/trailarr)'));
			assert.equal(refused.length, 1, page.problems.join('\n'));
			assert.deepEqual(page.problems.filter((p) => !refused.includes(p)), []);
		});
	},

	async 'Settings → Import previews a StreamVault database first, never shows its URL, and says why a source is refused'() {
		// A StreamVault database from its schema in a throwaway PostgreSQL schema, when the tests have PostgreSQL.
		const pg = process.env.TAPEARR_TEST_PG_URL;
		let source = null;
		if (pg) {
			const { execFileSync } = await import('node:child_process');
			const schema = `e2e_sv_${Date.now()}`;
			const sql = fileURLToPath(new URL('../../crates/tapearr/tests/fixtures/streamvault_schema.sql', import.meta.url));
			execFileSync('psql', [pg, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE SCHEMA ${schema}`]);
			execFileSync('psql', [`${pg}${pg.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`, '-v', 'ON_ERROR_STOP=1', '-q', '-f', sql, '-c',
				"INSERT INTO streamers (twitch_id, username, auto_record) VALUES ('1002', 'speedrunner_42', true)"]);
			source = `${pg}${pg.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
		}
		await withApp({ viewport: { width: 390, height: 844 } }, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/settings/import`);
			await page.getByRole('heading', { name: 'Import', exact: true }).waitFor();
			const url = page.getByLabel('StreamVault database URL');
			assert.equal(await url.getAttribute('type'), 'password', 'the URL may hold a password: never shown');

			await url.fill('sqlite:///tmp/streamvault.db');
			await page.getByRole('button', { name: 'Preview StreamVault import' }).click();
			await page.getByText(/expected a postgres:\/\/ URL/).waitFor();
			await url.fill('postgres://sv:e2e-hunter2@127.0.0.1:1/streamvault');
			await page.getByRole('button', { name: 'Preview StreamVault import' }).click();
			await page.getByText(/cannot open the source/).waitFor();
			assert.ok(!(await page.content()).includes('e2e-hunter2'), 'the password never reaches the page');
			const refused = page.problems.filter((p) => p.includes('400') && p.includes('/api/v1/import/streamvault)'));
			assert.equal(refused.length, 2, page.problems.join('\n'));
			assert.deepEqual(page.problems.filter((p) => !refused.includes(p)), []);

			if (!source) return;
			await url.fill(source);
			assert.ok(await page.getByLabel("Dry run: only show what StreamVault's import would do").isChecked(), 'a dry run by default');
			await page.getByRole('button', { name: 'Preview StreamVault import' }).click();
			await page.getByTestId('import-summary').getByText('Dry run:').waitFor();
			await page.locator('table[data-section="created"]').getByText('speedrunner_42', { exact: true }).waitFor();
			if (process.env.E2E_SHOTS) await page.screenshot({ path: join(process.env.E2E_SHOTS, 'import-streamvault-390.png'), fullPage: true });
			const none = await (await page.request.get(`${server.url}/api/v1/channels`)).json();
			assert.deepEqual(none, [], 'the preview wrote nothing');
			await page.getByLabel("Dry run: only show what StreamVault's import would do").uncheck();
			await page.getByRole('button', { name: 'Import StreamVault now' }).click();
			await page.getByTestId('import-summary').getByText('Imported.').waitFor();
			const channels = await (await page.request.get(`${server.url}/api/v1/channels`)).json();
			assert.deepEqual(channels.map((c) => c.login), ['speedrunner_42']);
			assert.ok(!(await page.content()).includes(pg), 'the URL is not echoed');
		});
	},

	async 'a Jellyfin server is added, tested and asked to rescan a folder'() {
		const jellyfin = await receiver((req) =>
			req.url.startsWith('/System/Info/Public') ? [200, { ServerName: 'e2e-jellyfin', Version: '10.11.11', ProductName: 'Jellyfin Server' }] : [204]
		);
		try {
			await withApp({}, async ({ server, page }) => {
				await login(page, server);
				await page.goto(`${server.url}/settings/media-servers`);
				await page.getByText('No media servers yet').waitFor();
				await page.getByLabel('Type').selectOption('jellyfin');
				await page.getByLabel('Name').fill('den');
				await page.getByLabel('URL').fill(jellyfin.url);
				await page.getByLabel('Token').fill('jf-key');
				await page.getByRole('button', { name: 'Add mapping' }).click();
				await page.getByLabel('Folder as Tapearr sees it').fill('/media');
				await page.getByLabel('Folder as the server sees it').fill('/data');
				await page.getByRole('button', { name: 'Add media server' }).click();
				const row = page.locator('tr[data-server="den"]');
				await row.waitFor();
				await row.getByRole('button', { name: 'Test' }).click();
				await row.getByText('Reached “e2e-jellyfin” (version 10.11.11).').waitFor();

				await row.getByRole('button', { name: 'Edit den' }).click();
				assert.equal(await page.getByLabel('Token').inputValue(), '***');
				assert.ok(!(await page.content()).includes('jf-key'), 'the token never reaches the page');
				await page.getByRole('button', { name: 'Cancel' }).click();

				await page.getByLabel('Folder (as Tapearr sees it)').fill('/media/tv/Show');
				await page.getByRole('button', { name: 'Rescan' }).click();
				await page.getByText('Queued 1 rescan job').waitFor();
				// Jellyfin is told about the folder as it sees it (the mapping applied).
				const update = await jellyfin.request((r) => r.body.includes('/data/tv/Show'));
				assert.match(update.headers.authorization, /^MediaBrowser .*Token="jf-key"/);
				noProblems(page);
			});
		} finally {
			await jellyfin.close();
		}
	},

	async 'the app shell JavaScript is under 300 KB gzipped on first load'() {
		await withApp({ admin: false }, async ({ server, page }) => {
			// Each script's gzipped size, once its body has arrived (awaited below, before the sum).
			const sizes = [];
			page.on('response', (r) => {
				if (r.request().resourceType() === 'script') {
					const size = r.body().then((body) => ({ url: r.url().replace(server.url, ''), gz: gzipSync(body).length }));
					size.catch(() => {}); // a failed read fails the test at Promise.all, not the process
					sizes.push(size);
				}
			});
			await page.goto(`${server.url}/`);
			await page.getByRole('heading', { name: 'Welcome to Tapearr' }).waitFor();
			await page.waitForLoadState('networkidle');
			const scripts = await Promise.all(sizes);
			const total = scripts.reduce((sum, s) => sum + s.gz, 0);
			const files = scripts.map((s) => `${s.url} ${s.gz} B`);
			console.log(`      first-load JS: ${(total / 1024).toFixed(1)} KB gzipped (${files.join(', ')})`);
			assert.ok(files.length > 0);
			assert.ok(total < 300 * 1024, `${total} bytes gzipped`);
			noProblems(page);
		});
	},

	async 'a new server with no configuration is set up in the browser, from the admin to a recording channel and a placed trailer (phone and desktop)'() {
		for (const viewport of [
			{ width: 390, height: 844 },
			{ width: 1440, height: 900 }
		]) {
			const twitch = await fakeTwitch();
			const fakes = await fakeTrailers();
			const library = mkdtempSync(join(tmpdir(), 'tapearr-e2e-library-'));
			const dataDir = dataDirWithTools();
			const shot = async (page, name) => {
				if (process.env.E2E_SHOTS) await page.screenshot({ path: join(process.env.E2E_SHOTS, `${name}-${viewport.width}.png`), fullPage: true, animations: 'disabled' });
			};
			// Only where the fakes are: no credentials and no library folder.
			const { TAPEARR_TWITCH__CLIENT_ID: clientId, TAPEARR_TWITCH__CLIENT_SECRET: clientSecret, TAPEARR_TWITCH__POLL_SECS: _poll, ...urls } = twitch.env;
			const { TAPEARR_LIBRARY_ROOTS: _roots, ...trailerUrls } = fakes.env(library);
			// Radarr sees its movie under /movies; Tapearr sees it inside the library folder.
			const movieDir = join(library, 'movies', 'Midnight Harbor (2019)');
			mkdirSync(movieDir, { recursive: true });
			writeFileSync(join(movieDir, 'Midnight Harbor (2019).mkv'), 'not really a movie');
			await fakes.control('radarr', '/movies', { tmdbId: 910001, title: 'Midnight Harbor', year: 2019, path: '/movies/Midnight Harbor (2019)', hasFile: true });
			await fakes.control('tmdb', '/videos/movie/910001', [tmdbVideo('mhtrailer01', 'Midnight Harbor | Official Trailer')]);
			await fakes.control('videoOrigin', '/videos/mhtrailer01', { title: 'Midnight Harbor (2019) Official Trailer', seconds: 3 });
			try {
				await withApp({ admin: false, viewport, dataDir, env: { ...urls, ...trailerUrls } }, async ({ server, page }) => {
					await twitch.control('/users', { login: 'first_one', display_name: 'FirstOne' });
					await page.goto(`${server.url}/`);
					await page.waitForURL(`${server.url}/setup`);
					await page.getByLabel('User name').fill(ADMIN.username);
					await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
					await page.getByLabel('Repeat the password').fill(ADMIN.password);
					await page.getByRole('button', { name: 'Create the admin account' }).click();
					await page.waitForURL(/\/login/);
					await page.getByLabel('Password').fill(ADMIN.password);
					await page.getByRole('button', { name: 'Sign in' }).click();

					// 1. Library folder, found with the folder browser.
					await page.getByRole('heading', { name: 'Set up Tapearr' }).waitFor();
					await page.getByLabel('Folder', { exact: true }).fill(library);
					await page.getByRole('button', { name: 'Browse' }).click();
					await page.getByRole('button', { name: 'Use this folder' }).click();
					await page.getByRole('list', { name: 'Library folders' }).getByText(library).waitFor();
					await page.getByRole('button', { name: 'Save and continue' }).click();

					// 2. Twitch: a wrong secret is refused by the Test, the right one accepted and saved.
					await page.getByRole('heading', { name: 'Twitch', exact: true }).waitFor();
					await page.getByLabel('Client ID').fill(clientId);
					await page.getByLabel('Client secret').fill('not-the-secret');
					await page.getByRole('button', { name: 'Test' }).click();
					await page.locator('p.text-danger[role="status"]').waitFor();
					const refused = page.problems.findIndex((p) => p.includes('502'));
					if (refused >= 0) page.problems.splice(refused, 1);
					await page.getByLabel('Client secret').fill(clientSecret);
					await page.getByRole('button', { name: 'Test' }).click();
					await page.getByText('Twitch accepted these credentials.').waitFor();
					await page.getByLabel('Check for live channels every (seconds)').fill('1');
					await page.getByRole('button', { name: 'Save', exact: true }).click();
					await page.getByText('Saved.').waitFor();
					await page.getByLabel('Channel name or link').fill('first_one');
					await page.getByRole('button', { name: 'Add channel' }).click();
					await page.getByText('Watching FirstOne').waitFor();
					await page.getByRole('button', { name: 'Continue' }).click();

					// 3. Trailers: Radarr, with its folder mapped to Tapearr's; a wrong key is refused by the Test.
					await page.getByRole('heading', { name: 'Trailers', exact: true }).waitFor();
					await page.getByLabel('Type').selectOption('plex');
					await page.getByRole('button', { name: 'Sign in with Plex' }).waitFor();
					await shot(page, 'wizard-trailers-plex');
					await page.getByLabel('Type').selectOption('radarr');
					await page.getByLabel('URL').fill(fakes.ready.radarr.url);
					await page.getByLabel('API key').fill('not-the-key');
					await page.getByRole('button', { name: 'Test', exact: true }).click();
					await page.locator('p.text-danger[role="status"]').waitFor();
					const wrongKey = page.problems.findIndex((p) => p.includes('502'));
					if (wrongKey >= 0) page.problems.splice(wrongKey, 1);
					await page.getByLabel('API key').fill(fakes.ready.radarr.apiKey);
					await page.getByRole('button', { name: 'Add mapping' }).click();
					await page.getByLabel('Folder as Radarr sees it').fill('/movies');
					await page.getByLabel('Folder as Tapearr sees it').fill(join(library, 'movies'));
					await page.getByRole('button', { name: 'Test', exact: true }).click();
					await page.getByRole('status').getByText(/^Reached Radarr \d/).waitFor();
					await shot(page, 'wizard-trailers');
					await page.getByRole('button', { name: 'Add connection' }).click();
					await page.getByText('Added Radarr: its library is syncing').waitFor();
					assert.ok(!(await page.content()).includes(fakes.ready.radarr.apiKey), 'the key is not left on the page');
					await page.getByRole('button', { name: 'Continue' }).click();
					await page.getByRole('button', { name: 'Finish' }).click();
					await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

					// Recorded without a restart, into the chosen folder.
					await twitch.control('/live/first_one', { title: 'Set up in the browser', game: 'Chess' });
					await page.goto(`${server.url}/streams`);
					await page.locator('article[data-channel="first_one"][data-recording="yes"]').waitFor({ timeout: 20_000 });
					await until(() => existsSync(join(library, 'first_one')), { what: 'the recording in the library folder' });

					// The settings pages show what the guide saved; the secret only as set.
					await page.goto(`${server.url}/settings/twitch`);
					const secretField = page.locator('[data-setting="twitch.client_secret"]');
					await secretField.getByText('set', { exact: true }).waitFor();
					assert.equal(await page.getByLabel('Client secret').inputValue(), '');
					assert.equal(await page.getByLabel('Client ID').inputValue(), clientId);
					await page.goto(`${server.url}/settings/library`);
					await page.getByRole('list', { name: 'Library folders' }).getByText(library).waitFor();
					await twitch.control('/offline/first_one');

					// The movie Radarr listed is in Trailers by itself; its trailer is found, downloaded and placed.
					await page.goto(`${server.url}/trailers/movies`);
					const tile = page.locator('li[data-title="Midnight Harbor"]');
					await tile.waitFor({ timeout: 30_000 });
					await tile.getByRole('link', { name: 'Midnight Harbor' }).click();
					await page.getByRole('heading', { name: 'Midnight Harbor', exact: true, level: 1 }).waitFor();
					const card = page.locator('section[data-profile="Beside the media (Plex, Jellyfin, Emby)"]');
					await card.getByRole('button', { name: 'Find candidates' }).click();
					const trailer = card.locator('li[data-video="mhtrailer01"]');
					await trailer.waitFor({ timeout: 30_000 });
					await trailer.getByRole('button', { name: 'Use this' }).click();
					await card.getByTestId('download-status').getByText('Downloaded.').waitFor({ timeout: 90_000 });
					const placed = join(movieDir, 'Midnight Harbor (2019)-trailer.mp4');
					await until(() => existsSync(placed), { what: 'the trailer beside the movie' });

					// Finished: the server remembers, so the guide is not offered again.
					const settings = await page.request.get(`${server.url}/api/v1/settings`);
					assert.equal((await settings.json()).wizard_done, true);
					noProblems(page);
				});
			} finally {
				await twitch.stop();
				await fakes.stop();
				rmSync(library, { recursive: true, force: true });
				rmSync(dataDir, { recursive: true, force: true });
			}
		}
	},

	async 'a channel added in the app goes live, records with a growing byte counter and ends, all without a reload'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'e2e_streamer', display_name: 'E2E_Streamer' });
				await login(page, server);
				await page.getByRole('link', { name: 'Streams' }).click();
				await page.getByRole('heading', { name: 'Streams', exact: true }).waitFor();
				await page.getByText('No channels yet').waitFor();
				assert.equal(await page.getByText('Twitch is not configured').count(), 0, 'Twitch is configured here');
				await markDocument(page);

				// The API's words for a channel Twitch does not know.
				await page.getByLabel('Channel', { exact: true }).fill('nobody_here');
				await page.getByRole('button', { name: 'Add channel' }).click();
				await page.getByRole('alert').getByText('no Twitch channel is called nobody_here').waitFor();
				// Chromium logs that answer as a failed resource; it is the one expected here.
				const expected = page.problems.findIndex((p) => p.includes('404') && p.includes('/api/v1/channels)'));
				assert.ok(expected >= 0);
				page.problems.splice(expected, 1);

				await page.getByLabel('Channel', { exact: true }).fill('https://www.twitch.tv/e2e_streamer');
				assert.ok(await page.getByLabel('Record automatically when live').isChecked());
				await page.getByRole('button', { name: 'Add channel' }).click();
				const card = page.locator('article[data-channel="e2e_streamer"]');
				await card.getByText('E2E_Streamer').waitFor();
				await page.locator('article[data-channel="e2e_streamer"][data-live="no"]').waitFor();
				await card.getByText('offline').waitFor();
				await page.getByRole('alert').waitFor({ state: 'detached' });

				// Live: the card turns live and its recording's size grows by itself.
				await twitch.control('/live/e2e_streamer', { title: 'Any% practice', game: 'Celeste' });
				await page.locator('article[data-channel="e2e_streamer"][data-live="yes"]').waitFor({ timeout: 15_000 });
				await card.getByText('Any% practice').waitFor();
				await card.getByText('Celeste').waitFor();
				await page.locator('article[data-channel="e2e_streamer"][data-recording="yes"]').waitFor({ timeout: 15_000 });
				const bytesSel = 'article[data-channel="e2e_streamer"] [data-testid="rec-bytes"]';
				const first = await numberAbove(page, bytesSel, 'data-bytes', 0);
				const second = await numberAbove(page, bytesSel, 'data-bytes', first);
				assert.ok(second > first, `the byte counter grew (${first} → ${second})`);
				assert.match(await card.getByTestId('rec-bytes').textContent(), /\d+(\.\d)? (B|KB|MB)/);

				// A title change while live shows up too.
				await twitch.control('/channel/e2e_streamer', { title: 'Any% attempts', game: 'Celeste' });
				await card.getByText('Any% attempts').waitFor({ timeout: 15_000 });

				// Offline: the card says so and the recording ended.
				await twitch.control('/offline/e2e_streamer');
				await page.locator('article[data-channel="e2e_streamer"][data-live="no"][data-recording="no"]').waitFor({ timeout: 30_000 });
				await card.getByTestId('rec-outcome').getByText(/Recording ended/).waitFor();
				await stillSameDocument(page);

				// The channel page has the stream with its events and the finished recording.
				await card.getByRole('link', { name: 'Details' }).click();
				await page.getByRole('heading', { name: 'E2E_Streamer', exact: true }).waitFor();
				// Ended, and finalize may already have made it an MP4.
				await page.locator('tr:is([data-status="ended"], [data-status="finalizing"], [data-status="ready"])').waitFor();
				const stream = page.locator('li[data-stream]').first();
				await stream.getByText('start', { exact: true }).waitFor();
				await stream.getByText('end', { exact: true }).waitFor();
				await stillSameDocument(page);
				noProblems(page);
			});
		});
	},

	async 'channel settings are saved, and removing a channel asks what happens to its recordings'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'settings_test', display_name: 'SettingsTest' });
				await login(page, server);
				await page.goto(`${server.url}/streams`);
				await page.getByLabel('Channel', { exact: true }).fill('settings_test');
				await page.getByLabel('Record automatically when live').uncheck();
				await page.getByRole('button', { name: 'Add channel' }).click();
				const card = page.locator('article[data-channel="settings_test"]');
				await card.getByText('Auto-record off').waitFor();

				await card.getByRole('button', { name: 'Favourite SettingsTest' }).click();
				await page.locator('article[data-channel="settings_test"] button[aria-pressed="true"]').waitFor();

				await card.getByRole('link', { name: 'Details' }).click();
				await page.getByRole('heading', { name: 'SettingsTest', exact: true }).waitFor();
				assert.ok(await page.getByLabel('Favourite (listed first)').isChecked());
				await page.getByLabel('Record automatically when live').check();
				await page.getByLabel('Quality').selectOption('audio_only');
				await page.getByLabel('AV1').check();
				await page.getByLabel('Naming template').fill('{channel}/{yyyy-mm-dd} {title} {nn}.mp4');
				assert.ok(!(await page.getByLabel('Fetch playlists through the proxy list').isChecked()));
				await page.getByLabel('Fetch playlists through the proxy list').check();
				await page.getByRole('button', { name: 'Save settings' }).click();
				await page.getByText('Saved.').waitFor();
				const id = page.url().split('/').pop();
				const c = await (await page.request.get(`${server.url}/api/v1/channels/${id}`)).json();
				assert.equal(c.auto_record, true);
				assert.equal(c.quality, 'audio_only');
				assert.deepEqual(c.codecs.split(',').sort(), ['av1', 'h264', 'h265']);
				assert.equal(c.naming_template, '{channel}/{yyyy-mm-dd} {title} {nn}.mp4');
				assert.equal(c.use_playlist_proxy, true);
				await page.reload();
				await page.getByRole('heading', { name: 'SettingsTest', exact: true }).waitFor();
				assert.ok(await page.getByLabel('Fetch playlists through the proxy list').isChecked());

				// Removing needs an explicit choice.
				await page.getByRole('button', { name: 'Remove channel…' }).click();
				const dialog = page.getByRole('dialog');
				await dialog.getByRole('heading', { name: 'Remove SettingsTest?' }).waitFor();
				assert.ok(await dialog.getByRole('button', { name: 'Remove channel' }).isDisabled());
				await dialog.getByRole('button', { name: 'Cancel' }).click();
				await dialog.waitFor({ state: 'hidden' });
				await page.getByRole('button', { name: 'Remove channel…' }).click();
				await dialog.getByLabel(/Keep the recordings/).check();
				await dialog.getByRole('button', { name: 'Remove channel' }).click();
				await page.getByRole('heading', { name: 'Streams', exact: true }).waitFor();
				await page.getByText('No channels yet').waitFor();
				noProblems(page);
			});
		});
	},

	async 'Settings → Twitch connects an account, imports the followed channels and disconnects'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'viewer', display_name: 'Viewer' });
				await twitch.control('/users', { login: 'followed_one', display_name: 'FollowedOne' });
				await twitch.control('/users', { login: 'followed_two', display_name: 'FollowedTwo' });
				await twitch.control('/follow/viewer/followed_one');
				await twitch.control('/follow/viewer/followed_two');
				const { token } = await twitch.control('/token/viewer');
				await login(page, server);
				await page.goto(`${server.url}/settings/twitch`);
				await page.getByRole('heading', { name: 'Twitch', exact: true }).waitFor();
				await page.getByTestId('twitch-configured').getByText('configured').waitFor();
				assert.ok(await page.getByRole('button', { name: 'Import followed channels' }).isDisabled());

				await page.getByLabel('User access token').fill(token);
				await page.getByRole('button', { name: 'Connect account' }).click();
				await page.getByTestId('twitch-account').getByText('viewer').waitFor();
				await page.getByRole('button', { name: 'Import followed channels' }).click();
				const result = page.getByTestId('import-result');
				await result.getByText('Added 2 channels').waitFor();
				await result.getByText('followed_one').waitFor();

				await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
				await page.getByRole('button', { name: 'Disconnect viewer' }).click();
				await page.getByLabel('User access token').waitFor();

				await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Streams' }).click();
				await page.locator('article[data-channel="followed_one"]').waitFor();
				await page.locator('article[data-channel="followed_two"]').waitFor();
				noProblems(page);
			});
		});
	},

	async 'Settings → Twitch signs in with a device code: the code is shown large, the fake approves, the login and expiry appear'() {
		for (const viewport of [{ width: 390, height: 844 }, { width: 1440, height: 900 }]) {
			await withTwitch(async ({ twitch, env }) => {
				await withApp({ env, viewport }, async ({ server, page }) => {
					await twitch.control('/users', { login: 'viewer', display_name: 'Viewer' });
					await twitch.control('/device-code/600/1');
					await login(page, server);
					await page.goto(`${server.url}/settings/twitch`);
					await page.getByTestId('twitch-configured').getByText('configured').waitFor();
					// Which token is which: the paste form says the web player's token is for ad-free playback.
					await page.getByText('only that token is accepted for playback').waitFor();

					// Declined first: said plainly, and a new code can be asked for.
					await page.getByRole('button', { name: 'Sign in with Twitch' }).click();
					const code = page.getByTestId('twitch-user-code');
					await code.waitFor();
					await twitch.control(`/device/${(await code.textContent()).trim()}/deny`);
					await page.getByText('You declined on Twitch').waitFor();

					await page.getByRole('button', { name: 'Sign in with Twitch' }).click();
					await code.waitFor();
					const userCode = (await code.textContent()).trim();
					assert.match(userCode, /^[A-Z]{8}$/);
					const link = page.getByTestId('twitch-sign-in').getByRole('link');
					assert.match(await link.getAttribute('href'), /\/activate\?/);
					await page.getByText('Waiting for you to approve on Twitch').waitFor();
					if (process.env.E2E_SHOTS) {
						await page.screenshot({ path: join(process.env.E2E_SHOTS, `twitch-sign-in-${viewport.width}.png`), fullPage: true });
					}

					await twitch.control(`/device/${userCode}/approve/viewer`);
					await page.getByTestId('twitch-account').getByText('viewer').waitFor();
					await page.getByTestId('twitch-token-expiry').getByText('renewed automatically').waitFor();
					if (process.env.E2E_SHOTS) {
						await page.screenshot({ path: join(process.env.E2E_SHOTS, `twitch-signed-in-${viewport.width}.png`), fullPage: true });
					}
					const body = await (await page.request.get(`${server.url}/api/v1/twitch`)).text();
					assert.ok(!/access_token|refresh_token/.test(body), 'no token in the status');
					noProblems(page);
				});
			});
		}
	},

	async 'the recording page replays the chat beside the video, in step with seeks'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'chat_test', display_name: 'ChatTest' });
				await login(page, server);
				const channel = await (await apiPost(page, server, '/api/v1/channels', { channel: 'chat_test' })).json();
				await twitch.control('/live/chat_test', { title: 'Chatting', game: 'Just Chatting' });
				const rec = await recordingWhere(page, server, channel.id, (r) => r.status === 'recording' && r.media_ms >= 1000, '1 s recorded');
				const chatOf = async () => (await (await page.request.get(`${server.url}/api/v1/recordings/${rec.id}/chat`)).json()).messages;
				// Chat has no backlog: say hello until the recorder has joined and caught one.
				await until(
					async () => {
						await twitch.control('/chat/chat_test', { user: 'Warm', text: 'hello' });
						return (await chatOf()).length > 0;
					},
					{ timeout: 30_000, every: 500, what: 'the chat captured' }
				);
				await twitch.control('/chat/chat_test', { user: 'Early', text: 'early words' });
				const atEarly = (await recordingsOf(page, server, channel.id))[0].media_ms;
				await recordingWhere(page, server, channel.id, (r) => r.media_ms >= atEarly + 4000, '4 s more recorded');
				await twitch.control('/chat/chat_test', { user: 'Late', text: 'late words' });
				const atLate = (await recordingsOf(page, server, channel.id))[0].media_ms;
				await recordingWhere(page, server, channel.id, (r) => r.media_ms >= atLate + 4000, '4 s more recorded');
				await twitch.control('/offline/chat_test');
				await recordingWhere(page, server, channel.id, (r) => r.status === 'ready', 'finalized', 60_000);
				const lines = await chatOf();
				const early = lines.find((l) => l.text === 'early words');
				const late = lines.find((l) => l.text === 'late words');
				assert.ok(early && late && late.ms - early.ms >= 3000, JSON.stringify(lines));

				await page.goto(`${server.url}/recordings/${rec.id}`);
				const player = page.locator('[data-testid="player"]');
				const chat = page.getByTestId('chat');
				await page.waitForFunction((el) => el.readyState >= 1 && el.duration > 0, await player.elementHandle(), { timeout: 15_000 });
				const seekTo = (ms) => player.evaluate((v, t) => (v.currentTime = t), ms / 1000);
				// Between the two: the early line is there, the late one not yet.
				await seekTo(early.ms + 1000);
				await chat.getByText('early words').waitFor();
				assert.equal(await chat.getByText('late words').count(), 0);
				// Past the late one: both, the late one last.
				await seekTo(late.ms + 500);
				await chat.getByText('late words').waitFor();
				assert.equal(await chat.locator('li').last().locator('.text').textContent(), 'late words');
				// Back before the early one: it is gone again.
				await seekTo(Math.max(0, early.ms - 500));
				await chat.getByText('early words').waitFor({ state: 'detached' });
			});
		});
	},

	async 'a recording turns ready in the list by itself, plays with its chapters, seeks by Range, is kept, and bulk delete removes it after a confirmation'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'library_test', display_name: 'LibraryTest' });
				await login(page, server);
				const channel = await (await apiPost(page, server, '/api/v1/channels', { channel: 'library_test', auto_record: true })).json();

				// A broadcast in two categories: a chapter each.
				await twitch.control('/live/library_test', { title: 'First half', game: 'Celeste' });
				const started = await recordingWhere(page, server, channel.id, (r) => r.status === 'recording' && r.media_ms >= 4000, '4 s recorded');
				await twitch.control('/channel/library_test', { title: 'Second half', game: 'Portal 2' });
				await until(async () => (await (await page.request.get(`${server.url}/api/v1/channels/${channel.id}`)).json()).category === 'Portal 2', {
					what: 'the category change seen'
				});
				const changed = (await recordingsOf(page, server, channel.id))[0].media_ms;
				await recordingWhere(page, server, channel.id, (r) => r.media_ms >= changed + 4000, '4 s more recorded');

				// The list follows the recording from running to finalized by itself.
				await page.goto(`${server.url}/recordings`);
				await page.getByRole('heading', { name: 'Recordings', exact: true }).waitFor();
				await markDocument(page);
				await page.locator(`[data-recording="${started.id}"][data-status="recording"]`).getByRole('link', { name: 'Watch live' }).waitFor();
				await twitch.control('/offline/library_test');
				const tile = page.locator(`[data-recording="${started.id}"][data-status="ready"]`);
				await tile.waitFor({ timeout: 60_000 });
				await tile.locator('img').waitFor();
				await stillSameDocument(page);
				const rec = (await recordingsOf(page, server, channel.id))[0];
				assert.equal(rec.status, 'ready');

				// The recording page: the player streams the MP4 with Range requests.
				const videoResponses = [];
				page.on('response', (r) => {
					if (r.url().endsWith(`/api/v1/recordings/${rec.id}/video`))
						videoResponses.push({ status: r.status(), range: r.request().headers().range, contentRange: r.headers()['content-range'] });
				});
				await tile.getByRole('link', { name: 'First half' }).click();
				await page.getByRole('heading', { name: 'First half', exact: true }).waitFor();
				const player = '[data-testid="player"]';
				const chapters = page.getByRole('region', { name: 'Chapters' });
				await chapters.getByRole('button', { name: /Celeste/ }).waitFor();
				await chapters.getByRole('button', { name: /Portal 2/ }).waitFor();
				assert.equal(await page.locator(`${player} track[kind="chapters"]`).count(), 1);

				// Clicking a chapter seeks there and plays (a click lets the page start sound).
				await chapters.getByRole('button', { name: /Celeste/ }).click();
				const t1 = await videoTime(page, player, { above: 0.5 });
				await videoTime(page, player, { above: t1 + 0.5 });
				const second = await chapters.getByRole('button', { name: /Portal 2/ }).getAttribute('data-start-ms');
				await chapters.getByRole('button', { name: /Portal 2/ }).click();
				await videoTime(page, player, { above: Number(second) / 1000 - 0.25 });
				await chapters.locator(`button[aria-current="true"][data-start-ms="${second}"]`).waitFor();

				// Near the end: the player seeks there and keeps going.
				const length = await page.locator(player).evaluate((v) => v.duration);
				assert.ok(length >= 7, `the MP4 is ${length} s long`);
				await page.locator(player).evaluate((v, t) => (v.currentTime = t), length - 2);
				await videoTime(page, player, { above: length - 1.9 });
				assert.ok(
					videoResponses.some((r) => r.status === 206 && r.range && /^bytes \d+-\d+\/\d+$/.test(r.contentRange ?? '')),
					`a Range request answered 206: ${JSON.stringify(videoResponses)}`
				);

				// Keep: the star is saved.
				await page.getByRole('button', { name: 'Keep', exact: true }).click();
				await page.locator('button[aria-pressed="true"]', { hasText: 'Keep' }).waitFor();
				assert.equal((await recordingsOf(page, server, channel.id))[0].keep, true);

				// The list: select it and delete it, after a confirmation that names the count.
				await page.getByRole('link', { name: 'All recordings' }).click();
				await page.getByRole('heading', { name: 'Recordings', exact: true }).waitFor();
				await markDocument(page);
				await tile.getByRole('checkbox', { name: /Select First half/ }).check();
				await page.getByRole('button', { name: 'Delete selected…' }).click();
				const dialog = page.getByRole('dialog');
				await dialog.getByRole('heading', { name: 'Delete 1 recording?' }).waitFor();
				await dialog.getByRole('button', { name: 'Cancel' }).click();
				await dialog.waitFor({ state: 'hidden' });
				assert.equal(await tile.count(), 1, 'Cancel deletes nothing');
				await page.getByRole('button', { name: 'Delete selected…' }).click();
				await dialog.getByRole('button', { name: 'Delete 1 recording' }).click();
				await page.getByRole('status').getByText(/Deleted 1 recording, freed \d/).waitFor();
				await tile.waitFor({ state: 'detached' });
				await page.getByText('No recordings yet').waitFor();
				assert.equal((await page.request.get(`${server.url}/api/v1/recordings/${rec.id}`)).status(), 404);
				await stillSameDocument(page);
				noProblems(page);
			});
		});
	},

	async 'watch live plays the running recording, from the start and back to live'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'watch_test', display_name: 'WatchTest' });
				await login(page, server);
				const channel = await (await apiPost(page, server, '/api/v1/channels', { channel: 'watch_test', auto_record: true })).json();
				await twitch.control('/live/watch_test', { title: 'Live now', game: 'Celeste' });
				// Enough recorded that the live edge is well past the start.
				await recordingWhere(page, server, channel.id, (r) => r.status === 'recording' && r.media_ms >= 8000, '8 s recorded');

				await page.goto(`${server.url}/streams`);
				const card = page.locator('article[data-channel="watch_test"][data-recording="yes"]');
				await card.getByRole('link', { name: 'Watch WatchTest' }).click();
				await page.getByRole('heading', { name: 'Watch WatchTest' }).waitFor();
				const player = '[data-testid="live-player"]';
				await page.locator(`${player}[data-engine="hls.js"]`).waitFor();
				// It starts at the live edge and plays.
				const t0 = await videoTime(page, player, { above: 3 });
				await videoTime(page, player, { above: t0 + 0.5 });
				await page.getByRole('status').getByText('● live').waitFor();

				// From the start: back to 0 of the recording, and on from there.
				await page.getByRole('button', { name: 'From the start' }).click();
				const early = await videoTime(page, player, { above: 0, below: 2 });
				await videoTime(page, player, { above: early + 0.5, below: 5 });
				await page.getByRole('status').getByText(/behind live/).waitFor();

				// Go live: back near the edge.
				await page.getByRole('button', { name: 'Go live' }).click();
				await videoTime(page, player, { above: t0 });
				await page.getByRole('status').getByText('● live').waitFor();

				// The browser's own player (where a browser has one) plays the same playlist.
				await page.goto(`${server.url}/streams/${channel.id}/watch?player=native`);
				await page.locator(`${player}[data-engine="native"]`).waitFor();
				await videoTime(page, player, { above: 0.5 });

				// The broadcast ends: the page says so and links the recording.
				await twitch.control('/offline/watch_test');
				await page.getByText('The broadcast ended.').waitFor({ timeout: 30_000 });
				await page.getByRole('link', { name: 'Open the recording' }).waitFor();
				noProblems(page);
			});
		});
	},

	async 'the naming template previews as it is typed, shows what is wrong, and is saved'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/settings/library`);
			await page.getByRole('heading', { name: 'Library', exact: true }).waitFor();
			const preview = page.getByTestId('naming-preview');
			await preview.getByTestId('naming-path').getByText(/^examplechannel\/Season \d{4}-\d{2}\/examplechannel - S\d{6}E01 - Example stream title\.mp4$/).waitFor();

			const template = page.getByLabel('Naming template');
			await template.fill('{channel}/{nope}.mp4');
			await preview.getByTestId('naming-error').getByText(/nope/).waitFor();
			assert.ok(await page.getByRole('button', { name: 'Save template' }).isDisabled());
			// The browser logs the 400 that carried the message; it is the expected one.

			await template.fill('{channel}/{yyyy}/');
			await page.getByRole('button', { name: 'Insert {title}' }).click();
			assert.equal(await template.inputValue(), '{channel}/{yyyy}/{title}');
			await template.press('End');
			await template.pressSequentially('.mp4');
			// Validation is the server's: it says why, and the preview follows the next keystrokes.
			await preview.getByTestId('naming-error').getByText('needs {nn} or {id}').waitFor();
			await template.press('ArrowLeft');
			await template.press('ArrowLeft');
			await template.press('ArrowLeft');
			await template.press('ArrowLeft');
			await template.pressSequentially(' {nn}');
			await preview.getByTestId('naming-path').getByText(/^examplechannel\/\d{4}\/Example stream title 01\.mp4$/).waitFor();
			await page.getByRole('button', { name: 'Save template' }).click();
			await page.getByText('Saved.').waitFor();
			const saved = await (await page.request.get(`${server.url}/api/v1/library/naming`)).json();
			assert.equal(saved.template, '{channel}/{yyyy}/{title} {nn}.mp4');
			// The browser logs each 400 that carried a message; those are the expected ones.
			assert.deepEqual(page.problems.filter((p) => !(p.includes('400') && p.includes('/naming/preview'))), []);
		});
	},

	async 'archive: the archive settings of a channel are saved from its page (a clip retention shorter than its period refused) and shown again after a reload'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'archive_test', display_name: 'ArchiveTest' });
				await login(page, server);
				const channel = await (await apiPost(page, server, '/api/v1/channels', { channel: 'archive_test', auto_record: false })).json();
				await page.goto(`${server.url}/streams/${channel.id}`);
				const form = page.getByTestId('channel-archive');
				// Off by default.
				assert.equal(await form.getByLabel('Archive past broadcasts').isChecked(), false);
				await form.getByLabel('Archive past broadcasts').check();
				await form.getByLabel('Highlights too').check();
				await form.getByLabel('Newer than (days)').fill('30');
				await form.getByLabel('Top clips').fill('3');
				// Clips kept fewer days than the period they are picked from would come back: refused.
				await form.getByLabel('Keep clips (days, empty: forever)').fill('3');
				await form.getByRole('button', { name: 'Save archive' }).click();
				await form.getByText('keep_clips_days must be at least clip_period_days', { exact: false }).waitFor();
				await form.getByLabel('Keep clips (days, empty: forever)').fill('30');
				await form.getByLabel('A VOD of a broadcast also recorded live').selectOption('prefer_vod');
				await form.getByRole('button', { name: 'Save archive' }).click();
				await form.getByText('Saved.').waitFor();

				await page.reload();
				await page.getByTestId('channel-archive').waitFor();
				assert.equal(await form.getByLabel('Archive past broadcasts').isChecked(), true);
				assert.equal(await form.getByLabel('Uploads too').isChecked(), false);
				assert.equal(await form.getByLabel('Newer than (days)').inputValue(), '30');
				assert.equal(await form.getByLabel('Top clips').inputValue(), '3');
				assert.equal(await form.getByLabel('Keep clips (days, empty: forever)').inputValue(), '30');
				assert.equal(await form.getByLabel('A VOD of a broadcast also recorded live').inputValue(), 'prefer_vod');
				const stored = await (await page.request.get(`${server.url}/api/v1/channels/${channel.id}/archive`)).json();
				assert.equal(stored.enabled, true);
				assert.equal(stored.highlights, true);
				assert.equal(stored.max_age_days, 30);
				assert.equal(stored.live_policy, 'prefer_vod');
				assert.equal(stored.keep_clips_days, 30);

				// Archive now queues a run (nothing to archive on this channel yet).
				await form.getByRole('button', { name: 'Archive now' }).click();
				await form.getByText('Archive run queued.').waitFor();
				// The one refusal above, and nothing else.
				const refused = page.problems.filter((p) => p.includes('400') && p.includes(`/api/v1/channels/${channel.id}/archive)`));
				assert.equal(refused.length, 1, page.problems.join('\n'));
				assert.deepEqual(page.problems.filter((p) => !refused.includes(p)), []);
			});
		});
	},

	async 'archive: a VOD that failed shows on the channel page as it fails, and Retry downloads it to a ready recording'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'vod_test', display_name: 'VodTest' });
				await login(page, server);
				const channel = await (await apiPost(page, server, '/api/v1/channels', { channel: 'vod_test', auto_record: false })).json();
				const archive = await (await page.request.get(`${server.url}/api/v1/channels/${channel.id}/archive`)).json();
				const put = await page.request.put(`${server.url}/api/v1/channels/${channel.id}/archive`, {
					headers: { 'X-CSRF-Token': await csrfOf(page.context()) },
					data: { ...archive, enabled: true }
				});
				assert.equal(put.status(), 200, await put.text());
				const { id: video } = await twitch.control('/videos/vod_test', { title: 'Speedrun night', segments: 4, age_secs: 3600 });
				// Twitch refuses one segment: the download gives up (its other segments are kept).
				await twitch.control(`/vod-refuse/${video}/2`);

				await page.goto(`${server.url}/streams/${channel.id}`);
				const form = page.getByTestId('channel-archive');
				await form.getByRole('button', { name: 'Archive now' }).click();
				// The list follows the jobs: no reload.
				const row = page.getByTestId('archive-items').locator('li', { hasText: `VOD ${video}` });
				const retry = row.getByRole('button', { name: /^Retry downloading/ });
				await retry.waitFor({ timeout: 60_000 });
				await row.getByText('failed', { exact: true }).waitFor();

				await twitch.control('/vod-accept');
				await retry.click();
				await row.getByText('ready', { exact: true }).waitFor({ timeout: 90_000 });
				assert.equal(await retry.count(), 0, 'a ready VOD has no Retry');
				const items = await (await page.request.get(`${server.url}/api/v1/channels/${channel.id}/archive/items`)).json();
				assert.equal(items.vods.length, 1);
				assert.equal(items.vods[0].status, 'ready');
				assert.deepEqual(page.problems, []);
			});
		});
	},

	async 'retention: a channel limit shows in the dry run with its reason, and Run now deletes after a confirmation'() {
		await withTwitch(async ({ twitch, env }) => {
			await withApp({ env: { ...env, TAPEARR_LIBRARY__RETENTION_GRACE_SECS: '0' } }, async ({ server, page }) => {
				await twitch.control('/users', { login: 'retention_test', display_name: 'RetentionTest' });
				await login(page, server);
				const channel = await (await apiPost(page, server, '/api/v1/channels', { channel: 'retention_test', auto_record: true })).json();
				await twitch.control('/live/retention_test', { title: 'Old stream', game: 'Chess' });
				const started = await recordingWhere(page, server, channel.id, (r) => r.status === 'recording' && r.media_ms >= 3000, '3 s recorded');
				await twitch.control('/offline/retention_test');
				await recordingWhere(page, server, channel.id, (r) => r.id === started.id && r.status === 'ready', 'the recording finalized', 60_000);

				// Off by default; a global limit that keeps it still deletes nothing.
				await page.goto(`${server.url}/settings/library`);
				const summary = page.getByTestId('plan-summary');
				await summary.getByText('Retention is off: nothing would be deleted.').waitFor();
				await page.getByLabel('Recordings per channel').fill('5');
				await page.getByRole('button', { name: 'Save retention' }).click();
				await page.getByRole('region', { name: 'Retention' }).getByText('Saved.').waitFor();
				await summary.getByText('Nothing would be deleted now.').waitFor();
				assert.ok(await page.getByRole('button', { name: 'Run now…' }).isDisabled());

				// The channel's own limit of 0 makes it a candidate.
				await page.goto(`${server.url}/streams/${channel.id}`);
				await page.getByTestId('channel-retention').getByText('The global policy: keeps the newest 5.').waitFor();
				await page.getByLabel('Own limits for this channel').check();
				await page.getByLabel('Recordings kept').fill('0');
				// A limit of 0 deletes everything: saved only once confirmed.
				await page.getByLabel('Yes, a limit of 0: delete every recording of this channel it applies to').check();
				await page.getByRole('button', { name: 'Save retention' }).click();
				await page.getByTestId('channel-retention').getByText('Its own limits: keeps the newest 0.').waitFor();

				await page.goto(`${server.url}/settings/library`);
				const row = page.locator(`tr[data-planned="${started.id}"]`);
				await row.getByText('count', { exact: true }).waitFor();
				await row.getByRole('link', { name: 'Old stream' }).waitFor();
				await summary.getByText('1 recording').waitFor();
				await page.getByRole('button', { name: 'Run now…' }).click();
				const dialog = page.getByRole('dialog');
				await dialog.getByRole('heading', { name: 'Delete 1 recording now?' }).waitFor();
				await dialog.getByRole('button', { name: 'Delete 1 recording' }).click();
				await page.getByText(/Retention deleted 1 recording and freed \d/).waitFor();
				await summary.getByText('Nothing would be deleted now.').waitFor();
				assert.equal((await page.request.get(`${server.url}/api/v1/recordings/${started.id}`)).status(), 404);
				noProblems(page);
			});
		});
	},

	async 'trailers: a Radarr connection added in the app fills the library; a movie’s candidates are listed, the one picked is downloaded and plays'() {
		await withTrailers(async ({ server, page, fakes, library }) => {
			// Radarr sees its movies under /movies; Tapearr sees the same folders inside its library.
			const movies = [
				['Midnight Harbor', 2019, 910001],
				['Paper Lanterns', 2021, 910002],
				['The Quiet Orbit', 2015, 910003]
			];
			for (const [title, year, tmdbId] of movies) {
				const dir = join(library, 'movies', `${title} (${year})`);
				mkdirSync(dir, { recursive: true });
				writeFileSync(join(dir, `${title} (${year}).mkv`), 'not really a movie');
				await fakes.control('radarr', '/movies', { tmdbId, title, year, path: `/movies/${title} (${year})`, hasFile: true });
			}
			await fakes.control('tmdb', '/videos/movie/910001', [
				tmdbVideo('mhtrailer01', 'Midnight Harbor | Official Trailer'),
				tmdbVideo('mhteaser001', 'Midnight Harbor | Official Teaser', 'Teaser')
			]);
			await fakes.control('videoOrigin', '/videos/mhtrailer01', { title: 'Midnight Harbor (2019) Official Trailer', seconds: 3 });
			await fakes.control('videoOrigin', '/videos/mhteaser001', { title: 'Midnight Harbor (2019) Official Teaser', seconds: 3 });

			await login(page, server);
			await page.getByRole('link', { name: 'Trailers' }).click();
			await page.getByRole('heading', { name: 'Connect Radarr or Sonarr' }).waitFor();
			await page.getByRole('link', { name: 'Add a connection' }).click();
			await page.getByRole('heading', { name: 'Connections', exact: true }).waitFor();
			await page.getByText('No connections yet').waitFor();

			await page.getByLabel('Name').fill('Radarr');
			await page.getByLabel('URL').fill(fakes.ready.radarr.url);
			await page.getByLabel('API key').fill(fakes.ready.radarr.apiKey);
			await page.getByRole('button', { name: 'Add mapping' }).click();
			await page.getByLabel('Folder as Radarr sees it').fill('/movies');
			await page.getByLabel('Folder as Tapearr sees it').fill(join(library, 'movies'));
			await page.getByRole('button', { name: 'Test', exact: true }).click();
			await page.getByRole('status').getByText(/^Reached Radarr \d/).waitFor();
			await page.getByRole('button', { name: 'Add connection' }).click();
			await page.getByText('Added “Radarr”.').waitFor();
			const row = page.locator('tr[data-connection="Radarr"]');
			await row.getByText('/movies →').waitFor();
			assert.equal(await page.getByLabel('API key').inputValue(), '', 'the form is cleared');
			const saved = await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json();
			assert.equal(saved.length, 1);
			assert.equal(saved[0].api_key, '***');

			// Root folders: /movies maps into the library; /movies-4k does not, and says so.
			await row.getByRole('button', { name: 'Root folders of Radarr' }).click();
			const folders = page.getByRole('region', { name: 'Root folders of “Radarr”' });
			await folders.locator('tr[data-folder="/movies"]').getByText('yes').first().waitFor();
			await folders.getByTestId('folder-warning').filter({ hasText: '/movies-4k' }).waitFor();

			// The library fills by itself (the first sync was queued with the connection).
			await page.getByRole('link', { name: 'Movies' }).first().click();
			await page.getByRole('heading', { name: 'Movies', exact: true }).waitFor();
			await markDocument(page);
			for (const [title] of movies) await page.locator(`li[data-title="${title}"]`).waitFor({ timeout: 30_000 });
			await page.locator('[data-testid="media-total"][data-total="3"]').waitFor();
			await stillSameDocument(page);
			// Filters live in the URL.
			await page.getByLabel('Search').fill('harbor');
			await page.waitForURL(/\?q=harbor$/);
			await page.locator('li[data-title="Paper Lanterns"]').waitFor({ state: 'detached' });
			const tile = page.locator('li[data-title="Midnight Harbor"]');
			await tile.locator('[data-state]').first().waitFor();

			// The movie: find candidates for the default profile, pick the teaser (not the best one).
			await tile.getByRole('link', { name: 'Midnight Harbor' }).click();
			await page.getByRole('heading', { name: 'Midnight Harbor', exact: true, level: 1 }).waitFor();
			const card = page.locator('section[data-profile="Beside the media (Plex, Jellyfin, Emby)"]');
			await card.getByRole('button', { name: 'Find candidates' }).click();
			const teaser = card.locator('li[data-video="mhteaser001"]');
			await teaser.waitFor({ timeout: 30_000 });
			await card.locator('li[data-video="mhtrailer01"]').waitFor();
			assert.match(await teaser.textContent(), /TMDB/);
			assert.match(await card.locator('li[data-video]').first().textContent(), /\d/, 'candidates show their score');
			assert.equal(await card.locator('li[data-video]').first().getAttribute('data-video'), 'mhtrailer01', 'the trailer scores above the teaser');
			await teaser.getByRole('button', { name: 'Use this' }).click();
			await card.getByTestId('download-status').getByText('Downloaded.').waitFor({ timeout: 90_000 });

			// The trailer appears, plays, and is the one picked.
			const player = card.getByTestId('trailer-player');
			await player.waitFor();
			await page.waitForFunction((el) => el.readyState >= 1 && el.duration > 0, await player.elementHandle(), { timeout: 15_000 });
			await player.evaluate((v) => {
				v.muted = true;
				return v.play();
			});
			await page.waitForFunction((el) => el.readyState >= 2 && el.currentTime > 0.3, await player.elementHandle(), { timeout: 15_000 });
			assert.ok((await player.evaluate((v) => v.duration)) > 1);
			await card.getByTestId('trailer-facts').getByText('mhteaser001').waitFor();
			await card.locator('header').getByText('downloaded', { exact: true }).waitFor();
			assert.equal(await card.getAttribute('data-state'), 'downloaded');
			const file = join(library, 'movies', 'Midnight Harbor (2019)', 'Midnight Harbor (2019)-trailer.mp4');
			assert.ok(existsSync(file), `${file} exists`);
			await page.getByRole('region', { name: 'History' }).getByText('downloaded').first().waitFor();
			noProblems(page);
		});
	},

	async 'plex: Sign in with Plex (PIN) makes a trailer source and a media server; the token never reaches the page'() {
		await withTrailers(async ({ server, page, fakes, library }) => {
			await fakes.control('plex', '/sections', { key: '1', type: 'movie', title: 'Movies', folders: ['/plex/Movies'] });
			const movieDir = join(library, 'movies', 'Harbor Lights (2018)');
			mkdirSync(movieDir, { recursive: true });
			writeFileSync(join(movieDir, 'Harbor Lights (2018).mkv'), 'not really a movie');
			await fakes.control('plex', '/items', {
				section: '1',
				title: 'Harbor Lights',
				year: 2018,
				path: '/plex/Movies/Harbor Lights (2018)/Harbor Lights (2018).mkv',
				guids: ['imdb://tt9100001', 'tmdb://3100001']
			});
			const token = fakes.ready.plex.token;
			/** Clicks "Sign in with Plex", approves the pin in the opened plex.tv tab, picks the fake Plex. */
			const signIn = async (shotName) => {
				const [tab] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('button', { name: 'Sign in with Plex' }).click()]);
				await tab.waitForURL(/code=/);
				const params = new URLSearchParams(tab.url().split('#?')[1]);
				assert.ok(params.get('clientID')?.startsWith('tapearr-'), tab.url());
				assert.equal(params.get('context[device][product]'), 'Tapearr');
				await page.getByText('Waiting for you to sign in at plex.tv').waitFor();
				await fakes.control('plexTv', '/sign-in', { code: params.get('code'), token });
				await tab.close();
				await page.getByLabel('Plex server and address').selectOption(fakes.ready.plex.url);
				await page.getByText('Signed in with Plex: Tapearr keeps the token.').waitFor();
				assert.equal(await page.getByLabel('Token').count(), 0, 'no token field once signed in');
				if (process.env.E2E_SHOTS) {
					for (const [width, height] of [[390, 844], [1440, 900]]) {
						await page.setViewportSize({ width, height });
						await page.screenshot({ path: join(process.env.E2E_SHOTS, `${shotName}-${width}.png`), fullPage: true, animations: 'disabled' });
					}
					await page.setViewportSize({ width: 1280, height: 800 });
				}
			};

			// Trailers → Connections.
			await login(page, server);
			await page.goto(`${server.url}/trailers/connections`);
			await page.getByRole('heading', { name: 'Connections', exact: true }).waitFor();
			await page.getByLabel('Type').selectOption('plex');
			await signIn('plex-sign-in-connections');
			assert.equal(await page.getByLabel('Name').inputValue(), 'Fake Plex');
			assert.equal(await page.getByLabel('URL').inputValue(), fakes.ready.plex.url);
			await page.getByRole('button', { name: 'Add mapping' }).click();
			await page.getByLabel('Folder as Plex sees it').fill('/plex/Movies');
			await page.getByLabel('Folder as Tapearr sees it').fill(join(library, 'movies'));
			await page.getByRole('button', { name: 'Test', exact: true }).click();
			await page.getByRole('status').getByText(/^Reached Plex/).waitFor();
			await page.getByRole('button', { name: 'Add connection' }).click();
			await page.getByText('Added “Fake Plex”.').waitFor();
			const conns = await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json();
			assert.deepEqual(conns.map((c) => [c.name, c.api_key]), [['Fake Plex', '***']]);
			await page.getByRole('link', { name: 'Movies' }).first().click();
			await page.locator('li[data-title="Harbor Lights"]').waitFor({ timeout: 30_000 });

			// Settings → Media servers: Plex is the default type.
			await page.goto(`${server.url}/settings/media-servers`);
			await page.getByRole('heading', { name: 'Media servers' }).first().waitFor();
			await signIn('plex-sign-in-media-servers');
			await page.getByRole('button', { name: 'Add media server' }).click();
			const row = page.locator('tr[data-server="Fake Plex"]');
			await row.waitFor();
			await row.getByRole('button', { name: 'Test' }).click();
			await row.getByText(/^Reached “/).waitFor();
			const servers = await (await page.request.get(`${server.url}/api/v1/media-servers`)).json();
			assert.deepEqual(servers.map((s) => [s.name, s.token]), [['Fake Plex', '***']]);
			assert.ok(!(await page.content()).includes(token), 'the token never reaches the page');
			noProblems(page);
		});
	},

	async 'trailers: a Plex connection added in the app (after the server’s reason for a wrong token) fills Movies and Series from its sections'() {
		await withTrailers(async ({ server, page, fakes, library }) => {
			// Plex sees its media under /plex/…; Tapearr sees the same folders inside its library.
			// A third section, /plex/Home, has no mapping.
			await fakes.control('plex', '/sections', { key: '1', type: 'movie', title: 'Movies', folders: ['/plex/Movies'] });
			await fakes.control('plex', '/sections', { key: '2', type: 'show', title: 'TV Shows', folders: ['/plex/TV'] });
			await fakes.control('plex', '/sections', { key: '3', type: 'movie', title: 'Home videos', folders: ['/plex/Home'] });
			const movieDir = join(library, 'movies', 'Harbor Lights (2018)');
			mkdirSync(movieDir, { recursive: true });
			writeFileSync(join(movieDir, 'Harbor Lights (2018).mkv'), 'not really a movie');
			mkdirSync(join(library, 'tv', 'Night Shift'), { recursive: true });
			await fakes.control('plex', '/items', {
				section: '1',
				title: 'Harbor Lights',
				year: 2018,
				path: '/plex/Movies/Harbor Lights (2018)/Harbor Lights (2018).mkv',
				guids: ['imdb://tt9100001', 'tmdb://3100001']
			});
			await fakes.control('plex', '/items', { section: '2', title: 'Night Shift', year: 2020, path: '/plex/TV/Night Shift', guids: ['tvdb://3200001'] });

			await login(page, server);
			await page.goto(`${server.url}/trailers/connections`);
			await page.getByRole('heading', { name: 'Connections', exact: true }).waitFor();
			await page.getByText('No connections yet').waitFor();
			await page.getByLabel('Type').selectOption('plex');
			await page.getByLabel('Name').fill('Plex');
			await page.getByLabel('URL').fill(fakes.ready.plex.url);

			// A wrong token: Test and Add show the server's reason, nothing is saved.
			const wrong = { name: 'Plex', kind: 'plex', url: fakes.ready.plex.url, api_key: 'wrong-plex-token' };
			const answer = await apiPost(page, server, '/api/v1/trailers/connections/test', wrong);
			assert.equal(answer.status(), 502);
			const { message } = await answer.json();
			assert.ok(message, 'the API says why');
			assert.ok(!message.includes('wrong-plex-token'), `the token is not in the reason: ${message}`);
			await page.getByLabel('Token').fill(wrong.api_key);
			await page.getByRole('button', { name: 'Test', exact: true }).click();
			await page.getByRole('status').getByText(message).waitFor();
			await page.getByRole('button', { name: 'Add connection' }).click();
			await page.getByRole('alert').getByText(message).waitFor();
			assert.equal(await page.getByLabel('Token').inputValue(), 'wrong-plex-token', 'the form keeps what was typed');
			assert.deepEqual(await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json(), []);
			await page.getByText('No connections yet').waitFor();

			// The right token, and where Plex's folders are for Tapearr.
			await page.getByLabel('Token').fill(fakes.ready.plex.token);
			for (const [remote, local] of [
				['/plex/Movies', join(library, 'movies')],
				['/plex/TV', join(library, 'tv')]
			]) {
				await page.getByRole('button', { name: 'Add mapping' }).click();
				await page.getByLabel('Folder as Plex sees it').last().fill(remote);
				await page.getByLabel('Folder as Tapearr sees it').last().fill(local);
			}
			await page.getByRole('button', { name: 'Test', exact: true }).click();
			await page.getByRole('status').getByText(/^Reached Plex \d/).waitFor();
			await page.getByRole('button', { name: 'Add connection' }).click();
			await page.getByText('Added “Plex”.').waitFor();
			const row = page.locator('tr[data-connection="Plex"]');
			await row.getByText('/plex/Movies →').waitFor();
			await row.getByText('/plex/TV →').waitFor();
			assert.equal(await page.getByLabel('API key').inputValue(), '', 'the form is cleared (back to Radarr)');
			const saved = await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json();
			assert.equal(saved.length, 1);
			assert.equal(saved[0].kind, 'plex');
			assert.equal(saved[0].api_key, '***');

			// Root folders: the sections' folders; the two mapped ones are in the library, /plex/Home is not.
			await row.getByRole('button', { name: 'Root folders of Plex' }).click();
			const folders = page.getByRole('region', { name: 'Root folders of “Plex”' });
			await folders.getByRole('columnheader', { name: 'In Plex' }).waitFor();
			for (const path of ['/plex/Movies', '/plex/TV']) await folders.locator(`tr[data-folder="${path}"]`).getByText('yes').first().waitFor();
			await folders.locator('tr[data-folder="/plex/Home"]').getByText('no', { exact: true }).first().waitFor();
			await folders.getByTestId('folder-warning').filter({ hasText: '/plex/Home' }).waitFor();
			assert.equal(await folders.getByTestId('folder-warning').count(), 1);

			// The first sync (queued with the connection) fills both tabs: the movie, then the show.
			await page.getByRole('link', { name: 'Movies' }).first().click();
			await page.getByRole('heading', { name: 'Movies', exact: true }).waitFor();
			await markDocument(page);
			await page.locator('li[data-title="Harbor Lights"]').waitFor({ timeout: 30_000 });
			await page.locator('[data-testid="media-total"][data-total="1"]').waitFor();
			await page.getByRole('link', { name: 'Series' }).first().click();
			await page.getByRole('heading', { name: 'Series', exact: true }).waitFor();
			await page.locator('li[data-title="Night Shift"]').waitFor({ timeout: 30_000 });
			await page.locator('[data-testid="media-total"][data-total="1"]').waitFor();
			assert.equal(await page.locator('li[data-title="Harbor Lights"]').count(), 0, 'the movie is not a series');
			await stillSameDocument(page);

			// The two refusals (Test, then Add) are the only failed requests.
			const refused = page.problems.filter((p) => p.includes('502') && /\/api\/v1\/trailers\/connections(\/test)?\)/.test(p));
			assert.equal(refused.length, 2, page.problems.join('\n'));
			assert.deepEqual(page.problems.filter((p) => !refused.includes(p)), []);
		});
	},

	async 'trailer profiles: one is added with a filter after the server’s reason for a bad duration window, listed by priority, and switched off'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/trailers/profiles`);
			await page.getByRole('heading', { name: 'Trailer profiles', exact: true }).waitFor();
			await page.getByTestId('priority-rule').getByText('higher priority').waitFor();
			// The two defaults, higher priority first.
			const rows = page.locator('tr[data-profile]');
			await rows.first().waitFor();
			assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.profile)), [
				'Beside the media (Plex, Jellyfin, Emby)',
				'Trailers folder (Jellyfin, Emby, Kodi)'
			]);

			await page.getByLabel('Name', { exact: true }).fill('Series in a folder');
			await page.getByLabel('Priority', { exact: true }).fill('20');
			await page.getByRole('button', { name: 'Add filter' }).click();
			const filter = page.getByTestId('filter-row');
			await filter.getByLabel('Value').selectOption('series');
			await page.getByLabel('Shortest (seconds)').fill('900');
			await page.getByLabel('In a folder inside the media folder').check();
			await page.getByTestId('example-path').getByText('Trailers/Alien (1979)-trailer.mp4').waitFor();
			// Two trailers and a featurette per title; in folders, the featurette says where it goes.
			await page.getByLabel('Trailers per title').fill('2');
			const featurette = page.getByRole('checkbox', { name: /^Featurette/ });
			await page.getByTestId('slots').getByText('Featurettes/').waitFor();
			await featurette.check();
			await page.getByRole('button', { name: 'Add profile' }).click();
			await page.getByRole('alert').getByText('min_duration_s must be smaller than').waitFor();
			assert.equal(await rows.count(), 2, 'nothing was saved');

			await page.getByLabel('Shortest (seconds)').fill('30');
			await page.getByRole('button', { name: 'Add profile' }).click();
			await page.getByRole('status').getByText('Added “Series in a folder”.').waitFor();
			const added = page.locator('tr[data-profile="Series in a folder"]');
			await added.getByText('kind is “series”').waitFor();
			await added.getByText('2 trailers + featurette', { exact: false }).waitFor();
			assert.equal(await rows.first().getAttribute('data-profile'), 'Series in a folder', 'the highest priority comes first');

			await added.getByLabel('Enable Series in a folder').uncheck();
			await added.getByText('off', { exact: true }).first().waitFor();
			const saved = await (await page.request.get(`${server.url}/api/v1/trailers/profiles`)).json();
			const mine = saved.find((p) => p.name === 'Series in a folder');
			assert.equal(mine.enabled, false);
			assert.equal(mine.priority, 20);
			assert.equal(mine.output.placement, 'folder');
			assert.equal(mine.output.trailers, 2);
			assert.deepEqual(mine.output.extras, ['featurette']);
			assert.deepEqual(mine.filters, [{ field: 'kind', op: 'is', value: 'series' }]);
			// Only the refused save failed.
			assert.deepEqual(page.problems.filter((p) => !(p.includes('400') && p.includes('/api/v1/trailers/profiles)'))), []);
		});
	},

	async 'trailers: a Jellyfin connection added in the app (after the server’s reason for a wrong key) fills Movies and Series from its libraries'() {
		await withTrailers(async ({ server, page, fakes, library }) => {
			// Jellyfin sees its media under /jf/…; Tapearr sees the same folders inside its library.
			await fakes.control('jellyfin', '/folders', { name: 'Movies', collection_type: 'movies', locations: ['/jf/Movies'] });
			await fakes.control('jellyfin', '/folders', { name: 'Shows', collection_type: 'tvshows', locations: ['/jf/TV'] });
			await fakes.control('jellyfin', '/folders', { name: 'Music', collection_type: 'music', locations: ['/jf/Music'] });
			const movieDir = join(library, 'movies', 'Harbor Lights (2018)');
			mkdirSync(movieDir, { recursive: true });
			writeFileSync(join(movieDir, 'Harbor Lights (2018).mkv'), 'not really a movie');
			mkdirSync(join(library, 'tv', 'Night Shift'), { recursive: true });
			await fakes.control('jellyfin', '/items', {
				type: 'Movie',
				name: 'Harbor Lights',
				year: 2018,
				path: '/jf/Movies/Harbor Lights (2018)/Harbor Lights (2018).mkv',
				provider_ids: { Tmdb: '3100001', Imdb: 'tt9100001' }
			});
			await fakes.control('jellyfin', '/items', { type: 'Series', name: 'Night Shift', year: 2020, path: '/jf/TV/Night Shift', provider_ids: { Tvdb: '3200001' } });

			await login(page, server);
			await page.goto(`${server.url}/trailers/connections`);
			await page.getByRole('heading', { name: 'Connections', exact: true }).waitFor();
			await page.getByText('No connections yet').waitFor();
			await page.getByLabel('Type').selectOption('jellyfin');
			await page.getByText('Jellyfin → Dashboard → API Keys').waitFor();
			await page.getByLabel('Name').fill('Jellyfin');
			await page.getByLabel('URL').fill(fakes.ready.jellyfin.url);

			// A wrong key: Test and Add show the server's reason, nothing is saved.
			const wrong = { name: 'Jellyfin', kind: 'jellyfin', url: fakes.ready.jellyfin.url, api_key: 'wrong-jellyfin-key' };
			const answer = await apiPost(page, server, '/api/v1/trailers/connections/test', wrong);
			assert.equal(answer.status(), 502);
			const { message } = await answer.json();
			assert.ok(message, 'the API says why');
			assert.ok(!message.includes('wrong-jellyfin-key'), `the key is not in the reason: ${message}`);
			await page.getByLabel('API key').fill(wrong.api_key);
			await page.getByRole('button', { name: 'Test', exact: true }).click();
			await page.getByRole('status').getByText(message).waitFor();
			await page.getByRole('button', { name: 'Add connection' }).click();
			await page.getByRole('alert').getByText(message).waitFor();
			assert.deepEqual(await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json(), []);

			// The right key, and where Jellyfin's folders are for Tapearr.
			await page.getByLabel('API key').fill(fakes.ready.jellyfin.apiKey);
			for (const [remote, local] of [
				['/jf/Movies', join(library, 'movies')],
				['/jf/TV', join(library, 'tv')]
			]) {
				await page.getByRole('button', { name: 'Add mapping' }).click();
				await page.getByLabel('Folder as Jellyfin sees it').last().fill(remote);
				await page.getByLabel('Folder as Tapearr sees it').last().fill(local);
			}
			await page.getByRole('button', { name: 'Test', exact: true }).click();
			await page.getByRole('status').getByText(/^Reached Jellyfin \d/).waitFor();
			await page.getByRole('button', { name: 'Add connection' }).click();
			await page.getByText('Added “Jellyfin”.').waitFor();
			const row = page.locator('tr[data-connection="Jellyfin"]');
			await row.getByText('/jf/Movies →').waitFor();
			assert.equal(await row.getByRole('button', { name: 'Webhook of Jellyfin' }).count(), 0, 'Jellyfin has no webhook');
			const saved = await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json();
			assert.equal(saved.length, 1);
			assert.equal(saved[0].kind, 'jellyfin');
			assert.equal(saved[0].api_key, '***');

			// Root folders: the movie and show libraries' folders (music has no trailers).
			await row.getByRole('button', { name: 'Root folders of Jellyfin' }).click();
			const folders = page.getByRole('region', { name: 'Root folders of “Jellyfin”' });
			for (const path of ['/jf/Movies', '/jf/TV']) await folders.locator(`tr[data-folder="${path}"]`).getByText('yes').first().waitFor();
			assert.equal(await folders.locator('tr[data-folder="/jf/Music"]').count(), 0);

			// The first sync fills both tabs.
			await page.getByRole('link', { name: 'Movies' }).first().click();
			await page.getByRole('heading', { name: 'Movies', exact: true }).waitFor();
			await page.locator('li[data-title="Harbor Lights"]').waitFor({ timeout: 30_000 });
			await page.locator('[data-testid="media-total"][data-total="1"]').waitFor();
			await page.getByRole('link', { name: 'Series' }).first().click();
			await page.getByRole('heading', { name: 'Series', exact: true }).waitFor();
			await page.locator('li[data-title="Night Shift"]').waitFor({ timeout: 30_000 });
			await page.locator('[data-testid="media-total"][data-total="1"]').waitFor();

			const refused = page.problems.filter((p) => p.includes('502') && /\/api\/v1\/trailers\/connections(\/test)?\)/.test(p));
			assert.equal(refused.length, 2, page.problems.join('\n'));
			assert.deepEqual(page.problems.filter((p) => !refused.includes(p)), []);
		});
	},

	async 'trailer profiles: skipping what Plex or Jellyfin already shows is a profile option, saved and shown again'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/trailers/profiles`);
			await page.getByRole('heading', { name: 'Trailer profiles', exact: true }).waitFor();
			await page.locator('tr[data-profile]').first().waitFor();
			await page.getByLabel('Name', { exact: true }).fill('Only what the server lacks');
			const option = page.getByLabel('Skip items Plex or Jellyfin already shows a trailer for');
			assert.equal(await option.isChecked(), false, 'off by default');
			await option.check();
			await page.getByRole('button', { name: 'Add profile' }).click();
			await page.getByRole('status').getByText('Added “Only what the server lacks”.').waitFor();
			const saved = await (await page.request.get(`${server.url}/api/v1/trailers/profiles`)).json();
			const mine = saved.find((p) => p.name === 'Only what the server lacks');
			assert.equal(mine.search.skip_if_server_has_trailer, true);
			assert.equal(saved.find((p) => p.name !== mine.name).search.skip_if_server_has_trailer, false, 'the defaults keep it off');
			assert.deepEqual(page.problems, []);
		});
	},

	async 'trailer profiles: season trailers are a profile option, saved and shown again'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/trailers/profiles`);
			await page.getByRole('heading', { name: 'Trailer profiles', exact: true }).waitFor();
			await page.locator('tr[data-profile]').first().waitFor();
			await page.getByLabel('Name', { exact: true }).fill('Seasons too');
			const option = page.getByLabel('Season trailers (series)');
			assert.equal(await option.isChecked(), false, 'off by default');
			await option.check();
			await page.getByText('Season 01/…-trailer').waitFor();
			await page.getByRole('button', { name: 'Add profile' }).click();
			await page.getByRole('status').getByText('Added “Seasons too”.').waitFor();
			const saved = await (await page.request.get(`${server.url}/api/v1/trailers/profiles`)).json();
			const mine = saved.find((p) => p.name === 'Seasons too');
			assert.equal(mine.output.season_trailers, true);
			assert.ok(
				saved.filter((p) => p.name !== mine.name).every((p) => p.output.season_trailers === false),
				'the defaults keep it off'
			);
			// The list says so, and editing the profile shows the box ticked.
			const row = page.locator('tr[data-profile="Seasons too"]');
			await row.getByText('season trailers').waitFor();
			await row.getByRole('button', { name: 'Edit' }).click();
			assert.equal(await page.getByLabel('Season trailers (series)').isChecked(), true);
			assert.deepEqual(page.problems, []);
		});
	},


	async 'trailers: a connection with a wrong API key shows the API’s reason and saves nothing'() {
		await withTrailers(async ({ server, page, fakes }) => {
			await login(page, server);
			await page.goto(`${server.url}/trailers/connections`);
			await page.getByRole('heading', { name: 'Connections', exact: true }).waitFor();
			const input = { name: 'Wrong key', kind: 'radarr', url: fakes.ready.radarr.url, api_key: 'not-the-key' };
			const answer = await apiPost(page, server, '/api/v1/trailers/connections/test', input);
			assert.equal(answer.status(), 502);
			const { message } = await answer.json();
			assert.ok(message, 'the API says why');

			await page.getByLabel('Name').fill(input.name);
			await page.getByLabel('URL').fill(input.url);
			await page.getByLabel('API key').fill(input.api_key);
			await page.getByRole('button', { name: 'Test', exact: true }).click();
			await page.getByRole('status').getByText(message).waitFor();
			await page.getByRole('button', { name: 'Add connection' }).click();
			await page.getByRole('alert').getByText(message).waitFor();
			assert.equal(await page.getByLabel('API key').inputValue(), 'not-the-key', 'the form keeps what was typed');
			assert.deepEqual(await (await page.request.get(`${server.url}/api/v1/trailers/connections`)).json(), []);
			await page.getByText('No connections yet').waitFor();
			// The two refusals (Test, then Add) are the only failed requests.
			const refused = page.problems.filter((p) => p.includes('502') && /\/api\/v1\/trailers\/connections(\/test)?\)/.test(p));
			assert.equal(refused.length, 2, page.problems.join('\n'));
			assert.deepEqual(page.problems.filter((p) => !refused.includes(p)), []);
		});
	},

	async 'trailer profiles: fallback languages and the original-language preference are saved after the server’s reason for a bad code'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			await page.goto(`${server.url}/trailers/profiles`);
			await page.getByRole('heading', { name: 'Trailer profiles', exact: true }).waitFor();
			await page.locator('tr[data-profile]').first().waitFor();
			await page.getByLabel('Name', { exact: true }).fill('Foreign films');
			await page.getByLabel('Then these languages').fill('french');
			await page.getByLabel("Prefer the media's original language").check();
			await page.getByRole('button', { name: 'Add profile' }).click();
			await page.getByRole('alert').getByText('ISO 639-1 codes like en or pt-BR, not `french`').waitFor();
			await page.getByLabel('Then these languages').fill('fr, de');
			await page.getByRole('button', { name: 'Add profile' }).click();
			await page.getByRole('status').getByText('Added “Foreign films”.').waitFor();
			const saved = await (await page.request.get(`${server.url}/api/v1/trailers/profiles`)).json();
			const mine = saved.find((p) => p.name === 'Foreign films');
			assert.deepEqual(mine.search.fallback_languages, ['fr', 'de']);
			assert.equal(mine.search.prefer_original_language, true);
			assert.deepEqual(page.problems.filter((p) => !(p.includes('400') && p.includes('/api/v1/trailers/profiles)'))), []);
		});
	},

	async 'trailers: a Radarr connection shows its webhook URL, and Radarr’s Test call to it is answered'() {
		await withTrailers(async ({ server, page, fakes }) => {
			await login(page, server);
			const input = { name: 'Radarr', kind: 'radarr', url: fakes.ready.radarr.url, api_key: fakes.ready.radarr.apiKey };
			assert.equal((await apiPost(page, server, '/api/v1/trailers/connections', input)).status(), 201);
			await page.goto(`${server.url}/trailers/connections`);
			const row = page.locator('tr[data-connection="Radarr"]');
			await row.getByRole('button', { name: 'Webhook of Radarr' }).click();
			const card = page.getByRole('region', { name: 'Webhook of “Radarr”' });
			await card.getByText('On Import').waitFor();
			const url = await card.getByTestId('webhook-url').inputValue();
			assert.match(url, new RegExp(`^${server.url}/api/v1/trailers/webhooks/[^/]+/whk_`));
			// Radarr's Test button: no login, the secret in the URL.
			const test = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ eventType: 'Test', movie: { id: 1, title: 'Test Title' } }) });
			assert.equal(test.status, 200);
			assert.equal((await test.json()).action, 'test');
			const wrong = await fetch(url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), { method: 'POST', body: '{}' });
			assert.equal(wrong.status, 401);
			assert.deepEqual(page.problems, []);
		});
	},

	async 'trailers: the item page has a row per slot; the featurette is found, downloaded and deleted on its own, the trailer untouched'() {
		await withTrailers(async ({ server, page, fakes, library }) => {
			const dir = join(library, 'movies', 'Twin Rivers (2020)');
			mkdirSync(dir, { recursive: true });
			writeFileSync(join(dir, 'Twin Rivers (2020).mkv'), 'not really a movie');
			await fakes.control('radarr', '/movies', { tmdbId: 910101, title: 'Twin Rivers', year: 2020, path: dir, hasFile: true });
			await fakes.control('tmdb', '/videos/movie/910101', [
				tmdbVideo('trtrailer01', 'Twin Rivers | Official Trailer'),
				tmdbVideo('trfeature01', 'Twin Rivers | Making Of', 'Featurette')
			]);
			await fakes.control('videoOrigin', '/videos/trtrailer01', { title: 'Twin Rivers (2020) Official Trailer', seconds: 2 });
			await fakes.control('videoOrigin', '/videos/trfeature01', { title: 'Twin Rivers (2020) Making Of', seconds: 2 });
			await login(page, server);

			// The Beside profile wants a featurette too, and quality upgrades.
			const profiles = await (await page.request.get(`${server.url}/api/v1/trailers/profiles`)).json();
			const beside = profiles.find((p) => p.name.startsWith('Beside'));
			const body = { ...beside, search: { ...beside.search, min_duration_s: 1 }, output: { ...beside.output, extras: ['featurette'], upgrade: true } };
			const put = await page.request.put(`${server.url}/api/v1/trailers/profiles/${beside.id}`, { headers: { 'X-CSRF-Token': await csrfOf(page.context()) }, data: body });
			assert.equal(put.status(), 200, await put.text());
			const input = { name: 'Radarr', kind: 'radarr', url: fakes.ready.radarr.url, api_key: fakes.ready.radarr.apiKey };
			assert.equal((await apiPost(page, server, '/api/v1/trailers/connections', input)).status(), 201);
			const item = await until(
				async () => (await (await page.request.get(`${server.url}/api/v1/trailers/media?limit=10`)).json()).items.find((m) => m.title === 'Twin Rivers'),
				{ timeout: 30_000, what: 'the synced movie' }
			);

			await page.goto(`${server.url}/trailers/${item.id}`);
			await page.getByRole('heading', { name: 'Twin Rivers', exact: true, level: 1 }).waitFor();
			const card = page.locator(`section[data-profile="${beside.name}"]`);
			const slot = card.locator('li[data-slot="featurette-1"]');
			await slot.getByText('Featurette', { exact: true }).waitFor();
			assert.equal(await card.getAttribute('data-state'), 'missing');
			// The slot's own candidates: TMDB's featurettes, not the trailer; "Use this" fills that slot.
			await slot.getByRole('button', { name: 'Find candidates for Featurette' }).click();
			const pick = slot.locator('li.cand[data-video="trfeature01"]');
			await pick.waitFor({ timeout: 60_000 });
			assert.equal(await slot.locator('li.cand[data-video="trtrailer01"]').count(), 0, "the trailer is not one of the featurette's candidates");
			assert.equal(await card.locator(':scope > div.body > .candidates').count(), 0, "the first trailer's candidates stay closed");
			await pick.getByRole('button', { name: /^Use this/ }).click();
			await slot.getByTestId('download-status').getByText('Downloaded.').waitFor({ timeout: 90_000 });
			await slot.getByRole('button', { name: 'Hide candidates' }).click();
			await page.locator(`section[data-profile="${beside.name}"] li[data-slot="featurette-1"][data-state="downloaded"]`).waitFor();
			await slot.getByText('trfeature01').waitFor();
			const featurette = join(dir, 'Twin Rivers (2020)-featurette.mp4');
			const trailer = join(dir, 'Twin Rivers (2020)-trailer.mp4');
			assert.ok(existsSync(featurette), `${featurette} exists`);
			assert.ok(!existsSync(trailer), 'only the featurette was fetched');
			assert.equal(await card.getAttribute('data-state'), 'missing', 'the first trailer is still missing');

			// The first trailer's own Download, then the featurette's Delete leaves the trailer.
			await card.getByRole('button', { name: 'Download', exact: true }).click();
			await card.locator('header').getByText('downloaded', { exact: true }).waitFor({ timeout: 90_000 });
			assert.ok(existsSync(trailer));
			await slot.getByRole('button', { name: 'Delete Featurette…' }).click();
			const dialog = page.getByRole('dialog');
			await dialog.getByText('Twin Rivers (2020)-featurette.mp4').waitFor();
			await dialog.getByRole('button', { name: 'Delete trailer' }).click();
			await page.locator(`section[data-profile="${beside.name}"] li[data-slot="featurette-1"][data-state="skipped"]`).waitFor();
			assert.ok(!existsSync(featurette), 'the featurette is deleted');
			assert.ok(existsSync(trailer), 'the trailer stays');
			assert.equal(await card.getAttribute('data-state'), 'downloaded');
			noProblems(page);
		});
	},

	async 'the account page changes the password, lists sessions and signs them out'() {
		await withApp({}, async ({ server, page }) => {
			await login(page, server);
			// A second browser, signed in elsewhere.
			const phone = await fetch(`${server.url}/api/v1/auth/login`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1' },
				body: JSON.stringify(ADMIN)
			});
			assert.equal(phone.status, 200);
			const phoneCookie = phone.headers.getSetCookie().find((c) => c.startsWith('tapearr_session=')).split(';')[0];
			const phoneMe = () => fetch(`${server.url}/api/v1/auth/me`, { headers: { cookie: phoneCookie } }).then((r) => r.status);

			await page.getByRole('link', { name: 'Settings' }).click();
			await page.getByRole('link', { name: 'Account' }).click();
			await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
			await page.locator('tr[data-session="current"]').getByText('this browser').waitFor();
			const other = page.locator('tr[data-session="other"]');
			await other.getByText('Safari on iOS').waitFor();
			await other.getByText('127.0.0.1').waitFor();
			await other.getByRole('button', { name: 'Sign out Safari on iOS' }).click();
			await other.getByRole('button', { name: 'Sign it out' }).click();
			await other.waitFor({ state: 'detached' });
			assert.equal(await phoneMe(), 401, 'the phone is signed out');

			// A wrong current password changes nothing.
			const newPassword = 'a much better passphrase';
			await page.getByLabel('Current password').fill('not my password');
			await page.getByLabel('New password', { exact: true }).fill(newPassword);
			await page.getByLabel('New password again').fill(newPassword);
			await page.getByRole('button', { name: 'Change password' }).click();
			await page.getByRole('alert').getByText('the current password is wrong').waitFor();
			await page.getByLabel('Current password').fill(ADMIN.password);
			await page.getByRole('button', { name: 'Change password' }).click();
			await page.getByText('Password changed; 0 other sessions signed out.').waitFor();

			await page.getByRole('button', { name: 'Sign out everywhere' }).click();
			await page.getByRole('button', { name: 'Sign out everywhere, here too' }).click();
			await page.waitForURL(/\/login/);
			await page.getByLabel('User name').fill(ADMIN.username);
			await page.getByLabel('Password').fill(newPassword);
			await page.getByRole('button', { name: 'Sign in' }).click();
			// Back where the user was, signed in with the new password.
			await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
			await page.locator('tr[data-session="current"]').waitFor();
			const refused = page.problems.filter((p) => p.includes('403') && p.includes('/api/v1/account/password'));
			assert.equal(refused.length, 1, page.problems.join('\n'));
			assert.deepEqual(page.problems.filter((p) => !refused.includes(p)), []);
		});
	}
};
