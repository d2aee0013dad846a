//! The naming template (S6): where a finalized recording goes, relative to the library root.
//!
//! A template is a `/`-separated path with `{variable}`s. Each rendered folder and file name is
//! sanitized on its own, so a title can never add a folder or climb out of the root.

use crate::files::sanitize_file_name;
use crate::time::Timestamp;
use serde::Serialize;

/// The default: one show per channel, one season per month, episodes numbered in the month.
pub const DEFAULT_TEMPLATE: &str =
    "{channel}/Season {yyyy-mm}/{channel} - S{yyyymm}E{nn} - {title}.mp4";

/// Deepest folder nesting a template may ask for.
const MAX_DEPTH: usize = 8;

/// Why a template is refused: a recording's naming template, or a trailer profile's file name
/// template (the same `{variable}` language). The message says exactly what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the naming template is empty")]
    Empty,
    #[error("the naming template must be a relative path with `/` between folders")]
    NotRelative,
    #[error("the naming template must end with `.mp4`")]
    NotMp4,
    #[error("the naming template nests more than {} folders", MAX_DEPTH)]
    TooDeep,
    #[error("the naming template has an empty, `.` or `..` folder: {0:?}")]
    BadFolder(String),
    #[error("the file name needs {{nn}} or {{id}}, or two recordings could get the same name")]
    NotUnique,
    #[error("unmatched `}}` in {0:?}")]
    UnmatchedClose(String),
    #[error("unclosed `{{` in {0:?}")]
    Unclosed(String),
    #[error("bad variable in {0:?}")]
    BadVariable(String),
    #[error("unknown variable {{{name}}}; use one of {{{}}}", known.join("}, {"))]
    UnknownVariable {
        name: String,
        known: Vec<&'static str>,
    },
    #[error("the file name template is empty")]
    EmptyFileName,
    #[error("the file name template {0:?} must be a plain name: no `/`, `\\` or `..`")]
    NotPlainName(String),
    #[error(
        "a trailer beside the media needs a name ending in `{suffix}` (media servers look for \
         it), e.g. `{{title}} ({{year}}){suffix}`"
    )]
    NoTrailerSuffix { suffix: &'static str },
    #[error("the trailer folder name {0:?} must be one plain folder name, e.g. `Trailers`")]
    BadFolderName(String),
}

/// Every variable, with what it becomes (shown by the preview and in error messages).
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "channel",
        "the channel's login (never the display name, which changes)",
    ),
    ("channel_name", "the channel's display name"),
    ("title", "the stream title when the recording started"),
    ("category", "the category when the recording started"),
    ("yyyy", "year the recording started (UTC)"),
    ("mm", "month, 01–12"),
    ("dd", "day, 01–31"),
    ("hh", "hour, 00–23"),
    ("min", "minute, 00–59"),
    ("yyyy-mm", "year and month"),
    ("yyyymm", "year and month, the media-server season number"),
    ("yyyy-mm-dd", "the date"),
    ("nn", "episode number within the month (01, 02, …)"),
    ("id", "the recording id"),
];

/// What a template is filled with.
#[derive(Debug, Clone)]
pub struct NamingValues {
    pub channel: String,
    pub channel_name: String,
    pub title: String,
    pub category: String,
    pub started_at: Timestamp,
    pub episode: u32,
    pub recording_id: String,
}

/// A rendered path, relative to a library root, and the folders media servers care about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RenderedPath {
    /// `a/b/c.mp4`, relative to the library root.
    pub path: String,
    /// The show folder (`tvshow.nfo`, artwork): the first folder of the path, if any.
    pub show_dir: Option<String>,
    /// The season folder (`season.nfo`): the MP4's folder when it is below the show folder.
    pub season_dir: Option<String>,
}

/// The media-server season of a recording started at `t`: `yyyymm`.
pub fn season_of(t: Timestamp) -> String {
    let c = t.civil();
    format!("{:04}{:02}", c.year, c.month)
}

