import { describe, expect, it } from 'vitest';
import { deviceName, passwordProblem } from './account';

describe('account', () => {
	it('names devices from their user agent', () => {
		expect(deviceName('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe('Firefox on Linux');
		expect(
			deviceName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1')
		).toBe('Safari on iOS');
		expect(
			deviceName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0')
		).toBe('Edge on Windows');
		expect(deviceName('curl/8.5.0')).toBe('curl/8.5.0');
		expect(deviceName(null)).toBe('Unknown device');
		expect(deviceName('x'.repeat(100))).toHaveLength(58);
	});
	it('checks the password form before sending it', () => {
		expect(passwordProblem('', 'longenough', 'longenough')).toMatch(/current/);
		expect(passwordProblem('old password', 'short', 'short')).toMatch(/8 characters/);
		expect(passwordProblem('old password', 'longenough', 'longenougH')).toMatch(/differ/);
		expect(passwordProblem('old password', 'old password', 'old password')).toMatch(/current one/);
		expect(passwordProblem('old password', 'longenough', 'longenough')).toBeNull();
	});
});
