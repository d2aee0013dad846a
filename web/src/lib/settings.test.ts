import { describe, expect, it } from 'vitest';
import { valueOf, type Setting } from './settings';

function setting(kind: Setting['kind']): Setting {
	return {
		env_name: 'TAPEARR_X',
		help: '',
		is_set: false,
		key: 'x',
		kind,
		read_only: false,
		restart_required: false,
		secret: false,
		source: 'default',
		value: null
	};
}

describe('valueOf', () => {
	it('an empty URL field clears the setting, whichever URL kind it is', () => {
		for (const kind of ['url', 'extractor_arg_url'] as const) {
			expect(valueOf(setting(kind), '  ')).toBeNull();
			expect(valueOf(setting(kind), ' http://127.0.0.1:4416 ')).toBe('http://127.0.0.1:4416');
		}
	});
	it('text stays text', () => {
		expect(valueOf(setting('text'), '')).toBe('');
	});
});
