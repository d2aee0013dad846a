// Runs the end-to-end tests one after another and exits non-zero when one fails.
//   node e2e/run.mjs [name filter]
import { tests } from './tests.mjs';
import { binary } from './lib.mjs';

const filter = process.argv[2];
const chosen = Object.entries(tests).filter(([name]) => !filter || name.includes(filter));
console.log(`e2e: ${chosen.length} tests against ${binary()}`);
let failed = 0;
const t0 = Date.now();
for (const [name, fn] of chosen) {
	const t = Date.now();
	try {
		await fn();
		console.log(`  ✓ ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
	} catch (e) {
		failed++;
		console.log(`  ✗ ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)\n${String(e.stack ?? e).replace(/^/gm, '      ')}`);
	}
}
console.log(`e2e: ${chosen.length - failed} passed, ${failed} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
