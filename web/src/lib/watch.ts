/**
 * Whether a browser plays a rendition with these HLS `CODECS` (e.g. `hvc1.1.2.L153.B0`,
 * `mp4a.40.2`), asked with `canPlay` (MediaSource.isTypeSupported or canPlayType) as an fMP4
 * type. Unknown codecs (an empty list) count as playable: the recording is played as it is.
 */
export function playableCodecs(codecs: string[], canPlay: (type: string) => boolean): boolean {
	if (codecs.length === 0) return true;
	return canPlay(`video/mp4; codecs="${codecs.join(',')}"`);
}