/// Checks a template; the message says exactly what is wrong.
pub fn validate(template: &str) -> Result<(), TemplateError> {
    let template = template.trim();
    if template.is_empty() {
        return Err(TemplateError::Empty);
    }
    if template.starts_with('/') || template.contains('\\') {
        return Err(TemplateError::NotRelative);
    }
    if !template.ends_with(".mp4") {
        return Err(TemplateError::NotMp4);
    }
    let segments: Vec<&str> = template.split('/').collect();
    if segments.len() > MAX_DEPTH + 1 {
        return Err(TemplateError::TooDeep);
    }
    for segment in &segments {
        if segment.trim().is_empty() || matches!(segment.trim(), "." | "..") {
            return Err(TemplateError::BadFolder(template.to_string()));
        }
        for part in parse(segment)? {
            if let Part::Variable(name) = part
                && !VARIABLES.iter().any(|(v, _)| *v == name)
            {
                return Err(TemplateError::UnknownVariable {
                    name: name.to_string(),
                    known: VARIABLES.iter().map(|(v, _)| *v).collect(),
                });
            }
        }
    }
    let file = segments.last().copied().unwrap_or_default();
    if !file.contains("{nn}") && !file.contains("{id}") {
        return Err(TemplateError::NotUnique);
    }
    Ok(())
}

/// Renders a valid template; call [`validate`] first (an invalid one renders its literal text).
pub fn render(template: &str, values: &NamingValues) -> RenderedPath {
    let segments: Vec<String> = template
        .trim()
        .split('/')
        .map(|segment| {
            let filled: String = parse(segment)
                .unwrap_or_else(|_| vec![Part::Literal(segment)])
                .into_iter()
                .map(|part| match part {
                    Part::Literal(text) => text.to_string(),
                    Part::Variable(name) => value(name, values),
                })
                .collect();
            let name = sanitize_file_name(&filled);
            // An empty stem (`{id}.mp4` with nothing in it) would lose its leading dot and
            // with it the extension (`mp4`): keep the file an `.mp4` (found by fuzzing).
            if segment.ends_with(".mp4") && !name.ends_with(".mp4") {
                sanitize_file_name(&format!("_{filled}"))
            } else {
                name
            }
        })
        .collect();
    let folders = segments.len().saturating_sub(1);
    let show_dir = (folders >= 1).then(|| segments[0].clone());
    let season_dir = (folders >= 2).then(|| segments[..folders].join("/"));
    RenderedPath {
        path: segments.join("/"),
        show_dir,
        season_dir,
    }
}

fn value(name: &str, v: &NamingValues) -> String {
    let c = v.started_at.civil();
    let or_default = |text: &str, default: &str| {
        let text = text.trim();
        if text.is_empty() {
            default.to_string()
        } else {
            text.to_string()
        }
    };
    match name {
        "channel" => v.channel.clone(),
        "channel_name" => or_default(&v.channel_name, &v.channel),
        "title" => or_default(&v.title, "Stream"),
        "category" => or_default(&v.category, "No category"),
        "yyyy" => format!("{:04}", c.year),
        "mm" => format!("{:02}", c.month),
        "dd" => format!("{:02}", c.day),
        "hh" => format!("{:02}", c.hour),
        "min" => format!("{:02}", c.minute),
        "yyyy-mm" => format!("{:04}-{:02}", c.year, c.month),
        "yyyymm" => season_of(v.started_at),
        "yyyy-mm-dd" => format!("{:04}-{:02}-{:02}", c.year, c.month, c.day),
        "nn" => format!("{:02}", v.episode),
        "id" => v.recording_id.clone(),
        other => format!("{{{other}}}"),
    }
}

