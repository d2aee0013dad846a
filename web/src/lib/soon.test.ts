import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { soon } from './soon';

describe('soon', () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => vi.useRealTimers());

	it('runs once per burst, and not after cancel', () => {
		let n = 0;
		const reload = soon(() => n++, 150);
		reload();
		reload();
		reload();
		expect(n).toBe(0);
		vi.advanceTimersByTime(150);
		expect(n).toBe(1);
		reload();
		reload.cancel();
		vi.advanceTimersByTime(1000);
		expect(n).toBe(1);
	});
});
