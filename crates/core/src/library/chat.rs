//! A recording's chat for the web player (S10), a bounded page at a time.

use super::{Library, LibraryError, LibraryResult};
use crate::chat::record::{self, ChatLine};
use crate::streams::model::RecordingStatus;
use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::path::PathBuf;

/// Messages in one page, at most.
pub const CHAT_PAGE_MAX: usize = 1_000;
const CHAT_PAGE_DEFAULT: usize = 500;

/// Messages from `from_ms` (inclusive) up to `to_ms` (exclusive), oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatPage {
    pub messages: Vec<ChatLine>,
    /// More messages wait in the range: ask again with this `from_ms` and `skip = next_skip`
    /// (the messages at that very millisecond this page already holds).
    pub next_from_ms: Option<u64>,
    pub next_skip: usize,
}

impl Library {
    /// The recording's chat between two offsets: for a finalized recording on the MP4's
    /// timeline, for one still recording from its start (what was captured so far). A recording
    /// without chat has an empty page.
    pub async fn chat(
        &self,
        recording_id: &str,
        from_ms: u64,
        skip: usize,
        to_ms: Option<u64>,
        limit: Option<usize>,
    ) -> LibraryResult<ChatPage> {
        let to_ms = to_ms.unwrap_or(u64::MAX);
        if to_ms < from_ms {
            return Err(LibraryError::Invalid(format!(
                "to_ms ({to_ms}) is before from_ms ({from_ms})"
            )));
        }
        let limit = limit.unwrap_or(CHAT_PAGE_DEFAULT);
        if !(1..=CHAT_PAGE_MAX).contains(&limit) {
            return Err(LibraryError::Invalid(format!(
                "limit must be 1 to {CHAT_PAGE_MAX}, not {limit}"
            )));
        }
        let rec = self
            .inner
            .store
            .recording(recording_id)
            .await?
            .ok_or(LibraryError::NotFound)?;
        let roots = self.roots()?;
        let source = match (&rec.status, &rec.library.video_path) {
            (RecordingStatus::Ready, Some(video)) => {
                let video = roots.resolve(video)?;
                let stem = video
                    .as_path()
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .ok_or(LibraryError::NotFound)?;
                let name = format!("{stem}{}", crate::chat::JSONL_SUFFIX);
                Source::Final(
                    video
                        .parent()
                        .ok_or(LibraryError::NotFound)?
                        .join(&name)?
                        .as_path()
                        .to_path_buf(),
                )
            }
            _ => match roots.resolve(&rec.dir) {
                Ok(dir) => Source::Parts(dir.as_path().join(crate::chat::PARTS_FILE)),
                Err(_) => Source::None,
            },
        };
        tokio::task::spawn_blocking(move || page(source, (from_ms, skip), to_ms, limit))
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
    }
}

enum Source {
    /// Beside the MP4: sorted by `ms`, moderation applied.
    Final(PathBuf),
    /// Still in the parts folder: as captured.
    Parts(PathBuf),
    None,
}

fn page(
    source: Source,
    (from_ms, skip): (u64, usize),
    to_ms: u64,
    limit: usize,
) -> LibraryResult<ChatPage> {
    let in_range = |l: &ChatLine| l.ms >= from_ms && l.ms < to_ms;
    // The first `skip` messages at `from_ms` came with the page before.
    let mut skipped = 0;
    let mut wanted = |l: &ChatLine| {
        if !in_range(l) {
            return false;
        }
        if l.ms == from_ms && skipped < skip {
            skipped += 1;
            return false;
        }
        true
    };
    let mut lines: Vec<ChatLine> = Vec::new();
    match source {
        Source::None => {}
        Source::Parts(path) => {
            let mut all = record::kept_messages(record::read_entries(&path).map_err(io)?);
            all.sort_by_key(|l| l.ms);
            lines = all
                .into_iter()
                .filter(|l| wanted(l))
                .take(limit + 1)
                .collect();
        }
        Source::Final(path) => {
            let file = match std::fs::File::open(&path) {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(empty()),
                Err(e) => return Err(io(e)),
            };
            // Sorted: stop at the end of the range or one past a full page.
            for raw in std::io::BufReader::new(file).split(b'\n') {
                let Ok(line) = serde_json::from_slice::<ChatLine>(&raw.map_err(io)?) else {
                    continue;
                };
                if line.ms >= to_ms || lines.len() > limit {
                    break;
                }
                if wanted(&line) {
                    lines.push(line);
                }
            }
        }
    }
    if lines.len() <= limit {
        return Ok(ChatPage {
            messages: lines,
            next_from_ms: None,
            next_skip: 0,
        });
    }
    let next = lines[limit].ms;
    lines.truncate(limit);
    let already = lines.iter().filter(|l| l.ms == next).count();
    Ok(ChatPage {
        next_skip: already + if next == from_ms { skip } else { 0 },
        messages: lines,
        next_from_ms: Some(next),
    })
}

fn empty() -> ChatPage {
    ChatPage {
        messages: Vec::new(),
        next_from_ms: None,
        next_skip: 0,
    }
}

fn io(e: std::io::Error) -> LibraryError {
    LibraryError::Files(crate::files::FilesError::io(
        "read",
        std::path::Path::new("chat"),
        e,
    ))
}
