//! The part writer: appends whole segments to numbered part files, rotating by duration and
//! size, and starting a new part when an fMP4 stream switches to a new init section.
//!
//! Crash tolerance: each segment is handed to the kernel with one `write_all` of the complete,
//! already downloaded segment, and nothing is buffered in user space; then its line is appended
//! to the part's index ([`crate::index`]), which commits it. A write that fails (a full disk) is
//! cut back at once; one cut by a `kill -9` is cut back by [`crate::index::recover_part`]. See
//! the crate docs for the fsync policy.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::index::{IndexedSegment, epoch_ms, index_path};

use std::fs::File;
use std::io::Write;

use bytes::Bytes;

/// How far a segment's program date-time may differ from the end of the previous one and
/// still continue the same part: rounding between timestamps, never a whole lost segment.
/// (It was 1 s flat, so one lost 1 s segment stayed inside a part and the MP4 kept the jump:
/// a second longer than the media the recording counted.)
const TIMELINE_SLACK: Duration = Duration::from_millis(250);

/// Where and how to write a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPlan {
    pub dir: PathBuf,
    /// Parts are named `{stem}.part0001.{ts|mp4}`, `{stem}.part0002…` in recording order.
    pub stem: String,
    /// Start a new part once this much media is in the current one (default 24 h).
    pub max_part_duration: Duration,
    /// Start a new part before this size would be exceeded (default 100 GB).
    pub max_part_bytes: u64,
    /// `fdatasync` at most this often while writing (and always at part end).
    pub sync_interval: Duration,
}

impl OutputPlan {
    pub fn new(dir: impl Into<PathBuf>, stem: impl Into<String>) -> Self {
        Self {
            dir: dir.into(),
            stem: stem.into(),
            max_part_duration: Duration::from_secs(24 * 3600),
            max_part_bytes: 100_000_000_000,
            sync_interval: Duration::from_secs(10),
        }
    }

    /// Plan for a path like `out/rec.ts`: directory `out`, stem `rec`.
    pub fn from_path(path: &Path) -> Self {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "recording".into());
        Self::new(dir, stem)
    }

    pub fn part_path(&self, index: u32, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.part{index:04}.{ext}", self.stem))
    }
}

/// Media container, decided by the playlist (`EXT-X-MAP` means fMP4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Ts,
    Fmp4,
}

impl Container {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Ts => "ts",
            Self::Fmp4 => "mp4",
        }
    }
}

/// A part that was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartOpened {
    pub index: u32,
    pub path: PathBuf,
}

/// Where one written segment's bytes lie, so they can be served again without a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentLocation {
    /// The part file (shared: one allocation per part, not per segment).
    pub path: Arc<Path>,
    pub offset: u64,
    pub len: u64,
    /// fMP4: the part starts with its init section, bytes `0..init_len`.
    pub init_len: Option<u64>,
}

/// What [`PartWriter::write_segment`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The part it had to open first, if any.
    pub opened: Option<PartOpened>,
    pub location: SegmentLocation,
}

struct OpenPart {
    /// `None` only while a blocking write holds it.
    file: Option<File>,
    /// The part's index; moves with `file`.
    index: Option<File>,
    path: Arc<Path>,
    init_len: Option<u64>,
    bytes: u64,
    seconds: f64,
    segments: u64,
}

pub struct PartWriter {
    plan: OutputPlan,
    container: Container,
    next_index: u32,
    current: Option<OpenPart>,
    /// fMP4 init section written at the start of every part.
    init: Option<Bytes>,
    /// A new init arrived, or the timeline broke: the next segment goes to a new part.
    init_changed: bool,
    /// Where the last segment ends on the broadcast's clock.
    written_until: Option<SystemTime>,
    last_sync: Instant,
    parts: Vec<PathBuf>,
    total_bytes: u64,
}

impl PartWriter {
    pub fn new(plan: OutputPlan, container: Container) -> Self {
        Self {
            plan,
            container,
            next_index: 1,
            current: None,
            init: None,
            init_changed: false,
            written_until: None,
            last_sync: Instant::now(),
            parts: Vec::new(),
            total_bytes: 0,
        }
    }

