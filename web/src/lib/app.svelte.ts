// App-wide state: who is signed in, the theme, and the one realtime connection.
import { base } from '$app/paths';
import { api, setUnauthorizedHandler, unwrap } from './api/client';
import type { Delivered, Topic } from './events';
import { Realtime } from './realtime';

export const session = $state({
	/** The first check (setup status, then /auth/me) has finished. */
	checked: false,
	setupRequired: false,
	/** Setup needs the one-time token from the server's log (it listens beyond loopback). */
	setupTokenRequired: false,
	username: null as string | null,
	/** The admin just created on the setup page (the login page greets it). */
	justCreated: null as string | null,
	/** Signed in for the first time after creating the admin: the set-up guide comes next. */
	wizard: false
});

export type Theme = 'system' | 'light' | 'dark';
const THEME_KEY = 'tapearr.theme';

export const ui = $state({ theme: 'system' as Theme, navOpen: false });

export function loadTheme() {
	try {
		const t = localStorage.getItem(THEME_KEY);
		ui.theme = t === 'light' || t === 'dark' ? t : 'system';
	} catch {
		ui.theme = 'system';
	}
	applyTheme();
}

export function setTheme(t: Theme) {
	ui.theme = t;
	try {
		if (t === 'system') localStorage.removeItem(THEME_KEY);
		else localStorage.setItem(THEME_KEY, t);
	} catch {
		// Private mode: the choice lasts for this page only.
	}
	applyTheme();
}

function applyTheme() {
	const el = document.documentElement;
	if (ui.theme === 'system') delete el.dataset.theme;
	else el.dataset.theme = ui.theme;
}

function wsUrl(): string {
	const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${proto}//${location.host}${base}/api/v1/ws`;
}

let rt: Realtime | null = null;

/** The single WebSocket client (created on first use, in the browser). */
export function realtime(): Realtime {
	if (!rt) {
		rt = new Realtime({
			url: wsUrl(),
			initialCursor: async () => {
				const events = await unwrap(api.GET('/api/v1/events', { params: { query: { limit: 1 } } }));
				return events.reduce<number | null>((m, e) => (e.id != null && (m === null || e.id > m) ? e.id : m), null);
			}
		});
	}
	return rt;
}

/**
 * Calls `onEvent` for events of the given types (`job.*` prefixes allowed) and `resync` whenever
 * the connection comes back after a drop (live-only events may have been missed); not when it
 * first opens, which the page's own first load covers. Returns the cleanup for `onMount`/`$effect`.
 */
export function live<T extends Topic>(types: T[], onEvent: (e: Delivered<T>) => void, resync?: () => void): () => void {
	const r = realtime();
	const offs = types.map((t) => r.on(t, onEvent));
	if (resync) offs.push(r.onReopen(resync));
	return () => offs.forEach((off) => off());
}

// A 401 on any call means the session is gone: drop it, and the gate shows the login page.
setUnauthorizedHandler(() => {
	if (session.username !== null) {
		rt?.stop();
		session.username = null;
	}
});

/** Signs out on the server (best effort) and locally. */
export async function logout() {
	try {
		await api.POST('/api/v1/auth/logout');
	} catch {
		// Offline: the local sign-out still happens.
	}
	rt?.stop();
	session.username = null;
}
