import { describe, expect, it } from 'vitest';
import { under } from './events';
import { Realtime, type SocketLike } from './realtime';

class FakeSocket implements SocketLike {
	onopen: ((ev: unknown) => void) | null = null;
	onclose: ((ev: unknown) => void) | null = null;
	onerror: ((ev: unknown) => void) | null = null;
	onmessage: ((ev: { data: unknown }) => void) | null = null;
	closed = false;
	constructor(public url: string) {}
	close() {
		this.closed = true;
	}
	send(e: object) {
		this.onmessage?.({ data: JSON.stringify(e) });
	}
}

function setup(initial: number | null = null) {
	const sockets: FakeSocket[] = [];
	const timers: { fn: () => void; ms: number }[] = [];
	const rt = new Realtime({
		url: 'ws://h/api/v1/ws',
		socket: (u) => {
			const s = new FakeSocket(u);
			sockets.push(s);
			return s;
		},
		initialCursor: async () => initial,
		setTimer: (fn, ms) => timers.push({ fn, ms }),
		clearTimer: () => {},
		random: () => 0.5
	});
	return { rt, sockets, timers };
}

const ev = (id: number | null, type = 'job.queued') => ({ id, type, data: {}, timestamp: 1, subject: null });

describe('Realtime', () => {
	it('starts from the newest stored event id', async () => {
		const { rt, sockets } = setup(41);
		await rt.start();
		expect(sockets[0].url).toBe('ws://h/api/v1/ws?since=41');
	});

	it('resumes from the last event id after a drop, with backoff', async () => {
		const { rt, sockets, timers } = setup(null);
		await rt.start();
		expect(sockets[0].url).toBe('ws://h/api/v1/ws');
		sockets[0].onopen?.({});
		sockets[0].send(ev(7));
		sockets[0].send(ev(null, 'job.progress'));
		sockets[0].send(ev(9));
		sockets[0].onclose?.({});
		expect(rt.state).toBe('closed');
		expect(timers[0].ms).toBe(500);
		timers[0].fn();
		expect(sockets[1].url).toBe('ws://h/api/v1/ws?since=9');
		sockets[1].onclose?.({});
		expect(timers[1].ms).toBe(1000);
		timers[1].fn();
		sockets[2].onopen?.({});
		expect(rt.attempts).toBe(0);
		expect(rt.state).toBe('open');
	});

	it('tells reopen listeners about a comeback after a drop, not about the first open', async () => {
		const { rt, sockets, timers } = setup(1);
		let reopened = 0;
		rt.onReopen(() => reopened++);
		await rt.start();
		sockets[0].onopen?.({});
		expect(reopened).toBe(0);
		rt.setLogLevel('info'); // a deliberate reconnect is no drop
		sockets[1].onopen?.({});
		expect(reopened).toBe(0);
		sockets[1].onclose?.({});
		timers[0].fn();
		sockets[2].onclose?.({});
		timers[1].fn();
		sockets[3].onopen?.({});
		expect(reopened).toBe(1);
		rt.stop();
		await rt.start();
		sockets[4].onopen?.({});
		expect(reopened).toBe(1);
	});

	it('caps the backoff at 15 s', () => {
		const { rt } = setup();
		expect(rt.delay(1)).toBe(500);
		expect(rt.delay(30)).toBe(15000);
	});

	it('delivers each stored event once, by type, prefix and wildcard', async () => {
		const { rt, sockets } = setup(5);
		await rt.start();
		const got: string[] = [];
		rt.on('job.succeeded', (e) => got.push('exact:' + e.id));
		rt.on('job.*', (e) => got.push('prefix:' + e.id));
		const off = rt.on('*', (e) => got.push('all:' + e.id));
		sockets[0].send(ev(5, 'job.succeeded')); // replayed already: dropped
		sockets[0].send(ev(6, 'job.succeeded'));
		off();
		sockets[0].send(ev(7, 'task.updated'));
		expect(got).toEqual(['exact:6', 'all:6', 'prefix:6']);
		expect(rt.cursor).toBe(7);
	});

	it('takes only event types the server declares, and narrows the payload by type', async () => {
		const { rt, sockets } = setup(1);
		await rt.start();
		const got: string[] = [];
		rt.on('job.*', (e) => {
			if (e.type === 'job.failed') got.push(`${e.data.kind} ${e.data.error}`);
			// @ts-expect-error: no job event is called so
			if (e.type === 'job.finished') got.push('never');
			if (under(e, 'job.*')) got.push(e.data.job_id);
		});
		// @ts-expect-error: a misspelt event type does not compile
		rt.on('job.suceeded', () => {});
		sockets[0].send({ ...ev(2, 'job.failed'), data: { job_id: 'j1', kind: 'trailers.run', error: 'boom', will_retry: false } });
		expect(got).toEqual(['trailers.run boom', 'j1']);
	});

	it('reconnects with the log level when it changes, and stops cleanly', async () => {
		const { rt, sockets, timers } = setup(3);
		await rt.start();
		rt.setLogLevel('info');
		expect(sockets[0].closed).toBe(true);
		expect(sockets[1].url).toBe('ws://h/api/v1/ws?since=3&logs=info');
		rt.stop();
		expect(sockets[1].closed).toBe(true);
		sockets[1].onclose?.({});
		expect(timers.length).toBe(0);
		expect(rt.cursor).toBe(null);
	});
});
