import { describe, expect, it } from 'vitest';
import { crudForm } from './crud.svelte';

type Item = { id: string; name: string };

function setup(fail: unknown = null) {
	const log: string[] = [];
	let name = '';
	const form = crudForm<Item>({
		clear: () => (name = ''),
		fill: (i) => (name = i.name),
		save: async (editing) => {
			if (fail) throw fail;
			log.push(editing ? `put ${editing.id} ${name}` : `post ${name}`);
		},
		remove: async (i) => void log.push(`delete ${i.id}`),
		reload: async () => void log.push('reload')
	});
	return { form, log, setName: (n: string) => (name = n), getName: () => name };
}

describe('crudForm', () => {
	it('adds, then edits, clearing the form and reloading the list after each save', async () => {
		const { form, log, setName, getName } = setup();
		setName('new');
		expect(await form.submit()).toBe(true);
		form.edit({ id: 'a', name: 'old' });
		expect(getName()).toBe('old');
		expect(form.editing?.id).toBe('a');
		expect(await form.submit()).toBe(true);
		expect(log).toEqual(['post new', 'reload', 'put a old', 'reload']);
		expect(form.editing).toBe(null);
		expect(getName()).toBe('');
		expect(form.saving).toBe(false);
	});

	it('keeps the form and shows the error when a save fails', async () => {
		const { form, log, getName } = setup(new Error('refused'));
		form.edit({ id: 'a', name: 'old' });
		expect(await form.submit()).toBe(false);
		expect((form.error as Error).message).toBe('refused');
		expect(form.editing?.id).toBe('a');
		expect(getName()).toBe('old');
		expect(log).toEqual([]);
		form.reset();
		expect(form.error).toBe(null);
	});

	it('leaves the edit of an item that is deleted, not of another', async () => {
		const { form, log } = setup();
		form.edit({ id: 'a', name: 'A' });
		await form.remove({ id: 'b', name: 'B' });
		expect(form.editing?.id).toBe('a');
		await form.remove({ id: 'a', name: 'A' });
		expect(form.editing).toBe(null);
		expect(log).toEqual(['delete b', 'reload', 'delete a', 'reload']);
	});
});
