// Settings changed in the app: reading them, saving a few at once, and how each is described.
import { api, unwrap, type Schemas } from '$lib/api/client';

export type Setting = Schemas['SettingView'];
export type SettingsPage = Schemas['SettingsPage'];
export type Folders = Schemas['FolderListing'];

export function loadSettings(): Promise<SettingsPage> {
	return unwrap(api.GET('/api/v1/settings'));
}

/** Saves `values` (key → value; `null` clears one) all or nothing. */
export function saveSettings(values: Record<string, unknown>): Promise<SettingsPage> {
	return unwrap(api.PATCH('/api/v1/settings', { body: { values: values as Record<string, never> } }));
}

export function byKey(page: SettingsPage | null | undefined, key: string): Setting | undefined {
	return page?.settings.find((s) => s.key === key);
}

/** Where the value comes from, in words. */
export function sourceText(s: Setting): string {
	switch (s.source) {
		case 'env':
			return `Set by the environment variable ${s.env_name}: change it there and restart.`;
		case 'file':
			return 'Set in tapearr.toml in the data folder: change it there and restart.';
		case 'database':
			return s.restart_required ? 'Saved here; used after the next restart.' : 'Saved here.';
		default:
			return 'Default.';
	}
}

/** The text a field starts with. */
export function draftOf(s: Setting): string {
	if (s.secret || s.value === null || s.value === undefined) return '';
	if (Array.isArray(s.value)) return s.value.join('\n');
	return String(s.value);
}

/** A field's text as the value the API takes; `undefined` when it is not a valid one. */
export function valueOf(s: Setting, text: string): unknown {
	const t = text.trim();
	switch (s.kind) {
		case 'seconds': {
			const n = Number(t);
			return Number.isInteger(n) && n > 0 ? n : undefined;
		}
		case 'gib': {
			const n = Number(t);
			return t !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
		}
		case 'url':
		case 'extractor_arg_url':
			return t === '' ? null : t;
		case 'folders':
			return t
				.split('\n')
				.map((l) => l.trim())
				.filter(Boolean);
		default:
			return t;
	}
}

export function gib(bytes: number | null | undefined): string {
	if (bytes === null || bytes === undefined) return 'unknown';
	return `${(bytes / 1024 ** 3).toFixed(1)} GiB free`;
}
