//! Placement (T8): the trailer's file name (Plex, Jellyfin, Emby and Kodi conventions), where
//! it goes in the media folder, and the atomic move into place.
//!
//! * Beside the media: `{title} ({year})-trailer.{ext}` (the `-trailer` suffix is what media
//!   servers look for).
//! * In a folder: `{media}/Trailers/{title} ({year}).{ext}`.
//!
//! Every rendered name is one sanitized path component ([`sanitize_file_name`]), and the
//! destination is a [`SafePath`] joined under the media folder's, so neither a title nor a
//! template can add folders or leave the library root. Asking the media server to rescan the
//! folder is the caller's (a `mediaserver.refresh` job).

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::files::{FilesError, NAME_MAX, SafePath, move_into_place, sanitize_file_name};
use crate::library::naming::{Part, TemplateError, parse};
use crate::trailers::model::MediaItem;
use crate::trailers::model::slot::EXTRA_SUFFIXES;
use crate::trailers::model::{ExtraKind, OutputSettings, Placement, Slot, SlotKind};

/// Variables of the file-name template, with what they become.
pub const TEMPLATE_VARIABLES: &[(&str, &str)] = &[
    ("title", "the media title"),
    (
        "year",
        "the release year (an empty `()` around it disappears when unknown)",
    ),
    ("video_id", "the video's id on its site"),
    ("resolution", "the trailer's height, `1080p`"),
];

/// The suffix media servers recognise beside the media.
const TRAILER_SUFFIX: &str = "-trailer";

/// Longest rendered name before numbering, so ` (999)` still fits in `NAME_MAX`.
const NAME_BUDGET: usize = NAME_MAX - 8;

