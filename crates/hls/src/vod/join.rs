//! The join: finished segments appended in playlist order to the output's temporary file (after
//! the fMP4 init section, the header, which the first step appends before segment 0), each
//! one removed as soon as it is appended, synced and recorded. The disk never holds a segment
//! twice (once in the folder, once in the output), so a VOD needs about one segment free beyond
//! its own size (one batch, below, when the join falls behind), not twice its size.
//!
//! One step, for the segments `i..j` ready in order (one, or up to a batch when the join is
//! behind: the syncs are per step, and a step costs three of them): append their bytes to the
//! temporary, `fdatasync` it, write [`JoinProgress`] `{next: j, bytes}` atomically (temporary
//! record, `fsync`, rename, `fsync` of the folder), then remove their files. A process killed
//! anywhere in a step leaves either the record of the step before (the temporary may be
//! longer: it is cut back to the recorded length, and segments `i..j` are still on disk) or
//! the record of this step (some of `i..j` may still be on disk: they are removed, not
//! appended again). Never a lost or doubled segment.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The record's file name inside the segment folder.
pub const PROGRESS_FILE: &str = "join.progress";

/// How far the join got: segments before `next_segment` (a media sequence number) are in the
/// output's temporary file, which is `bytes` long with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinProgress {
    pub next_segment: u64,
    pub bytes: u64,
}

impl JoinProgress {
    /// The record in `work_dir`, if a join has started there (an unreadable record counts as
    /// none: the join starts over).
    pub fn read(work_dir: &Path) -> io::Result<Option<Self>> {
        let text = match std::fs::read_to_string(work_dir.join(PROGRESS_FILE)) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        Ok(match (fields.next(), fields.next()) {
            (Some(Ok(next_segment)), Some(Ok(bytes))) => Some(Self {
                next_segment,
                bytes,
            }),
            _ => None,
        })
    }

    /// Replaces the record: a temporary written and synced, renamed over the old one, and the
    /// folder synced so the rename is durable before the segment's file is removed.
    fn write(self, work_dir: &Path) -> io::Result<()> {
        let path = work_dir.join(PROGRESS_FILE);
        let temp = work_dir.join(format!("{PROGRESS_FILE}.tmp"));
        let mut f = File::create(&temp)?;
        writeln!(f, "{} {}", self.next_segment, self.bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&temp, &path)?;
        sync_dir(work_dir)
    }
}

/// The output's temporary file (`.NAME.tmp` beside it).
pub fn temp_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    output.with_file_name(format!(".{name}.tmp"))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// One segment of the plan, in playlist order.
#[derive(Debug, Clone)]
pub(super) struct Piece {
    pub number: u64,
    pub file: PathBuf,
}

/// The join in progress: the temporary file open at its recorded end.
#[derive(Debug)]
pub(super) struct Joiner {
    pieces: Vec<Piece>,
    /// Written before the first segment (fMP4's init section); kept until `finish`.
    header: Option<PathBuf>,
    work_dir: PathBuf,
    output: PathBuf,
    temp: PathBuf,
    file: File,
    /// Index into `pieces` of the next segment to append.
    next: usize,
    bytes: u64,
}

