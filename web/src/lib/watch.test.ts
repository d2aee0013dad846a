import { describe, expect, it } from 'vitest';
import { playableCodecs } from './watch';

describe('playableCodecs', () => {
	const h264Only = (type: string) => !/hvc1|hev1|av01/.test(type);

	it('asks for all codecs of the rendition as one fMP4 type', () => {
		const asked: string[] = [];
		playableCodecs(['hvc1.1.2.L153.B0', 'mp4a.40.2'], (t) => (asked.push(t), true));
		expect(asked).toEqual(['video/mp4; codecs="hvc1.1.2.L153.B0,mp4a.40.2"']);
	});

	it('says no for HEVC and AV1 where only H.264 plays', () => {
		expect(playableCodecs(['hvc1.1.2.L153.B0', 'mp4a.40.2'], h264Only)).toBe(false);
		expect(playableCodecs(['av01.0.12M.10', 'mp4a.40.2'], h264Only)).toBe(false);
		expect(playableCodecs(['avc1.64002A', 'mp4a.40.2'], h264Only)).toBe(true);
	});

	it('plays unknown codecs as they are', () => {
		expect(playableCodecs([], () => false)).toBe(true);
	});
});