/// A piece of a parsed template (shared with the trailer file-name template).
#[derive(Debug, PartialEq)]
pub(crate) enum Part<'a> {
    Literal(&'a str),
    Variable(&'a str),
}

/// Splits one template segment into literals and `{variable}`s; the error names the problem.
pub(crate) fn parse(segment: &str) -> Result<Vec<Part<'_>>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = segment;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                parts.push(Part::Literal(rest));
                break;
            }
            Some(i) if rest.as_bytes()[i] == b'}' => {
                return Err(TemplateError::UnmatchedClose(segment.to_string()));
            }
            Some(i) => {
                if i > 0 {
                    parts.push(Part::Literal(&rest[..i]));
                }
                let after = &rest[i + 1..];
                let end = after
                    .find('}')
                    .ok_or_else(|| TemplateError::Unclosed(segment.to_string()))?;
                let name = &after[..end];
                if name.contains('{') || name.is_empty() {
                    return Err(TemplateError::BadVariable(segment.to_string()));
                }
                parts.push(Part::Variable(name));
                rest = &after[end + 1..];
            }
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the naming fuzz target: a file name whose variables are all empty rendered as
    /// `mp4` (the sanitizer trims the leading dot of `.mp4`).
    #[test]
    fn an_empty_file_stem_still_renders_an_mp4() {
        let mut v = values();
        v.recording_id = String::new();
        let r = render("a/{title}/{id}.mp4", &v);
        assert!(r.path.ends_with("/_.mp4"), "{}", r.path);
    }

    fn values() -> NamingValues {
        NamingValues {
            channel: "shroud".into(),
            channel_name: "Shroud".into(),
            title: "Ranked: grind / day 3".into(),
            category: "VALORANT".into(),
            // 2026-11-22T10:11:12Z
            started_at: Timestamp(1_795_342_272_000),
            episode: 7,
            recording_id: "rec1".into(),
        }
    }

    #[test]
    fn the_default_template_gives_the_media_server_layout() {
        validate(DEFAULT_TEMPLATE).expect("fixture");
        let r = render(DEFAULT_TEMPLATE, &values());
        assert_eq!(
            r.path,
            "shroud/Season 2026-11/shroud - S202611E07 - Ranked - grind - day 3.mp4"
        );
        assert_eq!(r.show_dir.as_deref(), Some("shroud"));
        assert_eq!(r.season_dir.as_deref(), Some("shroud/Season 2026-11"));
    }

    #[test]
    fn a_title_cannot_add_folders_or_climb_out() {
        let mut v = values();
        v.title = "../../etc/passwd".into();
        let r = render("{channel}/{title} {id}.mp4", &v);
        assert_eq!(r.path.matches('/').count(), 1, "{}", r.path);
        assert!(
            r.path.split('/').all(|c| c != ".." && c != "."),
            "{}",
            r.path
        );
        assert_eq!(r.path, "shroud/-..-etc-passwd rec1.mp4");
    }

    #[test]
    fn empty_values_get_readable_defaults() {
        let mut v = values();
        v.title = "  ".into();
        v.category = String::new();
        let r = render("{channel}/{category} - {title} {nn}.mp4", &v);
        assert_eq!(r.path, "shroud/No category - Stream 07.mp4");
        assert_eq!(r.season_dir, None);
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        for (template, needle) in [
            ("", "empty"),
            ("/abs/{nn}.mp4", "relative"),
            ("{channel}/{nn}.mkv", ".mp4"),
            ("{channel}/../{nn}.mp4", ".."),
            ("{channel}//{nn}.mp4", "empty"),
            ("{chanel}/{nn}.mp4", "unknown variable {chanel}"),
            ("{channel/{nn}.mp4", "unclosed"),
            ("{channel}}/{nn}.mp4", "unmatched"),
            ("{channel}/{title}.mp4", "{nn} or {id}"),
            ("a/b/c/d/e/f/g/h/i/{nn}.mp4", "nests"),
        ] {
            let err = validate(template).expect_err("must fail").to_string();
            assert!(err.contains(needle), "{template:?}: {err}");
        }
    }

    #[test]
    fn season_is_year_and_month() {
        assert_eq!(season_of(Timestamp(1_795_342_272_000)), "202611");
    }
}
