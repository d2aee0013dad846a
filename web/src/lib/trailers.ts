// Trailers: the media list's filters in the URL, trailer states as badges (with which profiles
// apply to an item, as the server decides it), the preview grouped by action, and the profile
// and connection forms as plain values and back (pure, unit-tested).
import type { Schemas } from './api/client';
import { topics, type JobKind } from './events';
import type { Tone } from './components/Badge.svelte';

export type MediaKind = Schemas['MediaKind'];
export type MediaItem = Schemas['MediaItem'];
export type MediaSummary = Schemas['MediaSummary'];
export type MediaDetail = Schemas['MediaDetail'];
export type DownloadRecord = Schemas['DownloadRecord'];
export type DownloadStatus = Schemas['DownloadStatus'];
export type ProfileInput = Schemas['ProfileInput'];
/**
 * A profile filter. The OpenAPI document types `value` as an object (it is a `serde_json::Value`);
 * it is really a string, number or boolean as the field needs, so it is `unknown` here and checked
 * where it is read.
 */
export type ProfileFilter = Omit<Schemas['ProfileFilter'], 'value'> & { value: unknown };
export type Profile = Omit<Schemas['Profile'], 'filters'> & { filters: ProfileFilter[] };
export type FilterField = Schemas['FilterField'];
export type FilterOp = Schemas['FilterOp'];
export type Connection = Schemas['Connection'];
export type ConnectionInput = Schemas['ConnectionInput'];
export type PlanEntry = Schemas['PlanEntry'];
export type PlanAction = Schemas['PlanAction'];

/** One video that could be the trailer, and one with its score and reasons (`GET …/candidates`). */
export type Candidate = Schemas['Candidate'];
export type Scored = Schemas['Scored'];

// ---------------------------------------------------------------------------------------------
// The list's filters in the URL

export const TRAILER_FILTERS = [
	{ value: 'missing', label: 'Missing a trailer' },
	{ value: 'has', label: 'Has a trailer' },
	{ value: 'failed', label: 'Failed' }
] as const;
export type TrailerFilter = '' | (typeof TRAILER_FILTERS)[number]['value'];
export const PAGE_SIZES = [48, 96, 192] as const;

/** What the Movies and Series pages show, as the URL query says (`?q=…&trailer=missing&page=2`). */
export interface MediaFilters {
	q: string;
	trailer: TrailerFilter;
	/** `yes` / `no` for the user's monitor flag, `''` for both. */
	monitored: '' | 'yes' | 'no';
	connection: string;
	/** 1-based. */
	page: number;
	size: number;
}

export const DEFAULT_MEDIA_FILTERS: MediaFilters = { q: '', trailer: '', monitored: '', connection: '', page: 1, size: PAGE_SIZES[0] };

