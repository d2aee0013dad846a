import { describe, expect, it } from 'vitest';
import {
	connectionInput,
	connectionToForm,
	DEFAULT_MEDIA_FILTERS,
	examplePath,
	formToInput,
	groupPreview,
	isMediaFiltered,
	MASK,
	mediaApiQuery,
	mediaFiltersFrom,
	mediaFiltersQuery,
	NEW_PROFILE,
	profileSlots,
	profileToForm,
	rowToFilter,
	seconds,
	slotLabel,
	stateBadges,
	statusInfo,
	toggled,
	withField,
	type Connection,
	type DownloadStatus,
	type PlanAction,
	type PlanEntry,
	type Profile
} from './trailers';

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

describe('state badges', () => {
	const state = (profile_name: string, action: PlanAction, status: DownloadStatus | null, reason = 'why', slot = 'trailer-1') => ({
		profile_id: profile_name.toLowerCase(),
		profile_name,
		slot,
		action,
		status,
		reason
	});

	it('one per profile the server lists, missing when the next run downloads, with the reason on hover', () => {
		const badges = stateBadges({
			trailers: [
				state('Beside', 'download', null, 'no trailer yet'),
				state('Folder', 'have', 'downloaded', 'placed'),
				state('Old', 'have', 'existing', 'this profile no longer applies to the item'),
				state('Retry', 'wait', 'failed', 'tried again in 2 days')
			]
		});
		expect(badges.map((b) => [b.profileName, b.status, b.tone])).toEqual([
			['Beside', 'missing', 'warn'],
			['Folder', 'downloaded', 'ok'],
			['Old', 'existing', 'info'],
			['Retry', 'failed', 'danger']
		]);
		expect(badges[3].title).toBe('Retry: failed (tried again in 2 days)');
	});

	it('the other slots of a profile are named after the slot', () => {
		const badges = stateBadges({
			trailers: [state('Beside', 'have', 'downloaded'), state('Beside', 'download', null, 'no trailer 2 yet', 'trailer-2'), state('Beside', 'have', 'downloaded', 'placed', 'behindthescenes-1')]
		});
		expect(badges.map((b) => [b.profileName, b.slot])).toEqual([
			['Beside', 'trailer-1'],
			['Beside · Trailer 2', 'trailer-2'],
			['Beside · Behind the scenes', 'behindthescenes-1']
		]);
		expect(new Set(badges.map((b) => `${b.profileId}/${b.slot}`)).size).toBe(3);
	});

	it('a profile the run leaves alone is skipped, not missing, unless its trailer is there', () => {
		const badges = stateBadges({
			trailers: [state('A', 'skip', null, 'the folder does not exist yet'), state('B', 'skip', 'missing'), state('C', 'skip', 'existing')]
		});
		expect(badges.map((b) => b.status)).toEqual(['skipped', 'skipped', 'existing']);
		expect(badges[0].title).toBe('A: skipped (the folder does not exist yet)');
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
		slot: 'trailer-1',
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
				fallback_languages: ['fr', 'en'],
				prefer_original_language: true,
				query: '{title} trailer',
				search_results: 5,
				always_search: true,
				skip_if_server_has_trailer: true
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
				trailers: 2,
				extras: ['featurette', 'clip'],
				season_trailers: true,
				ytdlp_options: ['--limit-rate', '2M'],
				upgrade: true
			}
		});
		const form = profileToForm(p);
		expect(form.include_words).toBe('trailer|teaser\nofficial');
		expect(form.exclude_words).toBe('fan made, cam');
		expect(form.fallback_languages).toBe('fr, en');
		const input = formToInput(form);
		expect(input).toEqual({ name: p.name, enabled: true, priority: 7, filters: p.filters, search: p.search, output: p.output });
		expect(toggled(p, false).enabled).toBe(false);
	});

	it('names season slots by their season', () => {
		expect(slotLabel('season-02')).toBe('Season 2');
		expect(slotLabel('season-12')).toBe('Season 12');
		expect(slotLabel('trailer-2')).toBe('Trailer 2');
		expect(NEW_PROFILE.season_trailers).toBe(false);
	});


	it('the defaults make a valid new profile body; an empty language is null', () => {
		const input = formToInput({ ...NEW_PROFILE, name: ' New ', language: ' ' });
		expect(input.name).toBe('New');
		expect(input.search?.language).toBeNull();
		expect(input.search?.query).toBe('{title} {year} {kind} trailer');
		expect(input.output?.ytdlp_options).toEqual([]);
		expect([input.output?.trailers, input.output?.extras]).toEqual([1, []]);
	});

	it('lists the slots a profile fills in the server order', () => {
		const p = profile('x', 1, { output: { ...profile('x', 1).output, trailers: 2, extras: ['clip', 'behind_the_scenes', 'teaser'] } });
		expect(profileSlots(p)).toEqual(['trailer-1', 'trailer-2', 'teaser-1', 'behindthescenes-1', 'clip-1']);
		expect(profileSlots(null)).toEqual([]);
		expect(slotLabel('behindthescenes-1')).toBe('Behind the scenes');
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

	it('sends a Plex sign-in instead of a token, for Plex only', () => {
		const plex = { ...connectionToForm({ ...c, kind: 'plex' }), api_key: '', plex_pin: 1000001 };
		const body = connectionInput(plex);
		expect(body.plex_pin_id).toBe(1000001);
		expect(body).not.toHaveProperty('api_key');
		const radarr = connectionInput({ ...plex, kind: 'radarr', api_key: 'k' });
		expect(radarr).not.toHaveProperty('plex_pin_id');
		expect(radarr.api_key).toBe('k');
	});
});

it('candidate durations read like a player', () => {
	expect(seconds(42.4)).toBe('42 s');
	expect(seconds(125)).toBe('2:05');
	expect(seconds(null)).toBe('—');
});
