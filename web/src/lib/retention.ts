// The retention policy as a form: numbers as text (empty = no limit), categories as one
// comma-separated line, keep windows as rows (pure, unit-tested).
import type { Schemas } from './api/client';

export type RetentionPolicy = Schemas['RetentionPolicy'];
export type KeepWindow = Schemas['KeepWindow'];

export const DAYS = [
	{ value: 'mon', label: 'Mon' },
	{ value: 'tue', label: 'Tue' },
	{ value: 'wed', label: 'Wed' },
	{ value: 'thu', label: 'Thu' },
	{ value: 'fri', label: 'Fri' },
	{ value: 'sat', label: 'Sat' },
	{ value: 'sun', label: 'Sun' }
] as const;

export interface PolicyForm {
	max_count: string;
	max_total_gb: string;
	max_age_days: string;
	min_free_gb: string;
	keep_favourites: boolean;
	/** `Art, Just Chatting` */
	keep_categories: string;
	keep_windows: { days: string[]; from: string; to: string }[];
}

const text = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

export function policyForm(p: RetentionPolicy): PolicyForm {
	return {
		max_count: text(p.max_count),
		max_total_gb: text(p.max_total_gb),
		max_age_days: text(p.max_age_days),
		min_free_gb: text(p.min_free_gb),
		keep_favourites: p.keep_favourites ?? true,
		keep_categories: (p.keep_categories ?? []).join(', '),
		keep_windows: (p.keep_windows ?? []).map((w) => ({ days: [...(w.days ?? [])], from: w.from, to: w.to }))
	};
}

/** `"Art, Just Chatting,,"` → `["Art", "Just Chatting"]`. */
export function splitCategories(s: string): string[] {
	return s
		.split(/[,\n]/)
		.map((c) => c.trim())
		.filter(Boolean);
}

/** A number field: empty is "no limit"; otherwise a number ≥ 0 (whole when `whole`). */
function limit(label: string, s: string, whole = false): number | null {
	const t = s.trim();
	if (!t) return null;
	const n = Number(t.replace(',', '.'));
	if (!Number.isFinite(n) || n < 0 || (whole && !Number.isInteger(n))) {
		throw new Error(`${label}: enter ${whole ? 'a whole number' : 'a number'}, 0 or more, or leave it empty for no limit.`);
	}
	return n;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The policy the form describes, or an error fit for people (what the server would refuse). */
export function formPolicy(f: PolicyForm): { policy: RetentionPolicy } | { error: string } {
	try {
		const windows = f.keep_windows.map((w, i) => {
			if (!HHMM.test(w.from) || !HHMM.test(w.to)) throw new Error(`Keep window ${i + 1}: give both times as HH:MM.`);
			return { days: DAYS.map((d) => d.value).filter((d) => w.days.includes(d)), from: w.from, to: w.to };
		});
		return {
			policy: {
				max_count: limit('Recordings per channel', f.max_count, true),
				max_total_gb: limit('Size per channel', f.max_total_gb),
				max_age_days: limit('Age', f.max_age_days),
				min_free_gb: limit('Free space', f.min_free_gb),
				keep_favourites: f.keep_favourites,
				keep_categories: splitCategories(f.keep_categories),
				keep_windows: windows
			}
		};
	} catch (e) {
		return { error: e instanceof Error ? e.message : String(e) };
	}
}

/** A limit of 0 (count, size or age): it deletes every recording it applies to, so the server
 * wants `confirm: true` with it. */
export function hasZeroLimit(p: { max_count?: number | null; max_total_gb?: number | null; max_age_days?: number | null }): boolean {
	return p.max_count === 0 || p.max_total_gb === 0 || p.max_age_days === 0;
}

/** Nothing set that could delete anything: the default, "retention off". */
export function isOff(p: RetentionPolicy): boolean {
	return p.max_count == null && p.max_total_gb == null && p.max_age_days == null && p.min_free_gb == null;
}

/** One line on a keep window: `Sat, Sun 18:00–23:00 UTC`, `every day 02:00–06:00 UTC`. */
export function windowText(w: KeepWindow): string {
	const days = w.days?.length ? DAYS.filter((d) => w.days?.includes(d.value)).map((d) => d.label).join(', ') : 'every day';
	return `${days} ${w.from}–${w.to} UTC`;
}

export const RULES: Record<string, string> = {
	age: 'age',
	count: 'count',
	size: 'size',
	low_space: 'free space'
};

/** The limits of a policy in a sentence: "newest 5, up to 100 GiB, at most 30 days old." */
export function policySummary(p: RetentionPolicy): string {
	const parts: string[] = [];
	if (p.max_count != null) parts.push(`the newest ${p.max_count}`);
	if (p.max_total_gb != null) parts.push(`up to ${p.max_total_gb} GiB`);
	if (p.max_age_days != null) parts.push(`at most ${p.max_age_days} ${p.max_age_days === 1 ? 'day' : 'days'} old`);
	if (!parts.length) return 'no count, size or age limit.';
	return `keeps ${parts.join(', ')}.`;
}
