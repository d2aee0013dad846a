import { describe, expect, it } from 'vitest';
import { CHAT_WINDOW_MS, nameColour, visibleAt, windowOf, windowsNeeded, type ChatLine } from './chat';

const line = (ms: number, text = `at ${ms}`): ChatLine => ({ ms, ts: ms, id: `${ms}`, user: 'u', name: 'U', text });

describe('chat replay', () => {
	it('shows the lines up to the player position, across a window edge', () => {
		const windows = new Map([
			[0, [line(1_000), line(CHAT_WINDOW_MS - 1)]],
			[1, [line(CHAT_WINDOW_MS + 10), line(CHAT_WINDOW_MS + 5_000)]]
		]);
		expect(visibleAt(windows, 500).map((l) => l.ms)).toEqual([]);
		expect(visibleAt(windows, 1_000).map((l) => l.ms)).toEqual([1_000]);
		expect(visibleAt(windows, CHAT_WINDOW_MS + 20).map((l) => l.ms)).toEqual([1_000, CHAT_WINDOW_MS - 1, CHAT_WINDOW_MS + 10]);
		// Seeking back shows the past again, seeking forward the later lines.
		expect(visibleAt(windows, CHAT_WINDOW_MS + 9_000, 2).map((l) => l.ms)).toEqual([CHAT_WINDOW_MS + 10, CHAT_WINDOW_MS + 5_000]);
	});

	it('loads the window of the position and, early in it, the one before', () => {
		expect(windowOf(-5)).toBe(0);
		expect(windowsNeeded(0)).toEqual([0]);
		expect(windowsNeeded(CHAT_WINDOW_MS + 1)).toEqual([0, 1]);
		expect(windowsNeeded(CHAT_WINDOW_MS * 1.5)).toEqual([1]);
	});

	it('uses a name colour only when it is one', () => {
		expect(nameColour('#1E90FF')).toBe('#1E90FF');
		expect(nameColour('red;background:url(x)')).toBeUndefined();
		expect(nameColour('')).toBeUndefined();
	});
});
