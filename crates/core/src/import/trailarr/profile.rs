//! A Trailarr trailer profile as a Tapearr profile, and what has no equivalent.

use super::SourceProfile;
use crate::trailers::ProfileInput;
use crate::trailers::model::{
    AudioCodec, Container, OutputSettings, Placement, SearchRules, VideoCodec,
};

/// The profile input, and one line per setting that could not be carried over.
pub(super) fn map_profile(p: &SourceProfile, name: String) -> (ProfileInput, Vec<String>) {
    let mut lost = Vec::new();
    let mut output = OutputSettings::default();
    match p.file_format.as_str() {
        "mp4" => output.container = Container::Mp4,
        "mkv" => output.container = Container::Mkv,
        "webm" => output.container = Container::Webm,
        other => lost.push(format!(
            "file format {other} (kept {})",
            output.container.ext()
        )),
    }
    output.video_codec = match p.video_format.as_str() {
        "h264" => VideoCodec::H264,
        "h265" | "hevc" => VideoCodec::H265,
        "vp9" => VideoCodec::Vp9,
        "av1" => VideoCodec::Av1,
        "copy" => VideoCodec::Copy,
        other => {
            lost.push(format!("video format {other} (vp9 instead)"));
            VideoCodec::Vp9
        }
    };
    output.audio_codec = match p.audio_format.as_str() {
        "aac" => AudioCodec::Aac,
        "opus" => AudioCodec::Opus,
        "copy" => AudioCodec::Copy,
        other => {
            let instead = if output.container == Container::Webm {
                AudioCodec::Opus
            } else {
                AudioCodec::Aac
            };
            lost.push(format!(
                "audio format {other} ({} instead)",
                format!("{instead:?}").to_lowercase()
            ));
            instead
        }
    };
    output.max_height = u32::try_from(p.video_resolution).unwrap_or(1080);
    output.volume = (p.audio_volume_level.clamp(1, 200) as f32) / 100.0;
    output.trim_silence = p.remove_silence;
    output.subtitles = p.subtitles_enabled;
    if p.folder_enabled {
        output.placement = Placement::Folder;
        output.folder_name = p.folder_name.trim().to_string();
    } else {
        output.placement = Placement::Beside;
    }
    match file_template(&p.file_name) {
        Some(t) => output.file_template = t,
        None => lost.push(format!(
            "file name {:?} (uses variables Tapearr has not; {:?} instead)",
            p.file_name, output.file_template
        )),
    }
    if p.embed_metadata {
        lost.push("embedding metadata in the file".into());
    }
    if !p.ytdlp_extra_options.trim().is_empty() {
        lost.push("extra yt-dlp options (enter them again; Tapearr checks them)".into());
    }
    if p.filter_count > 0 {
        lost.push(format!(
            "its {} filter(s): the profile now applies to every item",
            p.filter_count
        ));
    }
    let mut search = SearchRules {
        min_duration_s: u32::try_from(p.min_duration).unwrap_or(30),
        max_duration_s: u32::try_from(p.max_duration).unwrap_or(600),
        include_words: words(&p.include_words),
        exclude_words: words(&p.exclude_words),
        always_search: p.always_search,
        ..SearchRules::default()
    };
    if p.subtitles_enabled && !p.subtitles_language.trim().is_empty() {
        search.language = Some(p.subtitles_language.trim().to_string());
    }
    match search_query(&p.search_query) {
        Some(q) => search.query = q,
        None => lost.push(format!(
            "search query {:?} (uses variables Tapearr has not; {:?} instead)",
            p.search_query, search.query
        )),
    }
    let input = ProfileInput {
        name,
        enabled: p.enabled,
        priority: i32::try_from(p.priority).unwrap_or(0),
        filters: Vec::new(),
        search,
        output,
    };
    (input, lost)
}

/// Trailarr's `{title} ({year})-trailer.{ext}` as Tapearr's template (no extension); `None`
/// when it names a variable Tapearr does not fill.
fn file_template(t: &str) -> Option<String> {
    let t = t.trim().trim_end_matches(".{ext}");
    let t = t.replace("{youtube_id}", "{video_id}");
    only_vars(&t, &["title", "year", "video_id", "resolution"]).then_some(t)
}

fn search_query(q: &str) -> Option<String> {
    let q = q.trim().replace("{is_movie}", "{kind}");
    only_vars(&q, &["title", "year", "kind"]).then_some(q)
}

fn only_vars(t: &str, allowed: &[&str]) -> bool {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return false;
        };
        if !allowed.contains(&&rest[open + 1..open + close]) {
            return false;
        }
        rest = &rest[open + close + 1..];
    }
    !rest.contains('}')
}

fn words(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_keep_known_variables_only() {
        assert_eq!(
            file_template("{title} ({year})-trailer.{ext}").as_deref(),
            Some("{title} ({year})-trailer")
        );
        assert_eq!(
            file_template("{title}-{youtube_id}.{ext}").as_deref(),
            Some("{title}-{video_id}")
        );
        assert_eq!(file_template("{clean_title}-trailer.{ext}"), None);
        assert_eq!(file_template("{title"), None);
        assert_eq!(
            search_query("{title} {year} {is_movie} trailer").as_deref(),
            Some("{title} {year} {kind} trailer")
        );
        assert_eq!(search_query("{title_slug} trailer"), None);
    }
}
