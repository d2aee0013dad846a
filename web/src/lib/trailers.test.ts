import { describe, expect, it } from 'vitest';
import {
	applicableProfiles,
	connectionInput,
	connectionToForm,
	DEFAULT_MEDIA_FILTERS,
	examplePath,
	filterMatches,
	formToInput,
	groupPreview,
	isMediaFiltered,
	MASK,
	mediaApiQuery,
	mediaFiltersFrom,
	mediaFiltersQuery,
	NEW_PROFILE,
	profileToForm,
	rowToFilter,
	seconds,
	stateBadges,
	statusInfo,
	toggled,
	withField,
	type Connection,
	type PlanEntry,
	type Profile
} from './trailers';

const item = {
	kind: 'movie' as const,
	year: 1979,
	language: 'English',
	studio: 'Brandywine Productions',
	title: 'Alien',
	original_title: 'Alien',
	tags: ['4k', 'classics'],
	monitor: true,
	has_file: true,
	connection_id: 'c1'
};

function profile(id: string, priority: number, extra: Partial<Profile> = {}): Profile {
	return {
		id,
		name: `Profile ${id}`,
		enabled: true,
		priority,
		filters: [],
		search: {},
		output: { container: 'mp4', video_codec: 'h264', audio_codec: 'aac', max_height: 1080, placement: 'beside', folder_name: 'Trailers', file_template: '{title} ({year})-trailer' },
		created_at: 0,
		updated_at: 0,
		...extra
	} as Profile;
}

describe('media filters in the URL', () => {
	it('an empty query is the defaults, and the defaults make an empty query', () => {
		expect(mediaFiltersFrom(new URLSearchParams())).toEqual(DEFAULT_MEDIA_FILTERS);
		expect(mediaFiltersQuery(DEFAULT_MEDIA_FILTERS)).toBe('');
		expect(isMediaFiltered(DEFAULT_MEDIA_FILTERS)).toBe(false);
	});

	it('round-trips through the URL', () => {
		const f = { q: 'alien & co', trailer: 'missing' as const, monitored: 'no' as const, connection: 'c1', page: 3, size: 96 };
		const q = mediaFiltersQuery(f);
		expect(q).toBe('?q=alien+%26+co&trailer=missing&monitored=no&connection=c1&page=3&size=96');
		expect(mediaFiltersFrom(new URLSearchParams(q))).toEqual(f);
		expect(isMediaFiltered(f)).toBe(true);
	});

	it('drops what it does not know', () => {
		expect(mediaFiltersFrom(new URLSearchParams('trailer=maybe&monitored=1&page=-1&size=7'))).toEqual(DEFAULT_MEDIA_FILTERS);
	});

	it('becomes the API query: monitored as a boolean, the page as an offset', () => {
		expect(mediaApiQuery({ ...DEFAULT_MEDIA_FILTERS, q: ' x ', monitored: 'yes', page: 2 }, 'movie')).toEqual({
			kind: 'movie',
			q: 'x',
			trailer: undefined,
			monitored: true,
			connection_id: undefined,
			limit: 48,
			offset: 48
		});
		expect(mediaApiQuery({ ...DEFAULT_MEDIA_FILTERS, monitored: 'no', trailer: 'failed', connection: 'c2' }, 'series')).toMatchObject({
			kind: 'series',
			monitored: false,
			trailer: 'failed',
			connection_id: 'c2',
			offset: 0
		});
	});
});

