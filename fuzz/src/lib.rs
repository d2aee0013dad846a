//! The bodies of the fuzz targets (playlist, naming, path_mapping, eventsub), shared by
//! `cargo fuzz run <target>` and the stable smoke test in `tests/` (nightly is not always
//! available). Structured inputs are `\0`-separated fields.

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
        for range in &p.date_ranges {
            let _ = range.is_twitch_ad();
        }
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

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tapearr_core::library::naming::{self, NamingValues};
use tapearr_core::mediaserver::mapping::to_server;
use tapearr_core::mediaserver::model::PathMapping;
use tapearr_core::time::Timestamp;
use tapearr_core::trailers::model::ArrPathMapping;
use tapearr_core::trailers::sync::mapping::to_local;
use tapearr_integrations::twitch::eventsub::{self, EventSubHeaders};

/// Splits fuzz input into `n` strings at `\0` (missing ones are empty).
fn fields(data: &[u8], n: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut out: Vec<String> = text.splitn(n, '\0').map(str::to_owned).collect();
    out.resize(n, String::new());
    out
}

/// True when `path` (either separator) has a `..` segment.
pub fn has_parent_segment(path: &str) -> bool {
    path.split(['/', '\\']).any(|s| s == "..")
}

/// Naming templates: validate never panics; a template that validates renders, with any
/// values, to a relative path of non-empty segments, none of them `.` or `..`, with no
/// backslash, ending in `.mp4`, whose show and season folders are prefixes of it.
pub fn fuzz_naming(data: &[u8]) {
    let f = fields(data, 6);
    let template = &f[0];
    let millis = f[5]
        .bytes()
        .fold(0i64, |acc, b| acc.wrapping_mul(31).wrapping_add(b as i64))
        .rem_euclid(253_402_300_799_000); // up to 9999-12-31
    let values = NamingValues {
        channel: f[1].clone(),
        channel_name: f[2].clone(),
        title: f[3].clone(),
        category: f[4].clone(),
        started_at: Timestamp(millis),
        episode: (millis % 1000) as u32,
        recording_id: f[5].clone(),
    };
    let valid = naming::validate(template).is_ok();
    // Rendering an invalid template must not panic either (it renders its literal text).
    let rendered = naming::render(template, &values);
    if !valid {
        return;
    }
    let path = &rendered.path;
    assert!(!path.starts_with('/'), "absolute: {path:?}");
    assert!(!path.contains('\\'), "backslash: {path:?}");
    assert!(path.ends_with(".mp4"), "not an mp4: {path:?}");
    for segment in path.split('/') {
        assert!(
            !segment.is_empty() && segment != "." && segment != "..",
            "bad segment {segment:?} in {path:?} from {template:?}"
        );
    }
    if let Some(show) = &rendered.show_dir {
        assert!(
            path.starts_with(&format!("{show}/")),
            "{show:?} vs {path:?}"
        );
    }
    if let Some(season) = &rendered.season_dir {
        assert!(
            path.starts_with(&format!("{season}/")),
            "{season:?} vs {path:?}"
        );
    }
}

/// Path mappings (media server and Arr): never panic; when a mapping applies, the result is
/// under its target, and it gains no `..` segment the input did not have below the root.
pub fn fuzz_path_mapping(data: &[u8]) {
    let f = fields(data, 5);
    let (path, local, server, local2, server2) = (&f[0], &f[1], &f[2], &f[3], &f[4]);
    let mappings = vec![
        PathMapping {
            local: local.clone(),
            server: server.clone(),
        },
        PathMapping {
            local: local2.clone(),
            server: server2.clone(),
        },
    ];
    let out = to_server(path, &mappings);
    check_mapped(
        path,
        &out,
        &mappings
            .iter()
            .map(|m| (m.local.as_str(), m.server.as_str()))
            .collect::<Vec<_>>(),
    );
    let arr: Vec<ArrPathMapping> = mappings
        .iter()
        .map(|m| ArrPathMapping {
            remote: m.local.clone(),
            local: m.server.clone(),
        })
        .collect();
    assert_eq!(to_local(path, &arr), out, "to_local is to_server reversed");
}

fn check_mapped(path: &str, out: &str, mappings: &[(&str, &str)]) {
    if out == path {
        return;
    }
    // Some mapping applied: the output starts with one of the targets (without its trailing
    // separators) followed by nothing or a separator.
    let under_a_target = mappings.iter().any(|(_, server)| {
        let target = server.trim_end_matches(['/', '\\']);
        out.strip_prefix(target)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '\\']))
    });
    assert!(under_a_target, "{path:?} -> {out:?} is under no target");
    let applied_rest_clean = mappings.iter().any(|(local, _)| {
        let dir = local.trim_end_matches(['/', '\\']);
        path.strip_prefix(dir).is_some_and(|rest| {
            (rest.is_empty() || rest.starts_with(['/', '\\'])) && !has_parent_segment(rest)
        })
    });
    if applied_rest_clean {
        let targets_clean = mappings.iter().all(|(_, s)| !has_parent_segment(s));
        if targets_clean {
            assert!(!has_parent_segment(out), "{path:?} -> {out:?} gained `..`");
        }
    }
}

/// EventSub: verify and parse never panic on any headers and body; a message signed with the
/// secret and a fresh timestamp verifies, and the same message with the body changed does not.
pub fn fuzz_eventsub(data: &[u8]) {
    let f = fields(data, 6);
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
    let headers = EventSubHeaders {
        message_id: opt(&f[0]),
        message_type: opt(&f[1]),
        signature: opt(&f[2]),
        timestamp: opt(&f[3]),
    };
    let secret = f[4].as_bytes();
    let body = f[5].as_bytes();
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let _ = eventsub::verify(&headers, body, secret, now);
    let _ = eventsub::verify(&headers, body, secret, SystemTime::now());
    let _ = eventsub::parse(&headers, body);

    let id = f[0].clone();
    let timestamp = "2027-01-15T08:00:00Z".to_string();
    let signed = EventSubHeaders {
        message_id: Some(id.clone()),
        message_type: headers.message_type.clone(),
        signature: Some(eventsub::sign(secret, &id, &timestamp, body)),
        timestamp: Some(timestamp.clone()),
    };
    assert_eq!(eventsub::verify(&signed, body, secret, now), Ok(()));
    let mut tampered = body.to_vec();
    tampered.push(b' ');
    assert!(eventsub::verify(&signed, &tampered, secret, now).is_err());
    let _ = eventsub::parse(&signed, body);
}
