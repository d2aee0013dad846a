// Renders static/icons/icon.svg to the PNG sizes the manifest lists (run once; the PNGs are checked in).
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/lib.mjs';

const svg = readFileSync(new URL('../static/icons/icon.svg', import.meta.url), 'utf8');
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const page = await browser.newPage();
for (const [name, size, pad] of [
	['icon-192.png', 192, 0],
	['icon-512.png', 512, 0],
	['icon-maskable-512.png', 512, 0.12]
]) {
	await page.setViewportSize({ width: size, height: size });
	const inner = Math.round(size * (1 - 2 * pad));
	// Maskable icons need the artwork inside the safe zone, on a full-bleed background.
	await page.setContent(
		`<body style="margin:0;background:${pad ? '#0f766e' : 'transparent'};display:grid;place-items:center;height:${size}px">` +
			`<img style="width:${inner}px;height:${inner}px" src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"></body>`
	);
	const png = await page.screenshot({ omitBackground: !pad });
	writeFileSync(new URL(`../static/icons/${name}`, import.meta.url), png);
}
await browser.close();
