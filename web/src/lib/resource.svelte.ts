// What most pages show first: data fetched from the API, or the error that stopped it.
//   const keys = resource(() => unwrap(api.GET('/api/v1/apikeys')));
//   onMount(keys.load);
//   {#if keys.error}<ErrorMessage error={keys.error} retry={keys.load} />{:else if !keys.data}<Loading />{:else}…

export interface Resource<T> {
	/** The last data fetched (`null` until the first load answers); writable for live updates. */
	data: T | null;
	/** What the last load threw, or `null` when it succeeded. */
	readonly error: unknown;
	/** Fetches again; keeps the old data when it fails. */
	load: () => Promise<void>;
}

export function resource<T>(fetch: () => Promise<T>): Resource<T> {
	const s = $state({ data: null as T | null, error: null as unknown });
	return {
		get data() {
			return s.data;
		},
		set data(v) {
			s.data = v;
		},
		get error() {
			return s.error;
		},
		load: async () => {
			try {
				s.data = await fetch();
				s.error = null;
			} catch (e) {
				s.error = e;
			}
		}
	};
}
