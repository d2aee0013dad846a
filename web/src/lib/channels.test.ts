import { describe, expect, it } from 'vitest';
import { applyEvent, parseCodecs, sortChannels, withProgress, type ChannelView, type Recording } from './channels';

const rec = (over: Partial<Recording> = {}): Recording => ({
	id: 'r1',
	channel_id: 'c1',
	stream_id: 's1',
	status: 'recording',
	dir: '/lib/a',
	stem: 'a',
	quality: 'best',
	started_at: 1,
	ended_at: null,
	bytes: 100,
	media_ms: 2000,
	segments: 1,
	missed_segments: 0,
	sessions: 1,
	end_reason: null,
	error: null,
	updated_at: 1,
	keep: false,
	channel_login: 'a',
	channel_name: 'A',
	title: '',
	category: '',
	...over
});

const chan = (over: Partial<ChannelView> = {}): ChannelView => ({
	id: 'c1',
	twitch_id: '1',
	login: 'alpha',
	display_name: 'Alpha',
	description: '',
	avatar_url: null,
	offline_image_url: null,
	auto_record: true,
	quality: 'best',
	codecs: 'h264',
	naming_template: null,
	favourite: false,
	live: false,
	title: '',
	category: '',
	live_checked_at: null,
	created_at: 1,
	updated_at: 1,
	recording: null,
	...over
});

describe('applyEvent', () => {
	it('marks a channel live with its title and category, then offline', () => {
		const list = [chan(), chan({ id: 'c2', login: 'beta' })];
		const a = applyEvent(list, 'channel.live', { channel_id: 'c1', title: 'Speedrun', category: 'Celeste' });
		expect(a.channels[0]).toMatchObject({ live: true, title: 'Speedrun', category: 'Celeste' });
		expect(a.channels[1]).toBe(list[1]);
		const b = applyEvent(a.channels, 'channel.offline', { channel_id: 'c1' });
		expect(b.channels[0].live).toBe(false);
		expect(b.channels[0].title).toBe('Speedrun');
	});

	it('updates the bytes of the matching recording and asks for an unknown one', () => {
		const list = [chan({ live: true, recording: rec() })];
		const a = applyEvent(list, 'recording.progress', { channel_id: 'c1', recording_id: 'r1', bytes: 5000, media_ms: 9000, segments: 4 });
		expect(a.channels[0].recording).toMatchObject({ bytes: 5000, media_ms: 9000, segments: 4 });
		expect(a.refetch).toEqual([]);
		const b = applyEvent(list, 'recording.progress', { channel_id: 'c1', recording_id: 'other', bytes: 1 });
		expect(b.channels).toBe(list);
		expect(b.refetch).toEqual(['c1']);
	});

	it('keeps the counters a progress event does not carry', () => {
		const r = rec({ bytes: 10, media_ms: 20, segments: 3 });
		expect(withProgress(r, { bytes: 50 })).toMatchObject({ bytes: 50, media_ms: 20, segments: 3 });
		expect(withProgress(r, { media_ms: 'x' })).toMatchObject({ bytes: 10, media_ms: 20, segments: 3 });
		expect(withProgress(r, null)).toEqual(r);
	});

	it('fetches the channel when a recording starts and clears it with an outcome when it stops', () => {
		const list = [chan({ live: true, recording: rec() })];
		expect(applyEvent(list, 'recording.started', { channel_id: 'c1', recording_id: 'r1' }).refetch).toEqual(['c1']);
		const s = applyEvent(list, 'recording.stopped', { channel_id: 'c1', recording_id: 'r1', reason: 'stream ended', bytes: 7, media_ms: 8 });
		expect(s.channels[0].recording).toBeNull();
		expect(s.outcome).toEqual({ channel_id: 'c1', outcome: { kind: 'stopped', text: 'Recording ended: stream ended', bytes: 7, media_ms: 8 } });
		const f = applyEvent(list, 'recording.failed', { channel_id: 'c1', recording_id: null, error: 'disk full' });
		expect(f.channels[0].recording).toBeNull();
		expect(f.outcome?.outcome.kind).toBe('failed');
	});

	it('keeps a newer recording when an older one stops', () => {
		const list = [chan({ recording: rec({ id: 'r2' }) })];
		const s = applyEvent(list, 'recording.stopped', { channel_id: 'c1', recording_id: 'r1', reason: 'x' });
		expect(s.channels[0].recording?.id).toBe('r2');
	});

	it('reloads for unknown channels and drops removed ones', () => {
		const list = [chan()];
		expect(applyEvent(list, 'channel.added', { channel_id: 'c9' }).reload).toBe(true);
		expect(applyEvent(list, 'channel.added', { channel_id: 'c1' }).reload).toBe(false);
		expect(applyEvent(list, 'channel.live', { channel_id: 'c9' }).reload).toBe(true);
		expect(applyEvent(list, 'channel.removed', { channel_id: 'c1' }).channels).toEqual([]);
		expect(applyEvent(list, 'channel.removed', { channel_id: 'c9' }).reload).toBe(false);
	});

	it('ignores events that do not concern channels', () => {
		const list = [chan()];
		const a = applyEvent(list, 'job.started', { kind: 'x' });
		expect(a.channels).toBe(list);
		expect(a.reload).toBe(false);
	});
});

describe('helpers', () => {
	it('sorts favourites, then live channels, then by name', () => {
		const sorted = sortChannels([
			chan({ id: 'a', display_name: 'zed' }),
			chan({ id: 'b', display_name: 'Bob', live: true }),
			chan({ id: 'c', display_name: 'amy' }),
			chan({ id: 'd', display_name: 'Yan', favourite: true })
		]);
		expect(sorted.map((c) => c.id)).toEqual(['d', 'b', 'c', 'a']);
	});

	it('parses codecs', () => {
		expect(parseCodecs('AV1, h264,foo')).toEqual(['h264', 'av1']);
	});
});
