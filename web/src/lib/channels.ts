// Channels and their recordings, kept current from the realtime events (pure, unit-tested).
import type { Schemas } from './api/client';
import { topics, type EventType } from './events';

export type ChannelView = Schemas['ChannelView'];
export type Recording = Schemas['Recording'];

/** How a channel's last recording ended, as learned from `recording.stopped` / `.failed` / `.refused`. */
export interface Outcome {
	kind: 'stopped' | 'failed' | 'refused';
	text: string;
	bytes?: number;
	media_ms?: number;
}

/** Every event type that changes what a channel list shows. */
export const CHANNEL_EVENTS = topics('channel.*', 'recording.*');

export interface Applied {
	channels: ChannelView[];
	/** Channel ids whose full view must be fetched again (a new recording, new settings). */
	refetch: string[];
	/** The whole list must be fetched again (a channel was added). */
	reload: boolean;
	outcome?: { channel_id: string; outcome: Outcome };
}

/** A stop or refusal reason for people (the server already words most of them). */
function reasonText(reason: string | null | undefined): string {
	if (!reason) return 'unknown reason';
	return reason.replaceAll('_', ' ');
}

/** A recording with the counters of a `recording.progress` event's data (those it carries). */
export function withProgress<R extends Pick<Recording, 'bytes' | 'media_ms' | 'segments'>>(r: R, data: unknown): R {
	const d = (data ?? {}) as Record<string, unknown>;
	const num = (v: unknown, old: number) => {
		const n = Number(v ?? old);
		return Number.isFinite(n) ? n : old;
	};
	return { ...r, bytes: num(d.bytes, r.bytes), media_ms: num(d.media_ms, r.media_ms), segments: num(d.segments, r.segments) };
}

/** Applies one event to a channel list; returns the new list (or the same one when nothing changed). */
export function applyEvent(channels: ChannelView[], type: EventType, data: unknown): Applied {
	const d = (data ?? {}) as Record<string, unknown>;
	const id = typeof d.channel_id === 'string' ? d.channel_id : null;
	const out: Applied = { channels, refetch: [], reload: false };
	if (type === 'channel.added') {
		out.reload = !channels.some((c) => c.id === id);
		return out;
	}
	if (!id) return out;
	const i = channels.findIndex((c) => c.id === id);
	if (i < 0) {
		// An event for a channel this list has not seen yet: it was added meanwhile.
		out.reload = type !== 'channel.removed';
		return out;
	}
	const c = channels[i];
	const put = (next: ChannelView) => {
		out.channels = channels.slice();
		out.channels[i] = next;
	};
	switch (type) {
		case 'channel.removed':
			out.channels = channels.filter((x) => x.id !== id);
			break;
		case 'channel.live':
			put({ ...c, live: true, title: String(d.title ?? c.title), category: String(d.category ?? c.category) });
			break;
		case 'channel.offline':
			put({ ...c, live: false });
			break;
		case 'channel.updated':
			put({ ...c, title: String(d.title ?? c.title), category: String(d.category ?? c.category) });
			// Settings may have changed too; the event does not carry them.
			out.refetch.push(id);
			break;
		case 'recording.started':
			out.refetch.push(id);
			break;
		case 'recording.progress':
			if (c.recording && c.recording.id === d.recording_id) {
				put({ ...c, recording: withProgress(c.recording, d) });
			} else {
				// A recording this list does not know yet (its start event came before the load).
				out.refetch.push(id);
			}
			break;
		case 'recording.gap':
			out.refetch.push(id);
			break;
		case 'recording.stopped':
			if (!c.recording || c.recording.id === d.recording_id) put({ ...c, recording: null });
			out.outcome = {
				channel_id: id,
				outcome: {
					kind: 'stopped',
					text: `Recording ended: ${reasonText(d.reason as string)}`,
					bytes: Number(d.bytes ?? 0),
					media_ms: Number(d.media_ms ?? 0)
				}
			};
			break;
		case 'recording.failed':
			if (!c.recording || !d.recording_id || c.recording.id === d.recording_id) put({ ...c, recording: null });
			out.outcome = { channel_id: id, outcome: { kind: 'failed', text: `Recording failed: ${d.error ?? 'unknown error'}` } };
			break;
		case 'recording.refused':
			out.outcome = { channel_id: id, outcome: { kind: 'refused', text: `Not recorded: ${reasonText(d.reason as string)}` } };
			break;
	}
	return out;
}

/** Favourites first, then live channels, then by name. */
export function sortChannels(channels: ChannelView[]): ChannelView[] {
	return channels.slice().sort(
		(a, b) =>
			Number(b.favourite) - Number(a.favourite) ||
			Number(b.live) - Number(a.live) ||
			a.display_name.localeCompare(b.display_name, undefined, { sensitivity: 'base' })
	);
}

export const QUALITY_PRESETS = [
	{ value: 'best', label: 'Best available' },
	{ value: '1080p60,1080p,720p60,720p,best', label: '1080p, else 720p, else best' },
	{ value: '720p60,720p,best', label: '720p, else best' },
	{ value: '480p,best', label: '480p, else best' },
	{ value: 'audio_only', label: 'Audio only' }
];
export const CODECS = ['h264', 'h265', 'av1'] as const;

/** `"h264, av1"` → `["h264", "av1"]` (known codecs only, in the canonical order). */
export function parseCodecs(s: string): string[] {
	const set = new Set(s.split(',').map((x) => x.trim().toLowerCase()));
	return CODECS.filter((c) => set.has(c));
}
