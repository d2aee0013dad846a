//! What can go wrong in the library, mapped to API errors by the caller.

use crate::files::FilesError;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("recording not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("no library root is configured (library_roots)")]
    NoLibraryRoot,
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for LibraryError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::NotFound,
            StorageError::Conflict(msg) => Self::Conflict(msg),
            other => Self::Storage(other),
        }
    }
}

pub type LibraryResult<T> = Result<T, LibraryError>;
