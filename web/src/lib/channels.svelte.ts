// The watched channels as reactive state, kept current from the WebSocket. Used by the Streams
// page and the dashboard: `const list = channelList(); onMount(list.start);`
import { api, errorText, unwrap } from './api/client';
import { live } from './app.svelte';
import { applyEvent, CHANNEL_EVENTS, type ChannelView, type Outcome } from './channels';

export function channelList() {
	const s = $state({
		channels: null as ChannelView[] | null,
		error: null as unknown,
		/** How the last recording of a channel ended (this session only; the channel page has the history). */
		outcomes: {} as Record<string, Outcome>,
		/** Channel ids with a record/stop/favourite request in flight. */
		busy: {} as Record<string, boolean>,
		/** A failed action's message per channel. */
		actionErrors: {} as Record<string, string>
	});

	async function load() {
		try {
			s.channels = await unwrap(api.GET('/api/v1/channels'));
			s.error = null;
		} catch (e) {
			s.error = e;
		}
	}

	function put(c: ChannelView) {
		if (!s.channels) return;
		const i = s.channels.findIndex((x) => x.id === c.id);
		if (i >= 0) s.channels[i] = c;
		else s.channels.push(c);
	}

	/** Channel ids being fetched again: a burst of events for one channel starts one request. */
	const fetching = new Set<string>();

	async function refetch(id: string) {
		if (fetching.has(id)) return;
		fetching.add(id);
		try {
			put(await unwrap(api.GET('/api/v1/channels/{id}', { params: { path: { id } } })));
		} catch {
			// Removed meanwhile (its channel.removed event follows) or offline: the next resync fixes it.
		} finally {
			fetching.delete(id);
		}
	}

	async function act(id: string, fn: () => Promise<void>) {
		s.busy[id] = true;
		delete s.actionErrors[id];
		try {
			await fn();
		} catch (e) {
			s.actionErrors[id] = errorText(e);
		} finally {
			delete s.busy[id];
		}
	}

	const record = (c: ChannelView) =>
		act(c.id, async () => {
			await unwrap(api.POST('/api/v1/channels/{id}/record', { params: { path: { id: c.id } } }));
			delete s.outcomes[c.id];
			await refetch(c.id);
		});

	const stop = (c: ChannelView) =>
		act(c.id, async () => {
			if (!c.recording) return;
			await unwrap(api.POST('/api/v1/recordings/{id}/stop', { params: { path: { id: c.recording.id } } }));
			await refetch(c.id);
		});

	const favourite = (c: ChannelView) =>
		act(c.id, async () => {
			put(await unwrap(api.PATCH('/api/v1/channels/{id}', { params: { path: { id: c.id } }, body: { favourite: !c.favourite } })));
		});

	/** Loads and subscribes; returns the cleanup (for `onMount`). */
	function start() {
		load();
		return live(
			CHANNEL_EVENTS,
			(e) => {
				if (!s.channels) return;
				const r = applyEvent(s.channels, e.type, e.data);
				if (r.channels !== s.channels) s.channels = r.channels;
				if (r.outcome) s.outcomes[r.outcome.channel_id] = r.outcome.outcome;
				if (e.type === 'recording.started') delete s.outcomes[e.data.channel_id];
				if (r.reload) load();
				else r.refetch.forEach(refetch);
			},
			load
		);
	}

	return { state: s, load, start, record, stop, favourite, put };
}