describe('which profiles apply (as the server decides)', () => {
	it('matches each field with its ops', () => {
		expect(filterMatches({ field: 'year', op: 'at_least', value: 1970 }, item)).toBe(true);
		expect(filterMatches({ field: 'year', op: 'at_most', value: 1970 }, item)).toBe(false);
		expect(filterMatches({ field: 'year', op: 'is_not', value: 1979 }, { ...item, year: null })).toBe(true);
		expect(filterMatches({ field: 'kind', op: 'is', value: 'movie' }, item)).toBe(true);
		expect(filterMatches({ field: 'kind', op: 'is_not', value: 'movie' }, item)).toBe(false);
		expect(filterMatches({ field: 'title', op: 'contains', value: 'LIE' }, item)).toBe(true);
		expect(filterMatches({ field: 'tags', op: 'is', value: '4K' }, item)).toBe(true);
		expect(filterMatches({ field: 'tags', op: 'not_contains', value: 'class' }, item)).toBe(false);
		expect(filterMatches({ field: 'monitored', op: 'is', value: true }, item)).toBe(true);
		expect(filterMatches({ field: 'has_file', op: 'is_not', value: true }, item)).toBe(false);
		expect(filterMatches({ field: 'language', op: 'is', value: 'english' }, item)).toBe(true);
		expect(filterMatches({ field: 'studio', op: 'contains', value: 'wine' }, item)).toBe(true);
		expect(filterMatches({ field: 'connection_id', op: 'is', value: 'c2' }, item)).toBe(false);
		// A value of the wrong type never matches (the server refuses to save it anyway).
		expect(filterMatches({ field: 'monitored', op: 'is', value: 'true' }, item)).toBe(false);
	});

	it('keeps enabled matching profiles, higher priority first, ties by name', () => {
		const ps = [
			profile('a', 5),
			profile('b', 10),
			profile('c', 5, { name: 'A first' }),
			profile('off', 99, { enabled: false }),
			profile('series', 50, { filters: [{ field: 'kind', op: 'is', value: 'series' }] })
		];
		expect(applicableProfiles(ps, item).map((p) => p.id)).toEqual(['b', 'c', 'a']);
	});
});

describe('state badges', () => {
	const ps = [profile('beside', 10, { name: 'Beside' }), profile('folder', 5, { name: 'Folder' }), profile('gone', 1, { enabled: false, name: 'Old' })];

	it('one per applicable profile, missing without a record, then records of other profiles', () => {
		const badges = stateBadges(
			{
				...item,
				trailers: [
					{ profile_id: 'folder', status: 'downloaded' },
					{ profile_id: 'gone', status: 'existing' },
					{ profile_id: 'deleted', status: 'failed' }
				]
			},
			ps
		);
		expect(badges.map((b) => [b.profileName, b.status, b.tone])).toEqual([
			['Beside', 'missing', 'warn'],
			['Folder', 'downloaded', 'ok'],
			['Old', 'existing', 'info'],
			['a removed profile', 'failed', 'danger']
		]);
		expect(badges[1].title).toBe('Folder: downloaded (placed by Tapearr)');
	});

	it('an item that is not monitored is skipped, not missing', () => {
		expect(stateBadges({ ...item, monitor: false, trailers: [] }, ps).map((b) => b.status)).toEqual(['skipped', 'skipped']);
	});

	it('words for every status, and unknown ones as they are', () => {
		expect(statusInfo('notfound').label).toBe('not found');
		expect(statusInfo('weird')).toMatchObject({ label: 'weird', tone: 'neutral' });
	});
});

describe('the preview', () => {
	const e = (media_id: string, title: string, action: PlanEntry['action'], profile_name = 'P'): PlanEntry => ({
		media_id,
		title,
		year: 2000,
		profile_id: profile_name,
		profile_name,
		action,
		reason: 'why'
	});

	it('groups by action in a fixed order, by title inside, counting items once', () => {
		const groups = groupPreview([e('1', 'zeta', 'download'), e('2', 'Alpha', 'download'), e('2', 'Alpha', 'download', 'Q'), e('3', 'b', 'have'), e('4', 'c', 'skip')]);
		expect(groups.map((g) => [g.action, g.entries.length, g.items])).toEqual([
			['download', 3, 2],
			['skip', 1, 1],
			['have', 1, 1]
		]);
		expect(groups[0].entries.map((x) => `${x.title}/${x.profile_name}`)).toEqual(['Alpha/P', 'Alpha/Q', 'zeta/P']);
	});

	it('is empty for an empty plan', () => {
		expect(groupPreview([])).toEqual([]);
	});
});

