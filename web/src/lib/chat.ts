// Chat replay beside the recording player (pure, unit-tested): the chat is fetched in windows
// of media time, and the lines shown are the latest ones at the player's position.
import type { Schemas } from './api/client';

export type ChatLine = Schemas['ChatLine'];

/** Media time one fetched window covers. */
export const CHAT_WINDOW_MS = 5 * 60_000;
/** Lines shown at once. */
export const CHAT_VISIBLE = 60;

/** The window holding `ms`. */
export function windowOf(ms: number): number {
	return Math.max(0, Math.floor(ms / CHAT_WINDOW_MS));
}

/** The windows to have loaded at `ms`: its own, and the one before when `ms` is early in it. */
export function windowsNeeded(ms: number): number[] {
	const w = windowOf(ms);
	return w > 0 && ms - w * CHAT_WINDOW_MS < CHAT_WINDOW_MS / 5 ? [w - 1, w] : [w];
}

/** The last `n` lines sent at or before `ms`, oldest first, from windows sorted by time. */
export function visibleAt(windows: ReadonlyMap<number, ChatLine[]>, ms: number, n = CHAT_VISIBLE): ChatLine[] {
	const w = windowOf(ms);
	const lines = [...(windows.get(w - 1) ?? []), ...(windows.get(w) ?? [])];
	let end = lines.length;
	while (end > 0 && lines[end - 1].ms > ms) end--;
	return lines.slice(Math.max(0, end - n), end);
}

/** `#RRGGBB` when it is one (the name colour), else none. */
export function nameColour(color: string | undefined): string | undefined {
	return color && /^#[0-9a-fA-F]{6}$/.test(color) ? color : undefined;
}
