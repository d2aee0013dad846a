// The recordings library: list filters kept in the page's URL, status words, chapters and
// player helpers (pure, unit-tested).
import type { Schemas } from './api/client';
import { topics, type JobKind } from './events';

export type Recording = Schemas['Recording'];
export type RecordingDetail = Schemas['RecordingDetail'];
export type Chapter = Schemas['Chapter'];

export const SORTS = [
	{ value: 'started', label: 'Date' },
	{ value: 'duration', label: 'Duration' },
	{ value: 'size', label: 'Size' },
	{ value: 'channel', label: 'Channel' }
] as const;
export type Sort = (typeof SORTS)[number]['value'];
export type Order = 'asc' | 'desc';

export const STATUSES = ['recording', 'ended', 'finalizing', 'ready', 'failed'] as const;
export const PAGE_SIZES = [24, 48, 96] as const;

/** What the Recordings page shows, as its URL query says (`?channel=…&status=…&page=2`). */
export interface Filters {
	channel: string;
	status: string;
	category: string;
	q: string;
	/** A local date, `yyyy-mm-dd` (the value of an `<input type="date">`), or empty. */
	from: string;
	/** A local date, inclusive, or empty. */
	to: string;
	sort: Sort;
	order: Order;
	/** 1-based. */
	page: number;
	size: number;
}

