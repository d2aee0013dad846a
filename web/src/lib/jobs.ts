// Following one job to its end: its events over the WebSocket, and a slow poll of
// `GET /api/v1/jobs/{id}` in case an event is missed (a reconnect). Calls `onChange` with the job
// whenever it changes, the last time when it has finished.
import { api, unwrap, type Job } from './api/client';
import { live } from './app.svelte';
import { soon } from './soon';

export const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** Returns a stop function (for the page's cleanup). */
export function followJob(id: string, onChange: (job: Job) => void, { every = 3000 } = {}): () => void {
	let stopped = false;
	let timer: ReturnType<typeof setTimeout> | null = null;
	let inFlight = false;
	let again = false;

	async function check() {
		if (stopped) return;
		if (inFlight) {
			again = true;
			return;
		}
		inFlight = true;
		try {
			const job = await unwrap(api.GET('/api/v1/jobs/{id}', { params: { path: { id } } }));
			if (stopped) return;
			onChange(job);
			if (FINISHED.has(job.status)) stop();
		} catch {
			// Offline for a moment: the next tick tries again.
		} finally {
			inFlight = false;
			if (again && !stopped) {
				again = false;
				void check();
			}
		}
	}

	function tick() {
		timer = setTimeout(async () => {
			await check();
			if (!stopped) tick();
		}, every);
	}

	// Progress ticks come often: one look per burst.
	const checkSoon = soon(() => void check(), 300);
	const off = live(['job.*'], (e) => {
		if (e.data.job_id === id) checkSoon();
	});

	function stop() {
		stopped = true;
		off();
		checkSoon.cancel();
		if (timer) clearTimeout(timer);
	}

	void check();
	tick();
	return stop;
}
