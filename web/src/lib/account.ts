// The account page's helpers: a session's device in words, and the password form's checks.

/** "Firefox on Linux" from a user agent; the raw string when nothing is recognised. */
export function deviceName(userAgent: string | null | undefined): string {
	if (!userAgent) return 'Unknown device';
	const ua = userAgent;
	const browser = /Edg\//.test(ua)
		? 'Edge'
		: /Firefox\//.test(ua)
			? 'Firefox'
			: /(Chrome|Chromium)\//.test(ua)
				? 'Chrome'
				: /Safari\//.test(ua)
					? 'Safari'
					: null;
	const os = /Android/.test(ua)
		? 'Android'
		: /(iPhone|iPad|iPod)/.test(ua)
			? 'iOS'
			: /Windows/.test(ua)
				? 'Windows'
				: /Mac OS X|Macintosh/.test(ua)
					? 'macOS'
					: /Linux/.test(ua)
						? 'Linux'
						: null;
	if (browser && os) return `${browser} on ${os}`;
	if (browser) return browser;
	return ua.length > 60 ? `${ua.slice(0, 57)}…` : ua;
}

export const MIN_PASSWORD = 8;

/** Why the new password cannot be sent yet, or null when it can. */
export function passwordProblem(current: string, next: string, repeat: string): string | null {
	if (!current) return 'Enter your current password.';
	if ([...next].length < MIN_PASSWORD) return `The new password needs at least ${MIN_PASSWORD} characters.`;
	if (next !== repeat) return 'The two new passwords differ.';
	if (next === current) return 'The new password is the current one.';
	return null;
}
