// `make screenshots`: every page at 390×844 and 1440×900, light and dark, into docs/screenshots/.
//   node e2e/screenshots.mjs OUT_DIR
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apiPost, csrfOf, dataDirWithTools, fakeTrailers, fakeTwitch, launch, login, setupAdmin, startServer, until, watchedPage } from './lib.mjs';
import { PAGES } from './tests.mjs';

const out = resolve(process.argv[2] ?? '../docs/screenshots');
mkdirSync(out, { recursive: true });
const VIEWPORTS = [
	{ width: 390, height: 844 },
	{ width: 1440, height: 900 }
];
const THEMES = ['light', 'dark'];
const name = (path) => (path === '/' ? 'dashboard' : path.slice(1).replaceAll('/', '-'));
const combos = VIEWPORTS.flatMap((v) => THEMES.map((t) => ({ viewport: v, theme: t })));
const problems = [];
let count = 0;

async function shoot(page, file) {
	await page.waitForLoadState('networkidle');
	await page.locator('[role="status"]:has-text("Loading")').waitFor({ state: 'detached' });
	// A full-page shot shows what is below the fold: load the lazy images (posters, thumbnails) first.
	await page.evaluate(async () => {
		const images = [...document.querySelectorAll('img[loading="lazy"]')];
		for (const img of images) img.loading = 'eager';
		await Promise.all(
			images.map((img) =>
				img.complete
					? null
					: new Promise((done) => {
							img.addEventListener('load', done, { once: true });
							img.addEventListener('error', done, { once: true });
						})
			)
		);
	});
	// From the top: a page scrolled by a click would show its sticky header halfway down.
	await page.evaluate(() => window.scrollTo(0, 0));
	await page.screenshot({ path: `${out}/${file}.png`, fullPage: true, animations: 'disabled' });
	count++;
}

async function eachCombo(fn) {
	for (const { viewport, theme } of combos) {
		const browser = await launch({ viewport, colorScheme: theme });
		try {
			const page = await watchedPage(browser.context);
			await fn(page, `${viewport.width}-${theme}`);
			problems.push(...page.problems);
		} finally {
			await browser.close();
		}
	}
}