    pub fn parts(&self) -> &[PathBuf] {
        &self.parts
    }

    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Sets the fMP4 init section; a different one than before starts a new part.
    pub fn set_init(&mut self, init: Bytes) {
        if self.init.as_ref() != Some(&init) {
            self.init_changed = self.init.is_some();
            self.init = Some(init);
        }
    }

    /// Appends one whole segment and indexes it; says where it went and which part it opened,
    /// if any. On error the part is left as it was before the call.
    pub async fn write_segment(
        &mut self,
        data: Bytes,
        seconds: f64,
        program_date_time: Option<SystemTime>,
    ) -> std::io::Result<Appended> {
        // Content that does not follow the last segment (an outage, a stall, a restarted
        // encoder) starts a new part: the remux joins parts end to end, so the MP4 holds the
        // media without the hole, where one file would keep the jump in its timestamps.
        if let (Some(until), Some(start)) = (self.written_until, program_date_time)
            && !start
                .duration_since(until)
                .or_else(|e| Ok::<_, ()>(e.duration()))
                .is_ok_and(|d| d <= TIMELINE_SLACK)
        {
            self.init_changed = self.current.is_some();
        }
        if let Some(start) = program_date_time {
            self.written_until = Some(start + Duration::from_secs_f64(seconds.max(0.0)));
        }
        let rotate = match &self.current {
            None => true,
            Some(p) => {
                self.init_changed
                    || (p.segments > 0
                        && (p.seconds + seconds > self.plan.max_part_duration.as_secs_f64()
                            || p.bytes + data.len() as u64 > self.plan.max_part_bytes))
            }
        };
        let opened = if rotate {
            Some(self.open_next().await?)
        } else {
            None
        };
        let sync = self.last_sync.elapsed() >= self.plan.sync_interval;
        let part = self
            .current
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no open part"))?;
        let len = data.len() as u64;
        let location = SegmentLocation {
            path: part.path.clone(),
            offset: part.bytes,
            len,
            init_len: part.init_len,
        };
        let line = IndexedSegment {
            offset: part.bytes,
            len,
            duration_ms: (seconds.max(0.0) * 1000.0).round() as u64,
            pdt_ms: program_date_time.and_then(epoch_ms),
        }
        .line();
        append_segment(part, data, line, sync).await?;
        part.bytes += len;
        part.seconds += seconds;
        part.segments += 1;
        self.total_bytes += len;
        if sync {
            self.last_sync = Instant::now();
        }
        Ok(Appended { opened, location })
    }

