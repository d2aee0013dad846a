//! A recording's part files, and what they truly hold.
//!
//! Counters in the database are saved every few seconds, so after a crash they lag behind the
//! files. Whoever picks up a recording a dead process left (resume, close at start-up,
//! finalize, an adopted parts folder) reads the truth here: each part's index says which
//! segments are whole (a part is cut back to its last whole segment), their bytes, their media
//! time and where the last one ends on the broadcast's clock.

use super::media;
use crate::time::Timestamp;
use std::path::{Path, PathBuf};
use tapearr_hls::index::{self, PartContents};
use tokio_util::sync::CancellationToken;

/// What the parts of one recording hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartsTruth {
    /// The parts left after recovery, in recording order.
    pub parts: Vec<PathBuf>,
    pub bytes: u64,
    pub media_ms: u64,
    /// Whole segments in indexed parts (parts without an index count none).
    pub segments: u64,
    /// Where the last indexed segment ends on the broadcast's clock (`PROGRAM-DATE-TIME`).
    pub recorded_until: Option<Timestamp>,
    /// Bytes cut from part ends: segments a crash or a full disk left unfinished.
    pub cut_bytes: u64,
}

/// The recording's parts in recording order (`{stem}.partNNNN.ts|mp4`; numbers may skip).
pub fn list_parts(dir: &Path, stem: &str) -> std::io::Result<Vec<PathBuf>> {
    let prefix = format!("{stem}.part");
    let mut parts: Vec<(u64, PathBuf)> = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Some((number, ext)) = rest.split_once('.') else {
            continue;
        };
        if !matches!(ext, "ts" | "mp4") || !entry.file_type()?.is_file() {
            continue;
        }
        if let Ok(n) = number.parse::<u64>() {
            parts.push((n, entry.path()));
        }
    }
    parts.sort();
    Ok(parts.into_iter().map(|(_, p)| p).collect())
}

/// Reads (and repairs) what the recording's parts hold. Parts with an index are cut back to
/// their last whole segment; a part left with no whole segment is removed (with its index).
/// Parts without an index (streamlink) are measured with ffprobe. Call it only when no
/// process writes the parts (see [`crate::files::open_by_a_process`]).
pub async fn recover(
    dir: &Path,
    stem: &str,
    ffprobe: &Path,
    cancel: &CancellationToken,
) -> std::io::Result<PartsTruth> {
    let listed = list_parts(dir, stem)?;
    let mut truth = PartsTruth::default();
    for part in listed {
        let path = part.clone();
        let contents = tokio::task::spawn_blocking(move || index::recover_part(&path))
            .await
            .map_err(std::io::Error::other)??;
        match contents {
            Some(c) => {
                if c.segments.is_empty() {
                    remove_empty_part(&part).await?;
                    truth.cut_bytes += c.cut_bytes;
                    continue;
                }
                add_indexed(&mut truth, &c);
            }
            None => {
                let bytes = tokio::fs::metadata(&part).await?.len();
                if bytes == 0 {
                    remove_empty_part(&part).await?;
                    continue;
                }
                truth.bytes += bytes;
                // A part ffprobe cannot read adds no media time; finalize's validation says so.
                let facts =
                    crate::tools::ffprobe::probe(ffprobe, &part, media::PROBE_LIMIT, cancel);
                if let Ok(facts) = facts.await {
                    truth.media_ms += facts.container_ms.unwrap_or(0);
                }
            }
        }
        truth.parts.push(part);
    }
    Ok(truth)
}

fn add_indexed(truth: &mut PartsTruth, c: &PartContents) {
    truth.bytes += c.bytes;
    truth.media_ms += c.media_ms();
    truth.segments += c.segments.len() as u64;
    truth.cut_bytes += c.cut_bytes;
    if let Some(end) = c.segments.last().and_then(|s| s.pdt_end_ms()) {
        truth.recorded_until = Some(Timestamp(end));
    }
}

async fn remove_empty_part(part: &Path) -> std::io::Result<()> {
    tracing::info!(part = %part.display(), "removing a part that holds no whole segment");
    for path in [part.to_path_buf(), index::index_path(part)] {
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use tapearr_hls::{Container, OutputPlan, PartWriter};

    #[test]
    fn parts_are_ordered_by_number_and_strangers_ignored() {
        let dir = tempfile::tempdir().expect("fixture");
        for name in [
            "chan.part0010.ts",
            "chan.part0002.ts",
            "chan.part0001.ts",
            "chan.part10000.ts",
            "other.part0003.ts",
            "chan.part0004.txt",
            "chan.part0001.ts.idx",
            ".tapearr-concat.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").expect("fixture");
        }
        let names: Vec<String> = list_parts(dir.path(), "chan")
            .expect("fixture")
            .iter()
            .map(|p| {
                p.file_name()
                    .expect("fixture")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "chan.part0001.ts",
                "chan.part0002.ts",
                "chan.part0010.ts",
                "chan.part10000.ts"
            ]
        );
        assert!(
            list_parts(&dir.path().join("gone"), "chan")
                .expect("fixture")
                .is_empty()
        );
    }

    /// Two sessions wrote parts; the second was killed in the middle of a segment, and a third
    /// opened a part and died before its first segment. The truth is what is whole.
    #[tokio::test]
    async fn the_truth_is_what_the_parts_hold_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pdt = |s: u64| Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
        for (session, segments) in [(0u64, 3u64), (10, 2)] {
            let mut w = PartWriter::new(OutputPlan::new(dir.path(), "chan"), Container::Ts);
            for i in 0..segments {
                w.write_segment(
                    Bytes::from(vec![7u8; 100]),
                    2.0,
                    pdt(1000 + session + 2 * i),
                )
                .await
                .expect("write");
            }
            w.finish().await.expect("finish");
        }
        let parts = list_parts(dir.path(), "chan").expect("parts");
        // The kill: 40 bytes of a third segment reached the second part, its index line did not.
        let mut cut = std::fs::read(&parts[1]).expect("part");
        cut.extend_from_slice(&[9u8; 40]);
        std::fs::write(&parts[1], cut).expect("cut segment");
        std::fs::write(dir.path().join("chan.part0003.ts"), b"").expect("empty part");
        std::fs::write(dir.path().join("chan.part0003.ts.idx"), b"").expect("empty index");

        let truth = recover(
            dir.path(),
            "chan",
            Path::new("ffprobe"),
            &CancellationToken::new(),
        )
        .await
        .expect("recover");
        assert_eq!(truth.parts, parts);
        assert_eq!(
            (truth.bytes, truth.media_ms, truth.segments, truth.cut_bytes),
            (500, 10_000, 5, 40)
        );
        assert_eq!(truth.recorded_until, Some(Timestamp(1_014_000)));
        assert_eq!(std::fs::metadata(&parts[1]).expect("part").len(), 200);
        assert!(!dir.path().join("chan.part0003.ts").exists());
        assert!(!dir.path().join("chan.part0003.ts.idx").exists());
    }
}
