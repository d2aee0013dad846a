import { describe, expect, it } from 'vitest';
import { bytes, duration, percent, plural, relative } from './format';
import { readCookie } from './api/cookie';

describe('format', () => {
	it('bytes', () => {
		expect(bytes(0)).toBe('0 B');
		expect(bytes(1536)).toBe('1.5 KB');
		expect(bytes(50 * 1024 ** 3)).toBe('50 GB');
		expect(bytes(null)).toBe('—');
	});
	it('plural', () => {
		expect(plural(1, 'job')).toBe('1 job');
		expect(plural(0, 'job')).toBe('0 jobs');
		expect(plural(3, 'channel is', 'channels are')).toBe('3 channels are');
	});
	it('duration', () => {
		expect(duration(450)).toBe('450 ms');
		expect(duration(90_000)).toBe('1m 30s');
		expect(duration(3_600_000)).toBe('1h');
		expect(duration(90_061_000)).toBe('1d 1h');
	});
	it('relative', () => {
		expect(relative(10_000, 10_000)).toBe('just now');
		expect(relative(70_000, 10_000)).toBe('in 1m');
		expect(relative(10_000, 3_610_000)).toBe('1h ago');
	});
	it('percent', () => {
		expect(percent(0.423)).toBe('42%');
		expect(percent(2)).toBe('100%');
	});
	it('reads the CSRF cookie', () => {
		expect(readCookie('a=1; tapearr_csrf=x%3Dy; b=2', 'tapearr_csrf')).toBe('x=y');
		expect(readCookie('a=1', 'tapearr_csrf')).toBe(null);
	});
});