    async fn open_next(&mut self) -> std::io::Result<PartOpened> {
        self.close_current().await?;
        tokio::fs::create_dir_all(&self.plan.dir).await?;
        // Never overwrite an earlier part: a recording resumed into the same folder continues
        // after the parts already there.
        let (index, path, file, index_file) = loop {
            let index = self.next_index;
            let path = self.plan.part_path(index, self.container.extension());
            let open_path = path.clone();
            let opened = tokio::task::spawn_blocking(move || {
                let create = |p: &Path| {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(p)
                };
                let part = create(&open_path)?;
                // A stale index of a part that is gone would describe bytes it never held.
                let idx = index_path(&open_path);
                let _ = std::fs::remove_file(&idx);
                Ok::<_, std::io::Error>((part, create(&idx)?))
            })
            .await
            .map_err(std::io::Error::other)?;
            self.next_index += 1;
            match opened {
                Ok((file, idx)) => break (index, path, file, idx),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        };
        let mut file = Some(file);
        let mut bytes = 0;
        let mut init_len = None;
        if let Some(init) = self.init.clone() {
            bytes = init.len() as u64;
            init_len = Some(bytes);
            write_blocking(&mut file, init, false).await?;
            self.total_bytes += bytes;
        }
        self.init_changed = false;
        self.current = Some(OpenPart {
            file,
            index: Some(index_file),
            path: Arc::from(path.as_path()),
            init_len,
            bytes,
            seconds: 0.0,
            segments: 0,
        });
        self.parts.push(path.clone());
        Ok(PartOpened { index, path })
    }

    async fn close_current(&mut self) -> std::io::Result<()> {
        if let Some(part) = self.current.take()
            && let Some(file) = part.file
        {
            let index = part.index;
            tokio::task::spawn_blocking(move || {
                file.sync_all()?;
                index.map_or(Ok(()), |i| i.sync_all())
            })
            .await
            .map_err(std::io::Error::other)??;
        }
        Ok(())
    }

    /// Syncs and closes the open part; call at the end of a recording.
    pub async fn finish(&mut self) -> std::io::Result<()> {
        self.close_current().await
    }
}

/// One `write_all` of the whole buffer on a blocking thread. The `Bytes` moves there, so no
/// copy is made and no buffer stays behind per open file (tokio's `File` keeps one).
async fn write_blocking(slot: &mut Option<File>, data: Bytes, sync: bool) -> std::io::Result<()> {
    let mut file = slot
        .take()
        .ok_or_else(|| std::io::Error::other("part file unavailable"))?;
    let (file, result) = tokio::task::spawn_blocking(move || {
        let r = file
            .write_all(&data)
            .and_then(|()| if sync { file.sync_data() } else { Ok(()) });
        (file, r)
    })
    .await
    .map_err(std::io::Error::other)?;
    *slot = Some(file);
    result
}

/// Writes a segment, then its index line, on one blocking thread. If either write fails (a
/// full disk), both files are cut back to where they were, so the part never holds half a
/// segment: ffmpeg would report it as a decode error in the finished MP4.
async fn append_segment(
    part: &mut OpenPart,
    data: Bytes,
    line: String,
    sync: bool,
) -> std::io::Result<()> {
    let taken = (part.file.take(), part.index.take());
    let (Some(mut file), Some(mut index)) = taken else {
        return Err(std::io::Error::other("part file unavailable"));
    };
    let offset = part.bytes;
    let (file, index, result) = tokio::task::spawn_blocking(move || {
        let index_len = index.metadata().map(|m| m.len());
        let r = file
            .write_all(&data)
            .and_then(|()| index.write_all(line.as_bytes()))
            .and_then(|()| if sync { file.sync_data() } else { Ok(()) });
        if r.is_err() {
            let _ = file.set_len(offset);
            if let Ok(len) = index_len {
                let _ = index.set_len(len);
            }
            // `write_all` moved the cursor past the cut; the next write must start at the end.
            use std::io::Seek;
            let _ = file.seek(std::io::SeekFrom::Start(offset));
            let _ = index.seek(std::io::SeekFrom::End(0));
        }
        (file, index, r)
    })
    .await
    .map_err(std::io::Error::other)?;
    part.file = Some(file);
    part.index = Some(index);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_resumed_recording_continues_after_existing_parts() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("rec.part0001.ts"), b"earlier").expect("seed");
        let mut w = PartWriter::new(OutputPlan::new(dir.path(), "rec"), Container::Ts);
        let p = w
            .write_segment(Bytes::from(vec![1u8; 10]), 1.0, None)
            .await
            .expect("write")
            .opened
            .expect("opened");
        assert_eq!(p.index, 2);
        w.finish().await.expect("finish");
        assert_eq!(
            std::fs::read(dir.path().join("rec.part0001.ts")).expect("kept"),
            b"earlier"
        );
    }

    #[tokio::test]
    async fn each_segment_reports_where_its_bytes_are() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut plan = OutputPlan::new(dir.path(), "rec");
        plan.max_part_bytes = 100;
        let mut w = PartWriter::new(plan, Container::Fmp4);
        w.set_init(Bytes::from_static(b"INIT"));
        let mut written = Vec::new();
        for (i, len) in [30usize, 40, 50].into_iter().enumerate() {
            let data = Bytes::from(vec![i as u8 + 1; len]);
            let a = w
                .write_segment(data.clone(), 1.0, None)
                .await
                .expect("write");
            written.push((a.location, data));
        }
        w.finish().await.expect("finish");
        let at: Vec<_> = written
            .iter()
            .map(|(l, _)| (l.offset, l.len, l.init_len))
            .collect();
        // The third segment would pass 100 bytes: it opens part 2, after that part's init.
        assert_eq!(at, [(4, 30, Some(4)), (34, 40, Some(4)), (4, 50, Some(4))]);
        assert_ne!(written[1].0.path, written[2].0.path);
        for (loc, data) in &written {
            let file = std::fs::read(&loc.path).expect("part");
            let range = loc.offset as usize..(loc.offset + loc.len) as usize;
            assert_eq!(&file[range], &data[..]);
            assert_eq!(&file[..4], b"INIT");
        }
    }

    #[tokio::test]
    async fn a_hole_in_the_timeline_starts_a_new_part() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = PartWriter::new(OutputPlan::new(dir.path(), "rec"), Container::Ts);
        let at = |s: u64| Some(std::time::UNIX_EPOCH + Duration::from_secs(s));
        let mut opened = Vec::new();
        // 100, 102 follow each other; 110 comes after an 6 s hole; 112 follows; no time: same part.
        for t in [at(100), at(102), at(110), at(112), None] {
            let a = w
                .write_segment(Bytes::from(vec![1u8; 10]), 2.0, t)
                .await
                .expect("write");
            opened.push(a.opened.map(|p| p.index));
        }
        w.finish().await.expect("finish");
        assert_eq!(opened, [Some(1), None, Some(2), None, None]);
    }

    #[tokio::test]
    async fn one_lost_short_segment_starts_a_new_part() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = PartWriter::new(OutputPlan::new(dir.path(), "rec"), Container::Ts);
        let at = |ms: u64| Some(std::time::UNIX_EPOCH + Duration::from_millis(ms));
        let mut opened = Vec::new();
        // 1 s segments: 10.000 and 11.004 follow each other (rounding), 13.004 comes after the
        // segment at 12.004 was lost.
        for t in [at(10_000), at(11_004), at(13_004)] {
            let a = w
                .write_segment(Bytes::from(vec![1u8; 10]), 1.0, t)
                .await
                .expect("write");
            opened.push(a.opened.map(|p| p.index));
        }
        w.finish().await.expect("finish");
        assert_eq!(opened, [Some(1), None, Some(2)]);
    }

    #[tokio::test]
    async fn rotates_by_duration_size_and_new_init() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut plan = OutputPlan::new(dir.path(), "rec");
        plan.max_part_duration = Duration::from_secs(4);
        plan.max_part_bytes = 1000;
        let mut w = PartWriter::new(plan, Container::Fmp4);
        w.set_init(Bytes::from_static(b"INIT"));
        assert!(
            w.write_segment(Bytes::from(vec![1u8; 100]), 2.0, None)
                .await
                .expect("write")
                .opened
                .is_some()
        );
        assert!(
            w.write_segment(Bytes::from(vec![2u8; 100]), 2.0, None)
                .await
                .expect("write")
                .opened
                .is_none()
        );
        // Duration limit: 4 s reached.
        let p = w
            .write_segment(Bytes::from(vec![3u8; 100]), 2.0, None)
            .await
            .expect("write")
            .opened
            .expect("rotated");
        assert_eq!(p.index, 2);
        // Size limit.
        let p = w
            .write_segment(Bytes::from(vec![4u8; 900]), 1.0, None)
            .await
            .expect("write")
            .opened
            .expect("rotated");
        assert_eq!(p.index, 3);
        // Same init: no rotation; new init: rotation.
        w.set_init(Bytes::from_static(b"INIT"));
        w.set_init(Bytes::from_static(b"INIT2"));
        let p = w
            .write_segment(Bytes::from(vec![5u8; 10]), 1.0, None)
            .await
            .expect("write")
            .opened
            .expect("rotated");
        assert_eq!(
            p.path.file_name().and_then(|n| n.to_str()),
            Some("rec.part0004.mp4")
        );
        w.finish().await.expect("finish");
        let names: Vec<_> = w
            .parts()
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect();
        assert_eq!(
            names,
            [
                "rec.part0001.mp4",
                "rec.part0002.mp4",
                "rec.part0003.mp4",
                "rec.part0004.mp4"
            ]
        );
        let first = std::fs::read(&w.parts()[0]).expect("read");
        assert_eq!(first.len(), 4 + 200);
        assert!(first.starts_with(b"INIT"));
        let last = std::fs::read(&w.parts()[3]).expect("read");
        assert!(last.starts_with(b"INIT2"));
    }
}
