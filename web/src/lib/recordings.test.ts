import { describe, expect, it } from 'vitest';
import {
	apiQuery,
	behindLive,
	canRetry,
	canRetryVod,
	chapterAt,
	clock,
	DEFAULT_FILTERS,
	episodeCode,
	filtersFrom,
	filtersQuery,
	isFiltered,
	lastPage,
	localDayStart,
	statusDetail
} from './recordings';

describe('recording filters', () => {
	it('an empty query is the defaults, and the defaults make an empty query', () => {
		expect(filtersFrom(new URLSearchParams())).toEqual(DEFAULT_FILTERS);
		expect(filtersQuery(DEFAULT_FILTERS)).toBe('');
		expect(isFiltered(DEFAULT_FILTERS)).toBe(false);
	});

	it('round-trips through the URL', () => {
		const f = { ...DEFAULT_FILTERS, channel: 'c1', status: 'ready', category: 'Celeste', q: 'any%', from: '2026-11-01', to: '2026-11-30', sort: 'size' as const, order: 'asc' as const, page: 3, size: 48 };
		const q = filtersQuery(f);
		expect(q).toBe('?channel=c1&status=ready&category=Celeste&q=any%25&from=2026-11-01&to=2026-11-30&sort=size&order=asc&page=3&size=48');
		expect(filtersFrom(new URLSearchParams(q))).toEqual(f);
		expect(isFiltered(f)).toBe(true);
	});

	it('drops what it does not know', () => {
		const f = filtersFrom(new URLSearchParams('status=nope&sort=random&order=up&page=-2&size=7&from=yesterday'));
		expect(f).toEqual(DEFAULT_FILTERS);
	});

	it('sorts channels A to Z by default, the rest largest first', () => {
		expect(filtersFrom(new URLSearchParams('sort=channel')).order).toBe('asc');
		expect(filtersQuery({ ...DEFAULT_FILTERS, sort: 'channel', order: 'asc' })).toBe('?sort=channel');
		expect(filtersQuery({ ...DEFAULT_FILTERS, sort: 'channel', order: 'desc' })).toBe('?sort=channel&order=desc');
	});

	it('asks the API for whole local days', () => {
		const q = apiQuery({ ...DEFAULT_FILTERS, from: '2026-11-01', to: '2026-11-01', page: 2 });
		expect(q.from).toBe(new Date(2026, 10, 1).toISOString().replace('.000Z', 'Z'));
		expect(q.to).toBe(new Date(2026, 10, 2).toISOString().replace('.000Z', 'Z'));
		expect(q.offset).toBe(24);
		expect(q.limit).toBe(24);
		expect(q.channel_id).toBeUndefined();
		expect(localDayStart('2026-12-31', 1)).toBe(new Date(2027, 0, 1).toISOString().replace('.000Z', 'Z'));
	});

	it('pages', () => {
		expect(lastPage(0, 24)).toBe(1);
		expect(lastPage(24, 24)).toBe(1);
		expect(lastPage(25, 24)).toBe(2);
	});
});

describe('recording words', () => {
	const r = { status: 'finalizing' as const, finalize_step: 'remux' as const, finalize_error: null };
	it('says where finalize is', () => {
		expect(statusDetail(r)).toBe('Finalizing: joining and remuxing');
		expect(statusDetail({ ...r, status: 'ended', finalize_step: null })).toBe('Waiting to be finalized');
		expect(statusDetail({ ...r, status: 'ready', finalize_step: 'done' })).toBe('');
		expect(statusDetail({ ...r, finalize_error: 'disk full' })).toBe('Finalize failed: disk full');
	});
	it('offers a retry only after finalize gave up', () => {
		expect(canRetry(r)).toBe(false);
		expect(canRetry({ ...r, finalize_error: 'disk full' })).toBe(true);
		expect(canRetry({ status: 'ready', finalize_error: 'old' })).toBe(false);
	});
	it('offers to download again only a VOD that failed', () => {
		expect(canRetryVod({ source: 'vod', status: 'failed' })).toBe(true);
		expect(canRetryVod({ source: 'vod', status: 'downloading' })).toBe(false);
		expect(canRetryVod({ source: 'vod', status: 'ready' })).toBe(false);
		expect(canRetryVod({ source: 'live', status: 'failed' })).toBe(false);
	});
	it('numbers episodes like media servers', () => {
		expect(episodeCode({ season: '202611', episode: 3 })).toBe('S202611E03');
		expect(episodeCode({ season: null, episode: null })).toBe('');
	});
	it('shows a player clock', () => {
		expect(clock(65_000)).toBe('1:05');
		expect(clock(3_725_000)).toBe('1:02:05');
		expect(clock(-5)).toBe('0:00');
	});
});

describe('player helpers', () => {
	it('finds the chapter playing', () => {
		const ch = [{ start_ms: 0 }, { start_ms: 8000 }, { start_ms: 20_000 }];
		expect(chapterAt(ch, 0)).toBe(0);
		expect(chapterAt(ch, 7999)).toBe(0);
		expect(chapterAt(ch, 8000)).toBe(1);
		expect(chapterAt(ch, 99_000)).toBe(2);
		expect(chapterAt([], 5)).toBe(-1);
	});
	it('says how far behind live the player is', () => {
		expect(behindLive(10, null)).toBeNull();
		expect(behindLive(97, 100)).toEqual({ live: true, behind: 3 });
		expect(behindLive(10, 100)).toEqual({ live: false, behind: 90 });
	});
});
