//! The part index: one line per segment appended to `{part}.idx` after the segment's bytes are
//! in the part. It is the commit record of a segment: after a crash, a disk that filled up or a
//! kill in the middle of a write, the part is cut back to the end of the last indexed segment,
//! and the recording's bytes, media time and last program date-time are read from here instead
//! of trusting counters that were saved every few seconds.
//!
//! Line format (text, so a cut line is recognisable): `{offset} {len} {duration_ms} {pdt_ms|-}\n`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One whole segment in a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedSegment {
    pub offset: u64,
    pub len: u64,
    pub duration_ms: u64,
    /// `EXT-X-PROGRAM-DATE-TIME` of the segment, in ms since the epoch.
    pub pdt_ms: Option<i64>,
}

impl IndexedSegment {
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }

    /// When the segment's content ends on the broadcast's clock.
    pub fn pdt_end_ms(&self) -> Option<i64> {
        self.pdt_ms
            .map(|t| t + i64::try_from(self.duration_ms).unwrap_or(i64::MAX / 2))
    }

    pub(crate) fn line(&self) -> String {
        match self.pdt_ms {
            Some(pdt) => format!("{} {} {} {pdt}\n", self.offset, self.len, self.duration_ms),
            None => format!("{} {} {} -\n", self.offset, self.len, self.duration_ms),
        }
    }

    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split(' ');
        let offset = fields.next()?.parse().ok()?;
        let len = fields.next()?.parse().ok()?;
        let duration_ms = fields.next()?.parse().ok()?;
        let pdt_ms = match fields.next()? {
            "-" => None,
            t => Some(t.parse().ok()?),
        };
        fields.next().is_none().then_some(Self {
            offset,
            len,
            duration_ms,
            pdt_ms,
        })
    }
}

/// Milliseconds since the epoch of a program date-time.
pub fn epoch_ms(t: SystemTime) -> Option<i64> {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
}

/// The program date-time of `ms` since the epoch.
pub fn from_epoch_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// The index file of a part.
pub fn index_path(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".idx");
    PathBuf::from(name)
}

/// What a part holds after [`recover_part`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartContents {
    /// Whole segments, in order.
    pub segments: Vec<IndexedSegment>,
    /// The part's size after recovery.
    pub bytes: u64,
    /// Bytes cut from the end: a segment written only partly, or written but never indexed.
    pub cut_bytes: u64,
}

impl PartContents {
    pub fn media_ms(&self) -> u64 {
        self.segments.iter().map(|s| s.duration_ms).sum()
    }
}

/// Reads a part's index and cuts the part back to its last whole segment. `None` when the part
/// has no index (written by streamlink, or by a version without one).
pub fn recover_part(part: &Path) -> std::io::Result<Option<PartContents>> {
    let index = index_path(part);
    let text = match std::fs::read(&index) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let size = std::fs::metadata(part)?.len();
    // Only complete lines describing contiguous bytes that are all in the file count.
    let mut segments: Vec<IndexedSegment> = Vec::new();
    for line in text.split_inclusive('\n') {
        let Some(seg) = line.strip_suffix('\n').and_then(IndexedSegment::parse) else {
            break;
        };
        let contiguous = segments.last().is_none_or(|prev| prev.end() == seg.offset);
        if !contiguous || seg.end() > size {
            break;
        }
        segments.push(seg);
    }
    // With no whole segment nothing of value is kept: an fMP4 init section alone plays nothing.
    let whole = segments.last().map_or(0, IndexedSegment::end);
    let cut_bytes = size.saturating_sub(whole);
    if cut_bytes > 0 {
        OpenOptions::new().write(true).open(part)?.set_len(whole)?;
    }
    let kept: String = segments.iter().map(IndexedSegment::line).collect();
    if kept.len() != text.len() {
        let mut f = OpenOptions::new().write(true).truncate(true).open(&index)?;
        f.write_all(kept.as_bytes())?;
    }
    Ok(Some(PartContents {
        segments,
        bytes: whole,
        cut_bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(offset: u64, len: u64, pdt: Option<i64>) -> IndexedSegment {
        IndexedSegment {
            offset,
            len,
            duration_ms: 2000,
            pdt_ms: pdt,
        }
    }

    #[test]
    fn lines_round_trip_and_cut_lines_are_refused() {
        for s in [seg(4, 10, Some(1_700_000_000_000)), seg(0, 1, None)] {
            assert_eq!(IndexedSegment::parse(s.line().trim_end()), Some(s));
        }
        assert_eq!(IndexedSegment::parse("4 10 20"), None);
        assert_eq!(IndexedSegment::parse("4 10 2000 - extra"), None);
        assert_eq!(IndexedSegment::parse("x 10 2000 -"), None);
    }

    #[test]
    fn a_part_is_cut_back_to_its_last_indexed_segment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let part = dir.path().join("rec.part0001.mp4");
        // init (4) + two whole segments (10 + 10) + 7 bytes of a third, whose line is cut.
        std::fs::write(&part, vec![1u8; 31]).expect("part");
        let idx = format!(
            "{}{}4 1",
            seg(4, 10, Some(0)).line(),
            seg(14, 10, Some(2000)).line()
        );
        std::fs::write(index_path(&part), idx).expect("idx");
        let c = recover_part(&part).expect("recover").expect("indexed");
        assert_eq!(c.segments.len(), 2);
        assert_eq!((c.bytes, c.cut_bytes, c.media_ms()), (24, 7, 4000));
        assert_eq!(std::fs::metadata(&part).expect("part").len(), 24);
        // The index lost its cut line; a second recovery changes nothing.
        assert_eq!(
            recover_part(&part).expect("again"),
            Some(PartContents { cut_bytes: 0, ..c })
        );
    }

    #[test]
    fn a_line_for_bytes_that_never_reached_the_file_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let part = dir.path().join("rec.part0001.ts");
        std::fs::write(&part, vec![1u8; 15]).expect("part");
        let idx = format!("{}{}", seg(0, 10, None).line(), seg(10, 10, None).line());
        std::fs::write(index_path(&part), idx).expect("idx");
        let c = recover_part(&part).expect("recover").expect("indexed");
        assert_eq!((c.segments.len(), c.bytes, c.cut_bytes), (1, 10, 5));
    }

    #[test]
    fn no_index_means_unknown_and_nothing_is_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let part = dir.path().join("rec.part0001.ts");
        std::fs::write(&part, vec![1u8; 15]).expect("part");
        assert_eq!(recover_part(&part).expect("recover"), None);
        assert_eq!(std::fs::metadata(&part).expect("part").len(), 15);
    }
}
