// `make screenshots`: every page at 390×844 and 1440×900, light and dark, into docs/screenshots/.
//   node e2e/screenshots.mjs OUT_DIR
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apiPost, csrfOf, fakeTwitch, launch, login, setupAdmin, startServer, until, watchedPage } from './lib.mjs';
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

// Channels come from a fake Twitch (one live and recording, one favourite, some offline).
const twitch = await fakeTwitch();
const library = mkdtempSync(join(tmpdir(), 'tapearr-shots-library-'));
const server = await startServer({ env: { ...twitch.env, TAPEARR_LIBRARY_ROOTS: library, TAPEARR_DISK__LOW_FREE_GB: '0' } });
let channelPath = null;
let recordingPath = null;
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
	rmSync(library, { recursive: true, force: true });
}
console.log(`screenshots: ${count} written to ${out}`);
if (problems.length) {
	console.error(`console errors while taking them:\n${problems.join('\n')}`);
	process.exit(1);
}
