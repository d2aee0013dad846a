//! The body of the playlist fuzz target, shared by `cargo fuzz run playlist` and the stable
//! smoke test in `tests/` (nightly is not always available).

use tapearr_hls::playlist::{Attributes, MasterPlaylist, MediaPlaylist, Playlist, datetime};
use tapearr_hls::quality::{CodecAllowList, QualitySpec, choose_variant};

/// Parses `data` every way the recorder does; must never panic.
pub fn fuzz_playlist(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = Attributes::parse(&text);
    let _ = datetime::parse_iso8601(&text);
    if let Ok(Playlist::Media(p)) = Playlist::parse(&text) {
        for seg in &p.segments {
            let _ = p.is_ad(seg);
        }
        let _ = p.last_sequence();
    }
    if let Ok(m) = MasterPlaylist::parse(&text) {
        for spec in ["best", "worst", "720p", "1080p60,720p,best", "audio_only"] {
            let spec: QualitySpec = spec.parse().unwrap_or_default();
            let _ = choose_variant(&m.variants, &spec, &CodecAllowList::parse("h264"));
        }
        for v in &m.variants {
            let _ = v.quality_name();
        }
    }
    let _ = MediaPlaylist::parse(&text);
}
