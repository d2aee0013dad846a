// One WebSocket for the whole app: reconnects with backoff and resumes from the last event id
// (`?since=`), so pages see every stored event exactly once, even across drops.
import type { Delivered, Envelope, Topic } from './events';

export type { Envelope };
export type ConnectionState = 'connecting' | 'open' | 'closed';
type Listener = (e: Envelope) => void;

export interface SocketLike {
	onopen: ((ev: unknown) => void) | null;
	onclose: ((ev: unknown) => void) | null;
	onerror: ((ev: unknown) => void) | null;
	onmessage: ((ev: { data: unknown }) => void) | null;
	close(): void;
}

export interface RealtimeOptions {
	/** e.g. `ws://host/tapearr/api/v1/ws`, without a query. */
	url: string;
	socket?: (url: string) => SocketLike;
	/** The newest stored event id before the first connect (so nothing falls in between). */
	initialCursor?: () => Promise<number | null>;
	setTimer?: (fn: () => void, ms: number) => unknown;
	clearTimer?: (t: unknown) => void;
	random?: () => number;
}

const MIN_DELAY = 500;
const MAX_DELAY = 15_000;

export class Realtime {
	cursor: number | null = null;
	state: ConnectionState = 'closed';
	/** Consecutive failed attempts; the backoff grows with it. */
	attempts = 0;
	private ws: SocketLike | null = null;
	private timer: unknown = null;
	private running = false;
	/** The last connection of this run closed unexpectedly; the next open is a comeback. */
	private dropped = false;
	private logLevel: string | null = null;
	private listeners = new Map<string, Set<Listener>>();
	private stateListeners = new Set<(s: ConnectionState) => void>();
	private reopenListeners = new Set<() => void>();
	private opts: Required<Omit<RealtimeOptions, 'initialCursor'>> & Pick<RealtimeOptions, 'initialCursor'>;

	constructor(opts: RealtimeOptions) {
		this.opts = {
			socket: (u) => new WebSocket(u) as unknown as SocketLike,
			setTimer: (fn, ms) => setTimeout(fn, ms),
			clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
			random: Math.random,
			...opts
		};
	}

	/** Starts (idempotent). */
	async start(): Promise<void> {
		if (this.running) return;
		this.running = true;
		if (this.cursor === null && this.opts.initialCursor) {
			try {
				this.cursor = await this.opts.initialCursor();
			} catch {
				// No cursor: the first connection is live-only, later ones resume.
			}
		}
		if (this.running) this.open();
	}

	/** Stops and forgets the cursor (logout). */
	stop(): void {
		this.running = false;
		this.cursor = null;
		this.dropped = false;
		if (this.timer !== null) this.opts.clearTimer(this.timer);
		this.timer = null;
		const ws = this.ws;
		this.ws = null;
		ws?.close();
		this.setState('closed');
	}

	/** Subscribes to one event type (`job.succeeded`), a prefix (`job.*`), or everything (`*`). */
	on<T extends Topic>(type: T, fn: (e: Delivered<T>) => void): () => void {
		let set = this.listeners.get(type);
		if (!set) this.listeners.set(type, (set = new Set()));
		// Dispatch calls it only with envelopes of its topic.
		const listener = fn as Listener;
		set.add(listener);
		return () => set.delete(listener);
	}

	/** Svelte store contract for the connection state. */
	subscribe(fn: (s: ConnectionState) => void): () => void {
		this.stateListeners.add(fn);
		fn(this.state);
		return () => this.stateListeners.delete(fn);
	}

	/**
	 * Calls `fn` each time a connection opens after a drop (not on the first open, nor after a
	 * deliberate reconnect): live-only events sent meanwhile were missed.
	 */
	onReopen(fn: () => void): () => void {
		this.reopenListeners.add(fn);
		return () => this.reopenListeners.delete(fn);
	}

	/** Adds log lines at `level` and above to the stream (`null`: none). Reconnects when it changes. */
	setLogLevel(level: string | null): void {
		if (level === this.logLevel) return;
		this.logLevel = level;
		if (this.running && this.ws) this.reconnectNow();
	}

	/** The URL the next connection uses. */
	connectUrl(): string {
		const q = new URLSearchParams();
		if (this.cursor !== null) q.set('since', String(this.cursor));
		if (this.logLevel) q.set('logs', this.logLevel);
		const s = q.toString();
		return s ? `${this.opts.url}?${s}` : this.opts.url;
	}

	/** The wait before attempt `n` (1-based): doubling from 0.5 s to 15 s, with ±20% jitter. */
	delay(n: number): number {
		const d = Math.min(MAX_DELAY, MIN_DELAY * 2 ** Math.max(0, n - 1));
		return Math.round(d * (0.8 + 0.4 * this.opts.random()));
	}

	private reconnectNow() {
		const ws = this.ws;
		this.ws = null;
		if (ws) {
			ws.onclose = null;
			ws.close();
		}
		this.open();
	}

	private open() {
		if (!this.running) return;
		this.timer = null;
		this.setState('connecting');
		const ws = this.opts.socket(this.connectUrl());
		this.ws = ws;
		ws.onopen = () => {
			if (this.ws !== ws) return;
			this.attempts = 0;
			this.setState('open');
			if (this.dropped) {
				this.dropped = false;
				for (const fn of this.reopenListeners) this.call(fn);
			}
		};
		ws.onmessage = (m) => {
			if (this.ws !== ws || typeof m.data !== 'string') return;
			let e: Envelope;
			try {
				e = JSON.parse(m.data);
			} catch {
				return;
			}
			if (typeof e.id === 'number') {
				if (this.cursor !== null && e.id <= this.cursor) return; // seen already
				this.cursor = e.id;
			}
			this.dispatch(e);
		};
		ws.onerror = () => {};
		ws.onclose = () => {
			if (this.ws !== ws) return;
			this.ws = null;
			this.setState('closed');
			if (!this.running) return;
			this.dropped = true;
			this.attempts++;
			this.timer = this.opts.setTimer(() => this.open(), this.delay(this.attempts));
		};
	}

	private dispatch(e: Envelope) {
		const keys = [e.type, '*'];
		const dot = e.type.indexOf('.');
		if (dot > 0) keys.push(e.type.slice(0, dot) + '.*');
		for (const k of keys) {
			for (const fn of this.listeners.get(k) ?? []) this.call(() => fn(e));
		}
	}

	private call(fn: () => void) {
		try {
			fn();
		} catch (err) {
			console.warn('event listener failed', err);
		}
	}

	private setState(s: ConnectionState) {
		if (s === this.state) return;
		this.state = s;
		for (const fn of this.stateListeners) fn(s);
	}
}
