// The typed API client: openapi-fetch over the generated schema, with the CSRF double-submit
// header on every write and the base path the server injected into the build.
import createClient, { type Middleware } from 'openapi-fetch';
import { base } from '$app/paths';
import type { components, paths } from './schema';
import { readCookie } from './cookie';
export { readCookie };

export type Schemas = components['schemas'];
export type Job = Schemas['JobRecord'];
export type Task = Schemas['TaskRecord'];
export type ApiKey = Schemas['ApiKey'];
export type EventRecord = Schemas['EventRecord'];
export type LogEntry = Schemas['LogEntry'];
export type SystemStatus = Schemas['SystemStatus'];
type ErrorBody = Schemas['ErrorBody'];

export const CSRF_COOKIE = 'tapearr_csrf';
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const csrf: Middleware = {
	onRequest({ request }) {
		if (WRITES.has(request.method) && typeof document !== 'undefined') {
			const token = readCookie(document.cookie, CSRF_COOKIE);
			if (token) request.headers.set('X-CSRF-Token', token);
		}
		return request;
	}
};

let onUnauthorized: (() => void) | null = null;
/** Called when a request answers 401 (the session expired or was revoked), except at login. */
export function setUnauthorizedHandler(fn: () => void) {
	onUnauthorized = fn;
}
const expired: Middleware = {
	onResponse({ request, response }) {
		if (response.status === 401 && !request.url.endsWith('/api/v1/auth/login')) onUnauthorized?.();
		return response;
	}
};

export const api = createClient<paths>({ baseUrl: base, credentials: 'same-origin' });
api.use(csrf, expired);

/** An API error as thrown by `unwrap`: the stable code plus a message fit for people. */
export class ApiError extends Error {
	constructor(
		public status: number,
		public code: string,
		message: string
	) {
		super(message);
	}
}

/** Turns an openapi-fetch result into its data, or throws an `ApiError` with the server's words. */
export async function unwrap<T>(
	p: Promise<{ data?: T; error?: unknown; response: Response }>
): Promise<T> {
	let r;
	try {
		r = await p;
	} catch (e) {
		if (isAborted(e)) throw e;
		throw new ApiError(0, 'network', 'The server did not answer. Is Tapearr running?');
	}
	if (r.error !== undefined || !r.response.ok) {
		const e = (r.error ?? {}) as Partial<ErrorBody>;
		throw new ApiError(
			r.response.status,
			e.code ?? 'http_' + r.response.status,
			e.message ?? `The server answered ${r.response.status}.`
		);
	}
	return r.data as T;
}

/** True for a request the page cancelled itself (an `AbortSignal`): not an error to show. */
export function isAborted(e: unknown): boolean {
	return e instanceof DOMException && e.name === 'AbortError';
}

/** A message for any thrown value. */
export function errorText(e: unknown): string {
	if (e instanceof Error) return e.message;
	return String(e);
}
