import { describe, expect, it } from 'vitest';
import { formPolicy, hasZeroLimit, isOff, policyForm, policySummary, splitCategories, windowText } from './retention';

describe('retention form', () => {
	it('round-trips a policy', () => {
		const p = {
			max_count: 5,
			max_total_gb: 100.5,
			max_age_days: null,
			min_free_gb: 10,
			keep_favourites: false,
			keep_categories: ['Art', 'Just Chatting'],
			keep_windows: [{ days: ['sat', 'sun'], from: '18:00', to: '23:00' }]
		};
		const f = policyForm(p);
		expect(f.max_age_days).toBe('');
		expect(f.keep_categories).toBe('Art, Just Chatting');
		expect(formPolicy(f)).toEqual({ policy: p });
	});

	it('empty fields are no limit, and the default is off', () => {
		const f = policyForm({});
		expect(f.keep_favourites).toBe(true);
		const r = formPolicy(f);
		expect('policy' in r && isOff(r.policy)).toBe(true);
	});

	it('says what is wrong', () => {
		const f = policyForm({});
		expect(formPolicy({ ...f, max_count: '2.5' })).toEqual({ error: expect.stringContaining('whole number') });
		expect(formPolicy({ ...f, max_age_days: '-1' })).toEqual({ error: expect.stringContaining('Age') });
		expect(formPolicy({ ...f, keep_windows: [{ days: [], from: '18:00', to: '' }] })).toEqual({ error: expect.stringContaining('Keep window 1') });
		expect(formPolicy({ ...f, max_total_gb: '1,5' })).toEqual({ policy: expect.objectContaining({ max_total_gb: 1.5 }) });
	});

	it('orders days and reads categories', () => {
		const f = { ...policyForm({}), keep_windows: [{ days: ['sun', 'mon'], from: '22:00', to: '02:00' }] };
		const r = formPolicy(f);
		expect('policy' in r && r.policy.keep_windows).toEqual([{ days: ['mon', 'sun'], from: '22:00', to: '02:00' }]);
		expect(splitCategories(' Art ,,\nMusic')).toEqual(['Art', 'Music']);
		expect(windowText({ days: ['sat', 'sun'], from: '18:00', to: '23:00' })).toBe('Sat, Sun 18:00–23:00 UTC');
		expect(windowText({ days: [], from: '02:00', to: '06:00' })).toBe('every day 02:00–06:00 UTC');
	});

	it('sums a policy up', () => {
		expect(policySummary({})).toBe('no count, size or age limit.');
		expect(policySummary({ max_count: 5, max_total_gb: 100, max_age_days: 1 })).toBe('keeps the newest 5, up to 100 GiB, at most 1 day old.');
	});
});

describe('hasZeroLimit', () => {
	it('is true for a limit of 0 only, not for no limit', () => {
		expect(hasZeroLimit({ max_count: 0 })).toBe(true);
		expect(hasZeroLimit({ max_total_gb: 0 })).toBe(true);
		expect(hasZeroLimit({ max_age_days: 0 })).toBe(true);
		expect(hasZeroLimit({ max_count: null, max_total_gb: 1, max_age_days: 0.5 })).toBe(false);
		expect(hasZeroLimit({})).toBe(false);
	});
});