impl Joiner {
    /// Opens the join where an earlier run left it: the temporary cut back to the recorded
    /// length, appended segments' files (a kill between the record and the removal) removed.
    pub fn open(
        pieces: Vec<Piece>,
        header: Option<PathBuf>,
        work_dir: &Path,
        output: &Path,
    ) -> io::Result<Self> {
        let temp = temp_path(output);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&temp)?;
        let length = file.metadata()?.len();
        let (next, bytes) = match JoinProgress::read(work_dir)? {
            Some(p) if p.bytes <= length => {
                let next = pieces
                    .iter()
                    .position(|s| s.number >= p.next_segment)
                    .unwrap_or(pieces.len());
                (next, p.bytes)
            }
            Some(p) => {
                // The temporary lost synced bytes (replaced or cut by someone else): what it
                // held is gone, so those segments are downloaded again.
                tracing::warn!(
                    recorded = p.bytes,
                    found = length,
                    "VOD join: the temporary file is shorter than its record, starting over"
                );
                std::fs::remove_file(work_dir.join(PROGRESS_FILE))?;
                (0, 0)
            }
            None => (0, 0),
        };
        for piece in &pieces[..next] {
            match std::fs::remove_file(&piece.file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        file.set_len(bytes)?;
        file.seek(SeekFrom::Start(bytes))?;
        Ok(Self {
            pieces,
            header,
            work_dir: work_dir.to_owned(),
            output: output.to_owned(),
            temp,
            file,
            next,
            bytes,
        })
    }

    /// Segments already in the temporary (the first `appended()` of the plan).
    pub fn appended(&self) -> usize {
        self.next
    }

    pub fn is_complete(&self) -> bool {
        self.next == self.pieces.len()
    }

    /// Appends the next `count` segments (their files must be finished) in one step and
    /// removes their files.
    pub fn append_next(&mut self, count: usize) -> io::Result<()> {
        let end = (self.next + count).min(self.pieces.len());
        if end == self.next {
            return Ok(());
        }
        let mut bytes = self.bytes;
        if let Some(header) = self.header.as_ref().filter(|_| self.next == 0) {
            bytes += io::copy(&mut File::open(header)?, &mut self.file)?;
        }
        for piece in &self.pieces[self.next..end] {
            let mut src = File::open(&piece.file)?;
            // `io::copy` between files is `copy_file_range` on Linux: no pass through user space.
            bytes += io::copy(&mut src, &mut self.file)?;
        }
        self.file.sync_data()?;
        let last = &self.pieces[end - 1];
        let next_segment = self.pieces.get(end).map_or(last.number + 1, |p| p.number);
        JoinProgress {
            next_segment,
            bytes,
        }
        .write(&self.work_dir)?;
        for piece in &self.pieces[self.next..end] {
            std::fs::remove_file(&piece.file)?;
        }
        self.bytes = bytes;
        self.next = end;
        Ok(())
    }

    /// Renames the complete temporary to the output and removes the segment folder; returns
    /// the output's length.
    pub fn finish(self) -> io::Result<u64> {
        self.file.sync_all()?;
        drop(self.file);
        std::fs::rename(&self.temp, &self.output)?;
        if let Some(parent) = self.output.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        std::fs::remove_dir_all(&self.work_dir)?;
        Ok(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(n: u64) -> (tempfile::TempDir, Vec<Piece>, PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let work = dir.path().join("segments");
        std::fs::create_dir(&work).expect("work dir");
        let pieces = (0..n)
            .map(|i| {
                let file = work.join(format!("{i:06}.ts"));
                std::fs::write(&file, vec![i as u8; 100 + i as usize]).expect("segment");
                Piece { number: i, file }
            })
            .collect();
        let output = dir.path().join("out.ts");
        (dir, pieces, output)
    }

    fn expected(n: u64) -> Vec<u8> {
        (0..n)
            .flat_map(|i| vec![i as u8; 100 + i as usize])
            .collect()
    }

    #[test]
    fn a_torn_step_resumes_without_a_lost_or_doubled_segment() {
        let (dir, pieces, output) = setup(6);
        let work = dir.path().join("segments");
        let mut j = Joiner::open(pieces.clone(), None, &work, &output).expect("open");
        j.append_next(1).expect("0");
        j.append_next(1).expect("1");
        drop(j);
        assert!(!pieces[0].file.exists() && !pieces[1].file.exists());
        // Killed in step 2 after the append (the temporary is longer than the record) …
        let temp = temp_path(&output);
        let mut f = OpenOptions::new().append(true).open(&temp).expect("temp");
        f.write_all(&[2u8; 50]).expect("torn bytes");
        drop(f);
        // … and in step 1 between the record and the removal (segment 1's file is back).
        std::fs::write(&pieces[1].file, b"appended already").expect("stray");
        let mut j = Joiner::open(pieces.clone(), None, &work, &output).expect("reopen");
        assert_eq!(j.appended(), 2);
        assert!(!pieces[1].file.exists(), "an appended segment is removed");
        j.append_next(3).expect("2..5");
        j.append_next(10).expect("5");
        assert!(j.is_complete());
        let bytes = j.finish().expect("finish");
        let joined = std::fs::read(&output).expect("output");
        assert_eq!(joined, expected(6));
        assert_eq!(bytes, joined.len() as u64);
        assert!(!work.exists() && !temp.exists());
    }

    #[test]
    fn the_header_comes_first_once_even_when_the_first_step_is_torn() {
        let (dir, pieces, output) = setup(3);
        let work = dir.path().join("segments");
        let header = work.join("init.mp4");
        std::fs::write(&header, b"INIT").expect("header");
        let mut j =
            Joiner::open(pieces.clone(), Some(header.clone()), &work, &output).expect("open");
        j.append_next(1).expect("0");
        drop(j);
        // A kill in the next step after its append: the temporary is cut back to the record.
        let mut f = OpenOptions::new()
            .append(true)
            .open(temp_path(&output))
            .expect("temp");
        f.write_all(b"torn").expect("torn bytes");
        drop(f);
        let mut j = Joiner::open(pieces, Some(header), &work, &output).expect("reopen");
        assert_eq!(j.appended(), 1);
        j.append_next(5).expect("1..3");
        j.finish().expect("finish");
        let mut want = b"INIT".to_vec();
        want.extend(expected(3));
        assert_eq!(std::fs::read(&output).expect("output"), want);
    }

    #[test]
    fn a_temporary_shorter_than_its_record_starts_over() {
        let (dir, pieces, output) = setup(3);
        let work = dir.path().join("segments");
        let mut j = Joiner::open(pieces, None, &work, &output).expect("open");
        j.append_next(1).expect("0");
        drop(j);
        std::fs::write(temp_path(&output), b"").expect("cut");
        let j = Joiner::open(Vec::new(), None, &work, &output).expect("reopen");
        assert_eq!(j.appended(), 0);
        assert_eq!(JoinProgress::read(&work).expect("read"), None);
    }
}