// Channels come from a fake Twitch (one live and recording, one favourite, some offline); movies
// and series from a fake Radarr and Sonarr, trailers from a fake video site (yt-dlp from `make tools`).
const twitch = await fakeTwitch();
const trailers = await fakeTrailers(['--movies', '23', '--series', '8']);
const library = mkdtempSync(join(tmpdir(), 'tapearr-shots-library-'));
const dataDir = dataDirWithTools();
const server = await startServer({ dataDir, env: { ...twitch.env, ...trailers.env(library) } });
let channelPath = null;
let recordingPath = null;
let moviePath = null;
try {
	// Before the admin exists: the setup page.
	await eachCombo(async (page, suffix) => {
		await page.goto(`${server.url}/`);
		await page.getByRole('heading', { name: 'Welcome to Tapearr' }).waitFor();
		await shoot(page, `setup-${suffix}`);
	});
	await setupAdmin(server);
	await eachCombo(async (page, suffix) => {
		await page.goto(`${server.url}/login`);
		await page.getByRole('heading', { name: 'Sign in' }).waitFor();
		await shoot(page, `login-${suffix}`);
	});

	// Some real data: keys, jobs that succeeded, failed and are running, a task run.
	const seed = await launch();
	const page = await watchedPage(seed.context);
	await login(page, server);
	const post = (path, data) => apiPost(page, server, path, data);
	await post('/api/v1/apikeys', { name: 'home-assistant' });
	const old = await (await post('/api/v1/apikeys', { name: 'old-backup-script' })).json();
	await page.request.delete(`${server.url}/api/v1/apikeys/${old.key.id}`, { headers: { 'X-CSRF-Token': await csrfOf(seed.context) } });
	await post('/api/v1/tasks/prune-sessions/run');
	await post('/api/v1/jobs', { kind: 'system.probe', payload: { millis: 300 } });
	await post('/api/v1/jobs', { kind: 'system.probe', payload: { millis: 10, fail: 'ffmpeg exited with status 1: moov atom not found' }, max_attempts: 1 });
	await post('/api/v1/jobs', { kind: 'system.probe', payload: { millis: 600000 } });
	const users = [
		['speedrunner', 'SpeedRunner', true],
		['cozy_builds', 'CozyBuilds', false],
		['late_night_jazz', 'LateNightJazz', false],
		['chess_clinic', 'Chess_Clinic', false]
	];
	for (const [login, display_name] of users) await twitch.control('/users', { login, display_name });
	const added = {};
	for (const [login, , favourite] of users)
		added[login] = await (await post('/api/v1/channels', { channel: login, auto_record: login !== 'chess_clinic', favourite })).json();
	// Each step waits until the channel list shows it (the fake polls every second).
	const channelsWhen = (what, wanted) =>
		until(
			async () => {
				const list = await (await page.request.get(`${server.url}/api/v1/channels`)).json();
				const by = Object.fromEntries(list.map((c) => [c.login, c]));
				return wanted(by);
			},
			{ timeout: 30_000, every: 250, what }
		);
	await twitch.control('/live/speedrunner', { title: 'Any% practice, then viewer races', game: 'Celeste' });
	await twitch.control('/live/cozy_builds', { title: 'Building a castle, day 41', game: 'Minecraft' });
	await channelsWhen('both live channels recording', (c) => c.speedrunner.recording && c.cozy_builds.recording);
	await twitch.control('/channel/speedrunner', { title: 'Any% PB attempts', game: 'Celeste' });
	await channelsWhen('the new title', (c) => c.speedrunner.title === 'Any% PB attempts');
	await twitch.control('/offline/cozy_builds');
	await channelsWhen('cozy_builds offline with its recording ended, speedrunner with bytes recorded', (c) =>
		!c.cozy_builds.live && !c.cozy_builds.recording && c.speedrunner.recording?.bytes > 0
	);
	channelPath = `/streams/${added.speedrunner.id}`;
	// cozy_builds' recording finalized into the library (its page has the player and chapters).
	const ready = await until(
		async () => {
			const list = await (await page.request.get(`${server.url}/api/v1/recordings?channel_id=${added.cozy_builds.id}`)).json();
			return list.items.find((r) => r.status === 'ready');
		},
		{ timeout: 60_000, every: 250, what: 'the cozy_builds recording finalized' }
	);
	recordingPath = `/recordings/${ready.id}`;

	// Trailers: one movie whose folder is in the library gets a trailer; the rest come from the
	// generated libraries (their folders are elsewhere).
	const dir = join(library, 'movies', 'Quayside Nocturne (2019)');
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, 'Quayside Nocturne (2019).mkv'), 'not really a movie');
	await trailers.control('radarr', '/movies', { tmdbId: 910001, title: 'Quayside Nocturne', year: 2019, path: '/movies/Quayside Nocturne (2019)', hasFile: true });
	await trailers.control('videoOrigin', '/videos/mhtrailer01', { title: 'Quayside Nocturne (2019) Official Trailer', seconds: 4 });
	await trailers.control('tmdb', '/videos/movie/910001', [
		{ iso_639_1: 'en', iso_3166_1: 'US', name: 'Quayside Nocturne | Official Trailer', key: 'mhtrailer01', site: 'YouTube', size: 1080, type: 'Trailer', official: true, published_at: '2019-03-25T14:00:06.000Z', id: 'a1b2c3d4e5f6a1b2c3d4e5f6' }
	]);
	await post('/api/v1/trailers/connections', {
		name: 'Radarr',
		kind: 'radarr',
		url: trailers.ready.radarr.url,
		api_key: trailers.ready.radarr.apiKey,
		path_mappings: [{ remote: '/movies', local: join(library, 'movies') }]
	});
	await post('/api/v1/trailers/connections', { name: 'Sonarr', kind: 'sonarr', url: trailers.ready.sonarr.url, api_key: trailers.ready.sonarr.apiKey });
	const harbor = await until(
		async () => {
			const list = await (await page.request.get(`${server.url}/api/v1/trailers/media?kind=movie&q=quayside`)).json();
			return list.items.find((m) => m.title === 'Quayside Nocturne');
		},
		{ timeout: 30_000, every: 250, what: 'the Radarr library synced' }
	);
	moviePath = `/trailers/${harbor.id}`;
	const profiles = await (await page.request.get(`${server.url}/api/v1/trailers/profiles`)).json();
	const beside = profiles.find((p) => p.enabled);
	await post(`/api/v1/trailers/media/${harbor.id}/download`, { profile_id: beside.id, video_id: 'mhtrailer01' });
	await until(
		async () => {
			const d = await (await page.request.get(`${server.url}/api/v1/trailers/media/${harbor.id}`)).json();
			return d.downloads.some((r) => r.status === 'downloaded');
		},
		{ timeout: 90_000, every: 500, what: 'the trailer downloaded' }
	);
	await seed.close();

	await eachCombo(async (page, suffix) => {
		await login(page, server);
		for (const [path, heading] of PAGES) {
			await page.goto(`${server.url}${path}`);
			await page.getByRole('heading', { name: heading, exact: true }).waitFor();
			await shoot(page, `${name(path)}-${suffix}`);
		}
		await page.goto(`${server.url}${channelPath}`);
		await page.getByRole('heading', { name: 'SpeedRunner', exact: true }).waitFor();
		await shoot(page, `streams-channel-${suffix}`);
		await page.goto(`${server.url}${recordingPath}`);
		await page.getByRole('heading', { name: 'Building a castle, day 41', exact: true }).waitFor();
		await page.waitForFunction(() => document.querySelector('video')?.readyState >= 1);
		await shoot(page, `recordings-detail-${suffix}`);
		await page.goto(`${server.url}${moviePath}`);
		await page.getByRole('heading', { name: 'Quayside Nocturne', exact: true, level: 1 }).waitFor();
		await page.waitForFunction(() => document.querySelector('video')?.readyState >= 1);
		await shoot(page, `trailers-item-${suffix}`);
		await page.getByRole('button', { name: 'Find candidates' }).first().click();
		await page.locator('li[data-video="mhtrailer01"]').waitFor({ timeout: 30_000 });
		await shoot(page, `trailers-candidates-${suffix}`);
		await page.goto(`${server.url}/trailers/movies`);
		await page.getByRole('heading', { name: 'Movies', exact: true }).waitFor();
		await page.getByRole('button', { name: 'Preview' }).click();
		await page.getByTestId('preview-summary').waitFor();
		await page.screenshot({ path: `${out}/trailers-preview-${suffix}.png`, animations: 'disabled' });
		count++;
		await page.goto(`${server.url}${channelPath}/watch`);
		await page.getByRole('heading', { name: 'Watch SpeedRunner', exact: true }).waitFor();
		await page.waitForFunction(() => document.querySelector('video')?.currentTime > 0.5, null, { timeout: 15_000 });
		await page.getByText('● live').waitFor();
		// The player keeps fetching the playlist, so no waiting for an idle network here.
		await page.screenshot({ path: `${out}/streams-watch-${suffix}.png`, animations: 'disabled' });
		count++;
		if (suffix.startsWith('390')) {
			await page.goto(`${server.url}/`);
			await page.getByRole('heading', { name: 'Dashboard', exact: true }).waitFor();
			await page.getByRole('button', { name: 'Menu', exact: true }).click();
			await page.locator('nav#nav.open').waitFor();
			await page.screenshot({ path: `${out}/menu-${suffix}.png`, animations: 'disabled' });
			count++;
		}
	});
} finally {
	await server.stop();
	await twitch.stop();
	await trailers.stop();
	rmSync(library, { recursive: true, force: true });
	rmSync(dataDir, { recursive: true, force: true });
}
console.log(`screenshots: ${count} written to ${out}`);
if (problems.length) {
	console.error(`console errors while taking them:\n${problems.join('\n')}`);
	process.exit(1);
}