export const DEFAULT_FILTERS: Filters = {
	channel: '',
	status: '',
	category: '',
	q: '',
	from: '',
	to: '',
	sort: 'started',
	order: 'desc',
	page: 1,
	size: PAGE_SIZES[0]
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The filters in a URL query; anything unknown or malformed falls back to the default. */
export function filtersFrom(params: URLSearchParams): Filters {
	const text = (k: string) => (params.get(k) ?? '').trim();
	const date = (k: string) => (DATE.test(text(k)) ? text(k) : '');
	const sort = SORTS.find((s) => s.value === text('sort'))?.value ?? DEFAULT_FILTERS.sort;
	const order: Order = text('order') === 'asc' ? 'asc' : text('order') === 'desc' ? 'desc' : defaultOrder(sort);
	const page = Math.max(1, Math.floor(Number(text('page')) || 1));
	const size = Number(text('size'));
	return {
		channel: text('channel'),
		status: (STATUSES as readonly string[]).includes(text('status')) ? text('status') : '',
		category: text('category'),
		q: text('q'),
		from: date('from'),
		to: date('to'),
		sort,
		order,
		page,
		size: (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_FILTERS.size
	};
}

/** Newest, longest and largest first; channels A to Z. */
export function defaultOrder(sort: Sort): Order {
	return sort === 'channel' ? 'asc' : 'desc';
}

/** The URL query for these filters, without the defaults (`''` when all are defaults). */
export function filtersQuery(f: Filters): string {
	const p = new URLSearchParams();
	if (f.channel) p.set('channel', f.channel);
	if (f.status) p.set('status', f.status);
	if (f.category.trim()) p.set('category', f.category.trim());
	if (f.q.trim()) p.set('q', f.q.trim());
	if (f.from) p.set('from', f.from);
	if (f.to) p.set('to', f.to);
	if (f.sort !== DEFAULT_FILTERS.sort) p.set('sort', f.sort);
	if (f.order !== defaultOrder(f.sort)) p.set('order', f.order);
	if (f.page > 1) p.set('page', String(f.page));
	if (f.size !== DEFAULT_FILTERS.size) p.set('size', String(f.size));
	const s = p.toString();
	return s ? `?${s}` : '';
}

/** Whether anything narrows the list (the empty state then says "nothing matches" instead of "nothing yet"). */
export function isFiltered(f: Filters): boolean {
	return !!(f.channel || f.status || f.category.trim() || f.q.trim() || f.from || f.to);
}

/** Midnight at the start of a local `yyyy-mm-dd` (plus `days`), as RFC 3339 in UTC. */
export function localDayStart(date: string, days = 0): string {
	const [y, m, d] = date.split('-').map(Number);
	return new Date(y, m - 1, d + days).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The list API's query for these filters (`to` includes its whole day). */
export function apiQuery(f: Filters) {
	return {
		channel_id: f.channel || undefined,
		status: f.status || undefined,
		category: f.category.trim() || undefined,
		q: f.q.trim() || undefined,
		from: f.from ? localDayStart(f.from) : undefined,
		to: f.to ? localDayStart(f.to, 1) : undefined,
		sort: f.sort,
		order: f.order,
		limit: f.size,
		offset: (f.page - 1) * f.size
	};
}

/** The last page that has rows (1 when there are none). */
export function lastPage(total: number, size: number): number {
	return Math.max(1, Math.ceil(total / size));
}

const STEPS: Record<string, string> = {
	remux: 'joining and remuxing',
	validate: 'checking the MP4',
	extras: 'thumbnail, chapters and NFO',
	cleanup: 'removing the parts',
	done: 'done'
};

/** A finalize step for people: `remux` → "joining and remuxing". */
export function stepText(step: string | null | undefined): string {
	return step ? (STEPS[step] ?? step) : '';
}

/** One line on where a recording stands, beside its status badge. */
export function statusDetail(r: Pick<Recording, 'status' | 'finalize_step' | 'finalize_error'>): string {
	if (r.finalize_error) return `Finalize failed: ${r.finalize_error}`;
	switch (r.status) {
		case 'ended':
			return 'Waiting to be finalized';
		case 'finalizing':
			return r.finalize_step ? `Finalizing: ${stepText(r.finalize_step)}` : 'Finalizing';
		default:
			return '';
	}
}

/** Finalize can be retried: it gave up on a recording that ended. */
export function canRetry(r: Pick<Recording, 'status' | 'finalize_error'>): boolean {
	return !!r.finalize_error && (r.status === 'ended' || r.status === 'finalizing');
}

/** A VOD whose download gave up: the user can download it again (finished segments reused). */
export function canRetryVod(r: Pick<Recording, 'status' | 'source'>): boolean {
	return r.source === 'vod' && r.status === 'failed';
}

/** The MP4 exists: the video, thumbnail and share link work. */
export function isPlayable(r: Pick<Recording, 'status'>): boolean {
	return r.status === 'ready';
}

/** Length shown for a recording: the MP4's when there is one, else the recorded media time. */
export function lengthMs(r: Pick<Recording, 'duration_ms' | 'media_ms'>): number {
	return r.duration_ms ?? r.media_ms;
}

/** Size shown for a recording: the MP4's when there is one, else the parts'. */
export function sizeBytes(r: Pick<Recording, 'video_bytes' | 'bytes'>): number {
	return r.video_bytes ?? r.bytes;
}

/** `S202611E03` (how media servers number it), or `''` before finalize chose it. */
export function episodeCode(r: Pick<Recording, 'season' | 'episode'>): string {
	if (!r.season || r.episode == null) return '';
	return `S${r.season}E${String(r.episode).padStart(2, '0')}`;
}

/** 3_725_000 → "1:02:05"; 65_000 → "1:05" (a player's clock). */
export function clock(ms: number): string {
	const s = Math.max(0, Math.floor(ms / 1000));
	const h = Math.floor(s / 3600);
	const m = Math.floor((s % 3600) / 60);
	const sec = String(s % 60).padStart(2, '0');
	return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Index of the chapter playing at `ms` (the last one that started at or before it), or -1. */
export function chapterAt(chapters: Pick<Chapter, 'start_ms'>[], ms: number): number {
	let found = -1;
	chapters.forEach((c, i) => {
		if (c.start_ms <= ms) found = i;
	});
	return found;
}

/** How long a share link works: the choices offered, in seconds. */
export const SHARE_TTLS = [
	{ secs: 3600, label: '1 hour' },
	{ secs: 86_400, label: '1 day' },
	{ secs: 7 * 86_400, label: '7 days' },
	{ secs: 30 * 86_400, label: '30 days' }
] as const;

/** Everything after this event may have changed a listed recording (refetch the list). */
export const LIBRARY_EVENTS = topics(
	'recording.started',
	'recording.stopped',
	'recording.failed',
	'recording.finalized',
	'recording.finalize_failed',
	'recording.deleted',
	'recording.progress'
);

/** The kind of the job that finalizes recordings (its progress moves `finalize_step`). */
export const FINALIZE_JOB: JobKind = 'recording.finalize';

/**
 * Where the watch player should be: seconds behind the live edge (`null` while unknown). A player
 * within `slack` seconds of the edge is "live".
 */
export function behindLive(currentTime: number, liveEdge: number | null, slack = 6): { live: boolean; behind: number } | null {
	if (liveEdge === null || !Number.isFinite(liveEdge)) return null;
	const behind = Math.max(0, liveEdge - currentTime);
	return { live: behind <= slack, behind };
}
