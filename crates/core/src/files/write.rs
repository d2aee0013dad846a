//! Atomic writes (temp file, fsync, rename) and moves into the library.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncRead, AsyncWriteExt};

use super::error::FilesError;
use super::ops::{blocking, create_dir_all_sync};
use super::perms::Inherit;
use super::roots::SafePath;
use super::temp::{create_temp, sync_dir};

/// A file being written under a temporary name next to its destination.
///
/// Readers never see a partial file: the data only appears at the destination on
/// [`commit`](Self::commit). Dropping the writer without committing removes the temp file.
#[derive(Debug)]
pub struct AtomicWriter {
    dest: SafePath,
    temp: Option<PathBuf>,
    file: tokio::fs::File,
    written: u64,
}

impl AtomicWriter {
    /// Creates missing parent directories and a private temp file beside `dest`.
    pub async fn create(dest: &SafePath) -> Result<Self, FilesError> {
        let dest = dest.recheck()?;
        let parent = dest.parent().ok_or(FilesError::IsRoot)?;
        let (temp, file) = blocking(move || {
            create_dir_all_sync(&parent)?;
            create_temp(parent.as_path())
                .map_err(|e| FilesError::io("create", parent.relative(), e))
        })
        .await?;
        Ok(Self {
            dest,
            temp: Some(temp),
            file: tokio::fs::File::from_std(file),
            written: 0,
        })
    }

    /// Appends bytes.
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), FilesError> {
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| FilesError::io("write", self.dest.relative(), e))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Copies everything from `reader`; returns the bytes copied.
    pub async fn copy_from<R: AsyncRead + Unpin + ?Sized>(
        &mut self,
        reader: &mut R,
    ) -> Result<u64, FilesError> {
        let n = tokio::io::copy(reader, &mut self.file)
            .await
            .map_err(|e| FilesError::io("write", self.dest.relative(), e))?;
        self.written += n;
        Ok(n)
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes and fsyncs the data, gives it the inherited mode, renames it over
    /// the destination and fsyncs the directory.
    pub async fn commit(mut self) -> Result<(), FilesError> {
        let rel = self.dest.relative().to_path_buf();
        let io_err = |e| FilesError::io("write", &rel, e);
        self.file.flush().await.map_err(io_err)?;
        self.file.sync_all().await.map_err(io_err)?;
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let dest = self.dest.clone();
        blocking(move || {
            let result = finish(&temp, &dest);
            if result.is_err() {
                let _ = fs::remove_file(&temp);
            }
            result
        })
        .await
    }

    /// Removes the temp file now (dropping does the same).
    pub async fn abort(mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = tokio::fs::remove_file(temp).await;
        }
    }
}

impl Drop for AtomicWriter {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

/// Writes `bytes` to `dest` atomically.
pub async fn write_atomic(dest: &SafePath, bytes: &[u8]) -> Result<(), FilesError> {
    let mut writer = AtomicWriter::create(dest).await?;
    writer.write_all(bytes).await?;
    writer.commit().await
}

/// Streams `reader` into `dest` atomically; returns the bytes written.
pub async fn write_atomic_from<R: AsyncRead + Unpin + ?Sized>(
    dest: &SafePath,
    reader: &mut R,
) -> Result<u64, FilesError> {
    let mut writer = AtomicWriter::create(dest).await?;
    let n = writer.copy_from(reader).await?;
    writer.commit().await?;
    Ok(n)
}

/// Moves `src` (a file Tapearr made, e.g. a finished download) to `dest`.
///
/// Tries `rename`; across file systems (`EXDEV`) copies to a temp file beside
/// `dest`, fsyncs, renames, then removes `src`. Directories move only by rename.
/// The result inherits the mode and owner of what it replaces, or of its directory.
pub async fn move_into_place(src: &Path, dest: &SafePath) -> Result<(), FilesError> {
    let src = src.to_path_buf();
    let dest = dest.recheck()?;
    blocking(move || move_sync(&src, &dest)).await
}

fn move_sync(src: &Path, dest: &SafePath) -> Result<(), FilesError> {
    let rel = dest.relative();
    let parent = dest.parent().ok_or(FilesError::IsRoot)?;
    create_dir_all_sync(&parent)?;
    let src_meta = fs::symlink_metadata(src).map_err(|e| FilesError::io("move to", rel, e))?;
    let inherit = if src_meta.is_dir() {
        Inherit::for_dir(parent.as_path())
    } else {
        Inherit::for_file(dest.as_path())
    }
    .map_err(|e| FilesError::io("move to", rel, e))?;
    match fs::rename(src, dest.as_path()) {
        Ok(()) => inherit
            .apply(dest.as_path())
            .and_then(|()| sync_dir(parent.as_path()))
            .map_err(|e| FilesError::io("move to", rel, e)),
        Err(e) if is_cross_device(&e) && src_meta.is_file() => {
            copy_across(src, dest, &parent, inherit)
        }
        Err(e) => Err(FilesError::io("move to", rel, e)),
    }
}

fn is_cross_device(e: &io::Error) -> bool {
    e.raw_os_error() == Some(nix::errno::Errno::EXDEV as i32)
}

/// The `EXDEV` fallback: copy, fsync, rename, then remove the source.
pub(crate) fn copy_across(
    src: &Path,
    dest: &SafePath,
    parent: &SafePath,
    inherit: Inherit,
) -> Result<(), FilesError> {
    let rel = dest.relative();
    let err = |e| FilesError::io("copy to", rel, e);
    let (temp, mut out) = create_temp(parent.as_path()).map_err(err)?;
    let result = (|| {
        let mut input = File::open(src)?;
        io::copy(&mut input, &mut out)?;
        out.sync_all()?;
        inherit.apply(&temp)?;
        fs::rename(&temp, dest.as_path())?;
        sync_dir(parent.as_path())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(err(e));
    }
    fs::remove_file(src).map_err(|e| FilesError::io("remove source of", rel, e))
}

/// Applies the inherited mode, renames `temp` over `dest` and syncs the directory.
fn finish(temp: &Path, dest: &SafePath) -> Result<(), FilesError> {
    let dest = dest.recheck()?;
    let rel = dest.relative();
    let parent = dest.parent().ok_or(FilesError::IsRoot)?;
    Inherit::for_file(dest.as_path())
        .and_then(|inherit| inherit.apply(temp))
        .and_then(|()| fs::rename(temp, dest.as_path()))
        .and_then(|()| sync_dir(parent.as_path()))
        .map_err(|e| FilesError::io("write", rel, e))
}
