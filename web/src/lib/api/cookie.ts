/** Reads a cookie by name from a `document.cookie`-style string. */
export function readCookie(cookies: string, name: string): string | null {
	for (const part of cookies.split(';')) {
		const [k, ...v] = part.trim().split('=');
		if (k === name) return decodeURIComponent(v.join('='));
	}
	return null;
}
