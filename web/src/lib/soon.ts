// Coalesces bursts: `soon(load)` returns a function that runs `load` once, `ms` after the first
// of a burst of calls (e.g. the events of many jobs finishing together).

export interface Soon {
	(): void;
	/** Drops a run not started yet (for the page's cleanup). */
	cancel(): void;
}

export function soon(fn: () => void, ms = 150): Soon {
	let pending: ReturnType<typeof setTimeout> | null = null;
	const run = (() => {
		if (pending) return;
		pending = setTimeout(() => {
			pending = null;
			fn();
		}, ms);
	}) as Soon;
	run.cancel = () => {
		if (pending) clearTimeout(pending);
		pending = null;
	};
	return run;
}
