// Formatting helpers shared by the pages (pure, unit-tested).

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1536 → "1.5 KB" (powers of 1024, one decimal below 10). */
export function bytes(n: number | null | undefined): string {
	if (n === null || n === undefined || !Number.isFinite(n)) return '—';
	let v = n;
	let i = 0;
	while (v >= 1024 && i < UNITS.length - 1) {
		v /= 1024;
		i++;
	}
	return `${i === 0 || v >= 10 ? Math.round(v) : v.toFixed(1)} ${UNITS[i]}`;
}

/** 90_000 → "1m 30s"; 3_600_000 → "1h"; 450 → "450 ms". */
export function duration(ms: number | null | undefined): string {
	if (ms === null || ms === undefined) return '—';
	if (ms < 1000) return `${Math.round(ms)} ms`;
	let s = Math.round(ms / 1000);
	const parts: string[] = [];
	const d = Math.floor(s / 86400);
	s -= d * 86400;
	const h = Math.floor(s / 3600);
	s -= h * 3600;
	const m = Math.floor(s / 60);
	s -= m * 60;
	if (d) parts.push(`${d}d`);
	if (h) parts.push(`${h}h`);
	if (m) parts.push(`${m}m`);
	if (s && !d) parts.push(`${s}s`);
	return parts.slice(0, 2).join(' ');
}

/** Epoch ms relative to `now`: "in 5m", "3h ago", "just now". */
export function relative(ts: number | null | undefined, now = Date.now()): string {
	if (ts === null || ts === undefined) return '—';
	const diff = ts - now;
	if (Math.abs(diff) < 5000) return 'just now';
	const text = duration(Math.abs(diff));
	return diff > 0 ? `in ${text}` : `${text} ago`;
}

/** Epoch ms as a local date and time, e.g. "2025-11-22 14:05:09". */
export function dateTime(ts: number | null | undefined): string {
	if (ts === null || ts === undefined) return '—';
	const d = new Date(ts);
	const p = (n: number) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** 0.423 → "42%". */
export function percent(p: number | null | undefined): string {
	if (p === null || p === undefined || !Number.isFinite(p)) return '—';
	return `${Math.round(Math.min(1, Math.max(0, p)) * 100)}%`;
}

/** `plural(1, 'job')` → "1 job", `plural(3, 'job')` → "3 jobs"; `many` for irregular words. */
export function plural(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}
