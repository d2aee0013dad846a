// The add / edit form of a settings list: which item is being edited, saving, the error that
// stopped a save, and the list's reload after a save or a delete.
//   const form = crudForm({ fill, clear, save: (editing) => editing ? PUT : POST, remove, reload: list.load });
//   <form onsubmit={form.submit}> … {#if form.error}<ErrorMessage error={form.error} />{/if}

export interface CrudOptions<T> {
	/** Puts an item's values into the form's fields (Edit). */
	fill: (item: T) => void;
	/** Empties the form's fields (after a save, on Cancel). */
	clear: () => void;
	/** Writes the form: an update of `editing`, or a new item when it is `null`. */
	save: (editing: T | null) => Promise<unknown>;
	/** Deletes one item. */
	remove: (item: T) => Promise<unknown>;
	/** Fetches the list again. */
	reload: () => Promise<void>;
}

export interface CrudForm<T> {
	/** The item being edited; `null` while the form adds one. */
	readonly editing: T | null;
	readonly saving: boolean;
	/** What the last save threw; `null` after a success, an edit or a reset. */
	readonly error: unknown;
	edit: (item: T) => void;
	/** Back to an empty "add" form. */
	reset: () => void;
	/** The form's submit handler; resolves to whether the save succeeded. */
	submit: (e?: SubmitEvent) => Promise<boolean>;
	/** Deletes an item (its errors go to the caller: `ConfirmButton` shows them), leaving its edit. */
	remove: (item: T) => Promise<void>;
}

export function crudForm<T extends { id: string }>(o: CrudOptions<T>): CrudForm<T> {
	const s = $state({ editing: null as T | null, saving: false, error: null as unknown });
	function reset() {
		s.editing = null;
		s.error = null;
		o.clear();
	}
	return {
		get editing() {
			return s.editing;
		},
		get saving() {
			return s.saving;
		},
		get error() {
			return s.error;
		},
		edit(item) {
			s.editing = item;
			s.error = null;
			o.fill(item);
		},
		reset,
		async submit(e) {
			e?.preventDefault();
			s.saving = true;
			s.error = null;
			try {
				await o.save(s.editing);
				reset();
				await o.reload();
				return true;
			} catch (err) {
				s.error = err;
				return false;
			} finally {
				s.saving = false;
			}
		},
		async remove(item) {
			await o.remove(item);
			if (s.editing?.id === item.id) reset();
			await o.reload();
		}
	};
}