/// Highest collision number tried.
const MAX_NUMBER: u32 = 999;

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    /// The profile's template or folder name is not usable.
    #[error("invalid trailer name template: {0}")]
    Template(#[from] TemplateError),
    /// Every numbered name up to ` (999)` is taken.
    #[error("no free name for `{0}` in its folder")]
    NoFreeName(String),
    #[error(transparent)]
    Files(#[from] FilesError),
}

/// The file name (no folder) for a trailer: `out.file_template` rendered with `{title}`
/// `{year}` `{video_id}` `{resolution}` (a missing value drops an empty `()`/`[]` around it
/// and the space before it: `{title} ({year})-trailer` → `Title-trailer`), sanitized into one
/// path component (`AC/DC` → `AC-DC`, `../../etc` → `-..-etc`), NFC/NFKC-normalized, with the
/// container's extension. A long title is cut so the name (numbered or not) fits 255 bytes.
pub fn trailer_file_name(
    item: &MediaItem,
    out: &OutputSettings,
    video_id: &str,
    height: Option<u32>,
) -> Result<String, PlaceError> {
    validate_template(out)?;
    Ok(render_name(item, &out.file_template, out, video_id, height))
}

/// The file name for one slot: the first trailer's is [`trailer_file_name`]; another slot's
/// is the profile's template without its `-trailer` suffix, then the slot's label (a
/// second trailer, a teaser) and, beside the media, its kind's suffix: `Alien (1979) -
/// Trailer 2-trailer.mp4`, `Alien (1979)-featurette.mp4`; in a folder `Trailers/Alien (1979) -
/// Trailer 2.mp4`, `Featurettes/Alien (1979).mp4` (the folder says what it is).
pub fn slot_file_name(
    item: &MediaItem,
    out: &OutputSettings,
    slot: Slot,
    video_id: &str,
    height: Option<u32>,
) -> Result<String, PlaceError> {
    validate_template(out)?;
    if slot == Slot::FIRST_TRAILER {
        return Ok(render_name(item, &out.file_template, out, video_id, height));
    }
    let template = out.file_template.trim();
    let base = match template.len().checked_sub(TRAILER_SUFFIX.len()) {
        Some(cut)
            if template.is_char_boundary(cut)
                && template[cut..].eq_ignore_ascii_case(TRAILER_SUFFIX) =>
        {
            &template[..cut]
        }
        _ => template,
    };
    // Extras' own folder or suffix says what they are; trailers and teasers share the
    // trailer's, so their label tells them apart.
    let label = match slot.kind {
        SlotKind::Trailer | SlotKind::Extra(ExtraKind::Teaser) => {
            format!(" - {}", slot.label())
        }
        SlotKind::Season => format!(" - Season {:02}", slot.n),
        SlotKind::Extra(_) => String::new(),
    };
    let suffix = match out.placement {
        Placement::Beside => slot.kind.suffix(),
        Placement::Folder => "",
    };
    let template = format!("{base}{label}{suffix}");
    Ok(render_name(item, &template, out, video_id, height))
}

/// `template` rendered and cut to fit (see [`trailer_file_name`]).
fn render_name(
    item: &MediaItem,
    template: &str,
    out: &OutputSettings,
    video_id: &str,
    height: Option<u32>,
) -> String {
    // Each value is one component on its own first (`..` becomes `_`, not an empty name).
    let title = match item.title.trim() {
        "" => "Unknown".to_string(),
        t => sanitize_file_name(t),
    };
    let title = title.as_str();
    let video_id = sanitize_file_name(video_id);
    let year = item.year.map(|y| y.to_string()).unwrap_or_default();
    let resolution = height.map(|h| format!("{h}p")).unwrap_or_default();
    let ext = out.container.ext();
    let render = |title: &str| {
        let stem = render_template(template, |name| {
            Some(match name {
                "title" => title.to_string(),
                "year" => year.clone(),
                "video_id" => video_id.clone(),
                "resolution" => resolution.clone(),
                _ => return None,
            })
        });
        sanitize_file_name(&format!("{stem}.{ext}"))
    };
    let mut name = render(title);
    // Cut the title, not the end of the name (which holds `-trailer` and the extension).
    let mut keep = title.len();
    while name.len() > NAME_BUDGET && keep > 0 {
        keep = keep.saturating_sub(name.len() - NAME_BUDGET).min(keep - 1);
        while !title.is_char_boundary(keep) {
            keep -= 1;
        }
        name = render(title[..keep].trim_end());
    }
    name
}

/// Checks a template (and the folder name) for the profile API; the message says what is wrong.
pub fn validate_template(out: &OutputSettings) -> Result<(), TemplateError> {
    let template = out.file_template.trim();
    if template.is_empty() {
        return Err(TemplateError::EmptyFileName);
    }
    if template.contains(['/', '\\']) || template.contains("..") {
        return Err(TemplateError::NotPlainName(template.to_string()));
    }
    for part in parse(template)? {
        if let Part::Variable(name) = part
            && !TEMPLATE_VARIABLES.iter().any(|(v, _)| *v == name)
        {
            return Err(TemplateError::UnknownVariable {
                name: name.to_string(),
                known: TEMPLATE_VARIABLES.iter().map(|(v, _)| *v).collect(),
            });
        }
    }
    match out.placement {
        Placement::Beside => {
            let lower = template.to_lowercase();
            if !lower.ends_with(TRAILER_SUFFIX) || lower.len() == TRAILER_SUFFIX.len() {
                return Err(TemplateError::NoTrailerSuffix {
                    suffix: TRAILER_SUFFIX,
                });
            }
        }
        Placement::Folder => {
            let folder = out.folder_name.trim();
            if folder.is_empty()
                || folder.contains(['/', '\\'])
                || folder.contains("..")
                || folder.starts_with('.')
            {
                return Err(TemplateError::BadFolderName(out.folder_name.clone()));
            }
        }
    }
    Ok(())
}

/// Where the trailer goes: the media folder, plus `out.folder_name` (sanitized) for
/// [`Placement::Folder`], plus `file_name` (sanitized again). A name taken by another file (or
/// folder) gets ` (2)`, ` (3)`… — before `-trailer`, so media servers still see a trailer:
/// `Title (2019) (2)-trailer.mp4`. `replacing` is the file this trailer replaces: its name may
/// be reused (matched as the same file, whatever spelling of its path the caller has).
pub fn destination(
    media_folder: &SafePath,
    out: &OutputSettings,
    file_name: &str,
    replacing: Option<&Path>,
) -> Result<SafePath, PlaceError> {
    slot_destination(media_folder, out, Slot::FIRST_TRAILER, file_name, replacing)
}

/// [`destination`] for one slot: with [`Placement::Folder`], trailers and teasers go in the
/// profile's folder and each extra in its kind's folder (`Featurettes`, `Behind The Scenes`,
/// `Scenes`), the names Plex, Jellyfin and Emby read. A season trailer's `media_folder` is
/// the season's folder ([`season_folder`]).
pub fn slot_destination(
    media_folder: &SafePath,
    out: &OutputSettings,
    slot: Slot,
    file_name: &str,
    replacing: Option<&Path>,
) -> Result<SafePath, PlaceError> {
    let dir = match (out.placement, slot.kind.folder()) {
        (Placement::Beside, _) => media_folder.clone(),
        (Placement::Folder, Some(extras)) => media_folder.join(extras)?,
        (Placement::Folder, None) => {
            media_folder.join(&sanitize_file_name(out.folder_name.trim()))?
        }
    };
    let name = sanitize_file_name(file_name);
    let replaced = replacing.and_then(|p| fs::metadata(p).ok());
    for n in 1..=MAX_NUMBER {
        let candidate = dir.join(&numbered(&name, n))?;
        match fs::symlink_metadata(candidate.as_path()) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(candidate),
            Err(e) => {
                return Err(FilesError::Io {
                    op: "check",
                    path: candidate.to_string(),
                    source: e,
                }
                .into());
            }
            Ok(meta) => {
                let same = |r: &fs::Metadata| r.dev() == meta.dev() && r.ino() == meta.ino();
                if replacing.is_some_and(|r| r == candidate.as_path())
                    || replaced.as_ref().is_some_and(same)
                {
                    return Ok(candidate);
                }
            }
        }
    }
    Err(PlaceError::NoFreeName(name))
}