describe('the profile form', () => {
	it('typed filter values: numbers for year, booleans for flags', () => {
		expect(rowToFilter({ field: 'year', op: 'at_least', value: ' 2000 ' })).toEqual({ field: 'year', op: 'at_least', value: 2000 });
		expect(rowToFilter({ field: 'year', op: 'is', value: 'soon' }).value).toBe('soon');
		expect(rowToFilter({ field: 'monitored', op: 'is', value: 'false' }).value).toBe(false);
		expect(rowToFilter({ field: 'title', op: 'contains', value: ' 2001 ' }).value).toBe('2001');
	});

	it('changing the field keeps an op it allows and a value of the same type', () => {
		expect(withField({ field: 'title', op: 'contains', value: 'x' }, 'studio')).toEqual({ field: 'studio', op: 'contains', value: 'x' });
		expect(withField({ field: 'title', op: 'contains', value: 'x' }, 'year')).toEqual({ field: 'year', op: 'is', value: '' });
		expect(withField({ field: 'year', op: 'at_most', value: '1999' }, 'has_file')).toEqual({ field: 'has_file', op: 'is', value: 'true' });
		expect(withField({ field: 'title', op: 'is', value: 'x' }, 'kind')).toEqual({ field: 'kind', op: 'is', value: 'movie' });
	});

	it('round-trips a profile through the form', () => {
		const p = profile('x', 7, {
			name: 'Folder copy',
			filters: [
				{ field: 'year', op: 'at_least', value: 2000 },
				{ field: 'monitored', op: 'is', value: true }
			],
			search: {
				min_duration_s: 45,
				max_duration_s: 300,
				include_words: ['trailer|teaser', 'official'],
				exclude_words: ['fan made', 'cam'],
				uploaders: ['Warner Bros.'],
				language: 'de',
				query: '{title} trailer',
				search_results: 5,
				always_search: true
			},
			output: {
				container: 'mkv',
				video_codec: 'copy',
				audio_codec: 'opus',
				max_height: 720,
				hw_accel: 'vaapi',
				volume: 1.5,
				trim_start_s: 3,
				trim_silence: true,
				subtitles: true,
				placement: 'folder',
				folder_name: 'Trailers',
				file_template: '{title} ({year})',
				ytdlp_options: ['--limit-rate', '2M']
			}
		});
		const form = profileToForm(p);
		expect(form.include_words).toBe('trailer|teaser\nofficial');
		expect(form.exclude_words).toBe('fan made, cam');
		const input = formToInput(form);
		expect(input).toEqual({ name: p.name, enabled: true, priority: 7, filters: p.filters, search: p.search, output: p.output });
		expect(toggled(p, false).enabled).toBe(false);
	});

	it('the defaults make a valid new profile body; an empty language is null', () => {
		const input = formToInput({ ...NEW_PROFILE, name: ' New ', language: ' ' });
		expect(input.name).toBe('New');
		expect(input.search?.language).toBeNull();
		expect(input.search?.query).toBe('{title} {year} {kind} trailer');
		expect(input.output?.ytdlp_options).toEqual([]);
	});

	it('shows where a trailer goes', () => {
		expect(examplePath(NEW_PROFILE)).toBe('Alien (1979)-trailer.mp4');
		expect(examplePath({ ...NEW_PROFILE, placement: 'folder', file_template: '{title} {resolution}', container: 'mkv' })).toBe('Trailers/Alien 1080p.mkv');
	});
});

describe('the connection form', () => {
	const c = {
		id: 'c1',
		name: 'Radarr',
		kind: 'radarr',
		url: 'http://radarr:7878',
		api_key: '***',
		path_mappings: [{ remote: 'D:\\Movies', local: '/media/movies' }],
		monitor_new: false,
		enabled: true
	} as Connection;

	it('keeps the stored key with *** and drops empty mapping rows', () => {
		const f = connectionToForm(c);
		expect(f.api_key).toBe(MASK);
		f.mappings.push({ remote: ' ', local: '' });
		f.url = ' http://radarr:7878/ ';
		expect(connectionInput(f)).toEqual({
			name: 'Radarr',
			kind: 'radarr',
			url: 'http://radarr:7878/',
			api_key: '***',
			path_mappings: [{ remote: 'D:\\Movies', local: '/media/movies' }],
			monitor_new: false,
			enabled: true
		});
	});
});

it('candidate durations read like a player', () => {
	expect(seconds(42.4)).toBe('42 s');
	expect(seconds(125)).toBe('2:05');
	expect(seconds(null)).toBe('—');
});