/** The filters in a URL query; anything unknown falls back to the default. */
export function mediaFiltersFrom(params: URLSearchParams): MediaFilters {
	const text = (k: string) => (params.get(k) ?? '').trim();
	const trailer = TRAILER_FILTERS.find((t) => t.value === text('trailer'))?.value ?? '';
	const m = text('monitored');
	const size = Number(text('size'));
	return {
		q: text('q'),
		trailer,
		monitored: m === 'yes' || m === 'no' ? m : '',
		connection: text('connection'),
		page: Math.max(1, Math.floor(Number(text('page')) || 1)),
		size: (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_MEDIA_FILTERS.size
	};
}

/** The URL query for these filters without the defaults (`''` when all are defaults). */
export function mediaFiltersQuery(f: MediaFilters): string {
	const p = new URLSearchParams();
	if (f.q.trim()) p.set('q', f.q.trim());
	if (f.trailer) p.set('trailer', f.trailer);
	if (f.monitored) p.set('monitored', f.monitored);
	if (f.connection) p.set('connection', f.connection);
	if (f.page > 1) p.set('page', String(f.page));
	if (f.size !== DEFAULT_MEDIA_FILTERS.size) p.set('size', String(f.size));
	const s = p.toString();
	return s ? `?${s}` : '';
}

export function isMediaFiltered(f: MediaFilters): boolean {
	return !!(f.q.trim() || f.trailer || f.monitored || f.connection);
}

/** `GET /api/v1/trailers/media`'s query for these filters. */
export function mediaApiQuery(f: MediaFilters, kind: MediaKind) {
	return {
		kind,
		q: f.q.trim() || undefined,
		trailer: f.trailer || undefined,
		monitored: f.monitored ? f.monitored === 'yes' : undefined,
		connection_id: f.connection || undefined,
		limit: f.size,
		offset: (f.page - 1) * f.size
	};
}

/** The last page that has rows (1 when there are none). */
export function lastPage(total: number, size: number): number {
	return Math.max(1, Math.ceil(total / size));
}

// ---------------------------------------------------------------------------------------------
// Trailer states as badges

export const STATUS_INFO: Record<DownloadStatus, { label: string; tone: Tone; hint: string }> = {
	downloaded: { label: 'downloaded', tone: 'ok', hint: 'placed by Tapearr' },
	existing: { label: 'existing', tone: 'info', hint: 'already on disk' },
	missing: { label: 'missing', tone: 'warn', hint: 'the next run looks for one' },
	failed: { label: 'failed', tone: 'danger', hint: 'tried again after a pause' },
	notfound: { label: 'not found', tone: 'neutral', hint: 'no candidate passed the rules' },
	skipped: { label: 'skipped', tone: 'neutral', hint: 'left alone' }
};

export function statusInfo(s: string | null | undefined) {
	return STATUS_INFO[s as DownloadStatus] ?? { label: s || 'unknown', tone: 'neutral' as Tone, hint: '' };
}

export function hasTrailer(s: string | null | undefined): boolean {
	return s === 'downloaded' || s === 'existing';
}

export interface StateBadge {
	profileId: string;
	/** `trailer-1`, `trailer-2`, `featurette-1`… */
	slot: string;
	profileName: string;
	status: DownloadStatus;
	label: string;
	tone: Tone;
	/** `Beside the media: downloaded (placed by Tapearr)` — the badge's hover text. */
	title: string;
}

/** One list row's state for one profile, as the server's plan says (`GET …/media`). */
export type TrailerState = Schemas['TrailerState'];

/**
 * One badge per profile for a list row, in the server's order (applicable profiles by
 * priority, then records of profiles that no longer apply). Without a trailer, a profile the
 * next run leaves alone (not monitored, folder not there yet, storage offline) is `skipped`;
 * the reason is the hover text.
 */
export function stateBadges(item: { trailers: TrailerState[] }): StateBadge[] {
	return item.trailers.map((t) => {
		const status: DownloadStatus = t.action === 'skip' && !hasTrailer(t.status) ? 'skipped' : (t.status ?? 'missing');
		const info = statusInfo(status);
		const slot = t.slot ?? 'trailer-1';
		// A profile's other videos (a second trailer, a featurette) are named after their slot.
		const name = slot === 'trailer-1' ? t.profile_name : `${t.profile_name} · ${slotLabel(slot)}`;
		return {
			profileId: t.profile_id,
			slot,
			profileName: name,
			status,
			label: info.label,
			tone: info.tone,
			title: `${name}: ${info.label} (${t.reason})`
		};
	});
}

// ---------------------------------------------------------------------------------------------
// The preview of the next run, grouped by action

export const PLAN_ACTIONS: { action: PlanAction; label: string; tone: Tone; blurb: string }[] = [
	{ action: 'download', label: 'Will download', tone: 'accent', blurb: 'Searched and downloaded by the next run.' },
	{ action: 'upgrade', label: 'Will look for better', tone: 'info', blurb: 'Has a trailer below the profile’s height; the next run replaces it if a taller video appears.' },
	{ action: 'wait', label: 'Waiting', tone: 'warn', blurb: 'Failed or found nothing before; tried again after the pause.' },
	{ action: 'skip', label: 'Left alone', tone: 'neutral', blurb: 'Not monitored, skipped by you, or its folder cannot be read.' },
	{ action: 'have', label: 'Has its trailer', tone: 'ok', blurb: 'Nothing to do.' }
];

export interface PlanGroup {
	action: PlanAction;
	label: string;
	tone: Tone;
	blurb: string;
	entries: PlanEntry[];
	/** How many distinct items (an item with two profiles counts once). */
	items: number;
}

/** The plan's entries by action, in the order of `PLAN_ACTIONS`, by title inside a group; empty groups dropped. */
export function groupPreview(entries: PlanEntry[]): PlanGroup[] {
	return PLAN_ACTIONS.map((a) => {
		const mine = entries
			.filter((e) => e.action === a.action)
			.sort((x, y) => x.title.localeCompare(y.title, undefined, { sensitivity: 'base' }) || (x.year ?? 0) - (y.year ?? 0) || x.profile_name.localeCompare(y.profile_name));
		return { ...a, entries: mine, items: new Set(mine.map((e) => e.media_id)).size };
	}).filter((g) => g.entries.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Jobs the pages follow

export const RUN_JOB: JobKind = 'trailers.run';
export const SYNC_JOB: JobKind = 'trailers.sync';
export const SCAN_JOB: JobKind = 'trailers.scan';
export const DOWNLOAD_JOB: JobKind = 'trailers.download';
/** Jobs whose end changes the media list. */
export const LIST_JOBS: JobKind[] = [RUN_JOB, SYNC_JOB, SCAN_JOB, DOWNLOAD_JOB];
export const TRAILER_EVENTS = topics('trailer.downloaded', 'trailer.failed');

export function isFinished(status: string | null | undefined): boolean {
	return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

// ---------------------------------------------------------------------------------------------
// Profile form

export const FILTER_FIELDS: { value: FilterField; label: string; ops: FilterOp[]; type: 'number' | 'bool' | 'kind' | 'text' }[] = [
	{ value: 'kind', label: 'Kind', ops: ['is', 'is_not'], type: 'kind' },
	{ value: 'year', label: 'Year', ops: ['is', 'is_not', 'at_least', 'at_most'], type: 'number' },
	{ value: 'language', label: 'Original language', ops: ['is', 'is_not', 'contains', 'not_contains'], type: 'text' },
	{ value: 'studio', label: 'Studio or network', ops: ['is', 'is_not', 'contains', 'not_contains'], type: 'text' },
	{ value: 'title', label: 'Title', ops: ['is', 'is_not', 'contains', 'not_contains'], type: 'text' },
	{ value: 'tags', label: 'Tag', ops: ['is', 'is_not', 'contains', 'not_contains'], type: 'text' },
	{ value: 'monitored', label: 'Monitored in the Arr', ops: ['is', 'is_not'], type: 'bool' },
	{ value: 'has_file', label: 'Has its file', ops: ['is', 'is_not'], type: 'bool' },
	{ value: 'connection_id', label: 'Connection', ops: ['is', 'is_not'], type: 'text' }
];

export const OP_LABELS: Record<FilterOp, string> = {
	is: 'is',
	is_not: 'is not',
	contains: 'contains',
	not_contains: 'does not contain',
	at_least: 'at least',
	at_most: 'at most'
};

export function fieldInfo(field: FilterField) {
	return FILTER_FIELDS.find((f) => f.value === field) ?? FILTER_FIELDS[0];
}

/** A filter row as the form edits it: the value always as text. */
export interface FilterRow {
	field: FilterField;
	op: FilterOp;
	value: string;
}

export function filterToRow(f: ProfileFilter): FilterRow {
	const v = f.value as unknown;
	return { field: f.field, op: f.op, value: v === null || v === undefined ? '' : String(v) };
}

/** The value as the field wants it (a number for year, a boolean for monitored and has file). */
export function rowToFilter(r: FilterRow): ProfileFilter {
	const type = fieldInfo(r.field).type;
	const raw = r.value.trim();
	let value: unknown = raw;
	if (type === 'number') value = raw !== '' && Number.isInteger(Number(raw)) ? Number(raw) : raw;
	if (type === 'bool') value = raw === 'true' ? true : raw === 'false' ? false : raw;
	return { field: r.field, op: r.op, value } as ProfileFilter;
}

/** Changes a row's field: keeps the op when the field allows it, and a value that still fits. */
export function withField(r: FilterRow, field: FilterField): FilterRow {
	const info = fieldInfo(field);
	const op = info.ops.includes(r.op) ? r.op : info.ops[0];
	const before = fieldInfo(r.field).type;
	let value = before === info.type ? r.value : '';
	if (info.type === 'bool' && value === '') value = 'true';
	if (info.type === 'kind' && value === '') value = 'movie';
	return { field, op, value };
}

/** Words as one text: one per line (include groups keep their `a|b`). */
export const linesOf = (words: string[]) => words.join('\n');
export const listOf = (text: string) =>
	text
		.split('\n')
		.map((w) => w.trim())
		.filter(Boolean);
/** `review, reaction` → ["review", "reaction"]. */
export const commaList = (text: string) =>
	text
		.split(/[,\n]/)
		.map((w) => w.trim())
		.filter(Boolean);

export interface ProfileForm {
	name: string;
	enabled: boolean;
	priority: number;
	filters: FilterRow[];
	min_duration_s: number;
	max_duration_s: number;
	/** One group per line; `|` separates a group's words. */
	include_words: string;
	exclude_words: string;
	uploaders: string;
	language: string;
	/** Comma-separated ISO 639-1 codes, in order. */
	fallback_languages: string;
	prefer_original_language: boolean;
	query: string;
	search_results: number;
	always_search: boolean;
	skip_if_server_has_trailer: boolean;
	container: Schemas['Container'];
	video_codec: Schemas['VideoCodec'];
	audio_codec: Schemas['AudioCodec'];
	max_height: number;
	hw_accel: Schemas['HwAccel'];
	volume: number;
	trim_start_s: number;
	trim_silence: boolean;
	subtitles: boolean;
	upgrade: boolean;
	placement: Schemas['Placement'];
	folder_name: string;
	file_template: string;
	/** Trailers per title (1 to 3), each a different video. */
	trailers: number;
	/** Extras per title besides the trailers, one video of each kind. */
	extras: Schemas['ExtraKind'][];
	/** Series: a trailer per monitored season too, in the season's folder. */
	season_trailers: boolean;
	/** One option per line. */
	ytdlp_options: string;
}

/** The server's defaults (`SearchRules::default`, `OutputSettings::default`). */
export const NEW_PROFILE: ProfileForm = {
	name: '',
	enabled: true,
	priority: 0,
	filters: [],
	min_duration_s: 30,
	max_duration_s: 600,
	include_words: '',
	exclude_words: '',
	uploaders: '',
	language: 'en',
	fallback_languages: '',
	prefer_original_language: false,
	query: '{title} {year} {kind} trailer',
	search_results: 10,
	always_search: false,
	skip_if_server_has_trailer: false,
	container: 'mp4',
	video_codec: 'h264',
	audio_codec: 'aac',
	max_height: 1080,
	hw_accel: 'none',
	volume: 1,
	trim_start_s: 0,
	trim_silence: false,
	subtitles: false,
	upgrade: false,
	placement: 'beside',
	folder_name: 'Trailers',
	file_template: '{title} ({year})-trailer',
	trailers: 1,
	extras: [],
	season_trailers: false,
	ytdlp_options: ''
};

export function profileToForm(p: Profile): ProfileForm {
	const s = p.search;
	const o = p.output;
	return {
		name: p.name,
		enabled: p.enabled,
		priority: p.priority,
		filters: p.filters.map(filterToRow),
		min_duration_s: s.min_duration_s ?? NEW_PROFILE.min_duration_s,
		max_duration_s: s.max_duration_s ?? NEW_PROFILE.max_duration_s,
		include_words: linesOf(s.include_words ?? []),
		exclude_words: (s.exclude_words ?? []).join(', '),
		uploaders: (s.uploaders ?? []).join(', '),
		language: s.language ?? '',
		fallback_languages: (s.fallback_languages ?? []).join(', '),
		prefer_original_language: s.prefer_original_language ?? false,
		query: s.query ?? NEW_PROFILE.query,
		search_results: s.search_results ?? NEW_PROFILE.search_results,
		always_search: s.always_search ?? false,
		skip_if_server_has_trailer: s.skip_if_server_has_trailer ?? false,
		container: o.container ?? NEW_PROFILE.container,
		video_codec: o.video_codec ?? NEW_PROFILE.video_codec,
		audio_codec: o.audio_codec ?? NEW_PROFILE.audio_codec,
		max_height: o.max_height ?? NEW_PROFILE.max_height,
		hw_accel: o.hw_accel ?? NEW_PROFILE.hw_accel,
		volume: o.volume ?? 1,
		trim_start_s: o.trim_start_s ?? 0,
		trim_silence: o.trim_silence ?? false,
		subtitles: o.subtitles ?? false,
		upgrade: o.upgrade ?? false,
		placement: o.placement ?? NEW_PROFILE.placement,
		folder_name: o.folder_name ?? NEW_PROFILE.folder_name,
		file_template: o.file_template ?? NEW_PROFILE.file_template,
		trailers: o.trailers ?? 1,
		extras: [...(o.extras ?? [])],
		season_trailers: o.season_trailers ?? false,
		ytdlp_options: linesOf(o.ytdlp_options ?? [])
	};
}

/** The body of `POST`/`PUT /api/v1/trailers/profiles` (the server checks it and says what is wrong). */
export function formToInput(f: ProfileForm): ProfileInput {
	return {
		name: f.name.trim(),
		enabled: f.enabled,
		priority: Math.trunc(Number(f.priority) || 0),
		filters: f.filters.map(rowToFilter),
		search: {
			min_duration_s: Math.max(0, Math.trunc(Number(f.min_duration_s) || 0)),
			max_duration_s: Math.max(0, Math.trunc(Number(f.max_duration_s) || 0)),
			include_words: listOf(f.include_words),
			exclude_words: commaList(f.exclude_words),
			uploaders: commaList(f.uploaders),
			language: f.language.trim() || null,
			fallback_languages: commaList(f.fallback_languages),
			prefer_original_language: f.prefer_original_language,
			query: f.query.trim(),
			search_results: Math.trunc(Number(f.search_results) || 0),
			always_search: f.always_search,
			skip_if_server_has_trailer: f.skip_if_server_has_trailer
		},
		output: {
			container: f.container,
			video_codec: f.video_codec,
			audio_codec: f.audio_codec,
			max_height: Math.trunc(Number(f.max_height) || 0),
			hw_accel: f.hw_accel,
			volume: Number(f.volume),
			trim_start_s: Math.max(0, Math.trunc(Number(f.trim_start_s) || 0)),
			trim_silence: f.trim_silence,
			subtitles: f.subtitles,
			upgrade: f.upgrade,
			placement: f.placement,
			folder_name: f.folder_name.trim(),
			file_template: f.file_template.trim(),
			trailers: Math.trunc(Number(f.trailers) || 1),
			extras: [...f.extras],
			season_trailers: f.season_trailers,
			ytdlp_options: listOf(f.ytdlp_options)
		}
	} as ProfileInput;
}

/** The same profile as a `ProfileInput` with `enabled` changed (the list's switch). */
export function toggled(p: Profile, enabled: boolean): ProfileInput {
	return { ...formToInput(profileToForm(p)), enabled };
}

export const TEMPLATE_VARIABLES = [
	{ name: 'title', example: 'Alien' },
	{ name: 'year', example: '1979' },
	{ name: 'video_id', example: 'LjLamj-b0I8' },
	{ name: 'resolution', example: '1080p' }
] as const;
export const QUERY_VARIABLES = ['title', 'year', 'kind'] as const;

/** Where a profile puts a trailer, relative to the media folder, for an example movie. */
export function examplePath(f: Pick<ProfileForm, 'file_template' | 'container' | 'placement' | 'folder_name'>): string {
	let name = f.file_template;
	for (const v of TEMPLATE_VARIABLES) name = name.replaceAll(`{${v.name}}`, v.example);
	const file = `${name}.${f.container}`;
	return f.placement === 'folder' ? `${f.folder_name.trim() || 'Trailers'}/${file}` : file;
}

/** The extras a profile may ask for, with where each goes (as the server places them). */
export const EXTRA_KINDS: { value: Schemas['ExtraKind']; label: string; plural: string; folder: string; suffix: string }[] = [
	{ value: 'teaser', label: 'Teaser', plural: 'teaser', folder: 'the trailer folder', suffix: '-trailer' },
	{ value: 'featurette', label: 'Featurette', plural: 'featurette', folder: 'Featurettes/', suffix: '-featurette' },
	{ value: 'behind_the_scenes', label: 'Behind the scenes', plural: 'behind the scenes', folder: 'Behind The Scenes/', suffix: '-behindthescenes' },
	{ value: 'clip', label: 'Clip', plural: 'clip', folder: 'Scenes/', suffix: '-scene' }
];

/** The slot keys a profile fills per title, in the server's order: its trailers, then one of
 * each extra (`trailer-1`, `trailer-2`, `featurette-1`, `behindthescenes-1`…). */
export function profileSlots(p: Profile | null | undefined): string[] {
	if (!p) return [];
	const n = Math.min(Math.max(p.output.trailers ?? 1, 1), 3);
	const trailers = Array.from({ length: n }, (_, i) => `trailer-${i + 1}`);
	const wanted = new Set(p.output.extras ?? []);
	const extras = EXTRA_KINDS.filter((k) => wanted.has(k.value)).map((k) => `${k.value.replaceAll('_', '')}-1`);
	return [...trailers, ...extras];
}

/** How people read a slot key: `trailer-1` → "Trailer", `trailer-2` → "Trailer 2", `behindthescenes-1` → "Behind the scenes", `season-02` → "Season 2". */
export function slotLabel(slot: string | null | undefined): string {
	const [kind, n] = (slot ?? 'trailer-1').split('-');
	if (kind === 'season') return `Season ${Number(n)}`;
	const names: Record<string, string> = { trailer: 'Trailer', teaser: 'Teaser', featurette: 'Featurette', behindthescenes: 'Behind the scenes', clip: 'Clip' };
	const name = names[kind] ?? kind;
	return n && n !== '1' ? `${name} ${n}` : name;
}

/** One line about a profile's output for the list. */
export function outputSummary(p: Profile): string {
	const o = p.output;
	const where = o.placement === 'folder' ? `${o.folder_name}/ folder` : 'beside the media';
	const n = o.trailers ?? 1;
	const extras = o.extras ?? [];
	// Only a profile that wants more than the one trailer says so.
	const seasons = o.season_trailers ? ['season trailers'] : [];
	const wanted =
		n > 1 || extras.length || seasons.length
			? `${[n === 1 ? '1 trailer' : `${n} trailers`, ...extras.map((k) => EXTRA_KINDS.find((e) => e.value === k)?.plural ?? k), ...seasons].join(' + ')} · `
			: '';

	return `${wanted}${where} · ${o.container.toUpperCase()} · ${o.video_codec === 'copy' ? 'video as downloaded' : o.video_codec.toUpperCase()} · up to ${o.max_height}p`;
}

export function filterSummary(f: ProfileFilter, connections: Pick<Connection, 'id' | 'name'>[] = []): string {
	const info = fieldInfo(f.field);
	let v = f.value as unknown;
	if (f.field === 'connection_id') v = connections.find((c) => c.id === v)?.name ?? v;
	return `${info.label.toLowerCase()} ${OP_LABELS[f.op]} ${typeof v === 'string' ? `“${v}”` : String(v)}`;
}

// ---------------------------------------------------------------------------------------------
// Connection form

export const CONNECTION_KINDS = [
	{ value: 'radarr', label: 'Radarr', media: 'movies', url: 'http://radarr:7878', where: 'Radarr → Settings → General → Security → API Key' },
	{ value: 'sonarr', label: 'Sonarr', media: 'series', url: 'http://sonarr:8989', where: 'Sonarr → Settings → General → Security → API Key' },
	{
		value: 'plex',
		label: 'Plex',
		media: 'movies and shows',
		url: 'http://plex:32400',
		where: 'the X-Plex-Token: in Plex Web, a movie → ⋯ → Get Info → View XML, at the end of the address'
	},
	{
		value: 'jellyfin',
		label: 'Jellyfin',
		media: 'movies and shows',
		url: 'http://jellyfin:8096',
		where: 'Jellyfin → Dashboard → API Keys → + (one key for Tapearr)'
	}
] as const;

export const MASK = '***';

export interface ConnectionForm {
	name: string;
	kind: Connection['kind'];
	url: string;
	api_key: string;
	/** A finished Plex sign-in (PIN) whose token the server uses instead of `api_key`. */
	plex_pin?: number | null;
	mappings: { remote: string; local: string }[];
	monitor_new: boolean;
	enabled: boolean;
}

export const NEW_CONNECTION: ConnectionForm = { name: '', kind: 'radarr', url: '', api_key: '', mappings: [], monitor_new: true, enabled: true };

export function connectionToForm(c: Connection): ConnectionForm {
	return {
		name: c.name,
		kind: c.kind,
		url: c.url,
		api_key: MASK,
		mappings: c.path_mappings.map((m) => ({ remote: m.remote, local: m.local })),
		monitor_new: c.monitor_new,
		enabled: c.enabled
	};
}

/** The body of `POST`/`PUT …/connections` and `…/test`; empty mapping rows are dropped. */
export function connectionInput(f: ConnectionForm): ConnectionInput {
	return {
		name: f.name.trim(),
		kind: f.kind,
		url: f.url.trim(),
		...(f.kind === 'plex' && f.plex_pin ? { plex_pin_id: f.plex_pin } : { api_key: f.api_key.trim() === MASK ? MASK : f.api_key.trim() }),
		path_mappings: f.mappings.map((m) => ({ remote: m.remote.trim(), local: m.local.trim() })).filter((m) => m.remote || m.local),
		monitor_new: f.monitor_new,
		enabled: f.enabled
	};
}

/** `42 s`, `2:05` for candidate durations (seconds). */
export function seconds(s: number | null | undefined): string {
	if (s == null || !Number.isFinite(s)) return '—';
	const t = Math.round(s);
	if (t < 60) return `${t} s`;
	return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
}

export const SOURCE_LABELS: Record<string, string> = { user: 'your pick', arr: 'Radarr/Sonarr', tmdb: 'TMDB', search: 'search' };