/// `name` with ` (n)` before its `-trailer` (or extras) suffix or else before its extension;
/// `n = 1` is the name itself.
fn numbered(name: &str, n: u32) -> String {
    if n <= 1 {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    let (base, suffix) = std::iter::once(TRAILER_SUFFIX)
        .chain(EXTRA_SUFFIXES)
        .find_map(|s| {
            let cut = stem.len().checked_sub(s.len()).filter(|c| *c > 0)?;
            stem.get(cut..)
                .filter(|tail| tail.eq_ignore_ascii_case(s))
                .map(|_| stem.split_at(cut))
        })
        .unwrap_or((stem, ""));
    format!("{base} ({n}){suffix}{ext}")
}

/// Moves the converted temp file into place ([`move_into_place`]: rename, or copy to a temp
/// file beside the destination and rename when across file systems), creating the trailer
/// folder if needed; returns the final path and its size.
pub async fn place(temp_file: &Path, dest: &SafePath) -> Result<(PathBuf, u64), PlaceError> {
    move_into_place(temp_file, dest).await?;
    let size = tokio::fs::metadata(dest.as_path())
        .await
        .map_err(|e| FilesError::Io {
            op: "check",
            path: dest.to_string(),
            source: e,
        })?
        .len();
    Ok((dest.as_path().to_path_buf(), size))
}

/// Fills `{variable}`s (an unknown one, or a template that does not parse, stays literal);
/// an empty value also removes an empty `()`/`[]` around it and the spaces before that, and
/// whitespace collapses: `{title} ({year})-trailer` without a year is `Title-trailer`.
pub(crate) fn render_template(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let parts = parse(template).unwrap_or_else(|_| vec![Part::Literal(template)]);
    let mut out = String::with_capacity(template.len() + 32);
    for part in parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Variable(name) => match value(name) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    }
    let mut out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for empty in ["()", "[]", "( )", "[ ]"] {
        while let Some(i) = out.find(empty) {
            let start = out[..i].trim_end().len();
            out.replace_range(start..i + empty.len(), "");
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
pub(crate) mod tests;

/// The existing folder of season `n` in a series folder (`Season 01`, `Season 1`, `S01`;
/// the first by name when several spell it), confined to the series folder's root.
/// `Ok(None)` when there is none: Tapearr does not invent a season folder.
pub fn season_folder(series: &SafePath, n: u32) -> Result<Option<SafePath>, PlaceError> {
    let entries = fs::read_dir(series.as_path()).map_err(|e| FilesError::Io {
        op: "list",
        path: series.to_string(),
        source: e,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| fs::metadata(e.path()).is_ok_and(|m| m.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| crate::trailers::scan::folder::season_number(name) == Some(n))
        .collect();
    names.sort();
    match names.first() {
        Some(name) => Ok(Some(series.join(name)?)),
        None => Ok(None),
    }
}
