//! Files (C8): the one module every file operation in Tapearr goes through.
//!
//! Untrusted paths become [`SafePath`]s through [`LibraryRoots::resolve`] or
//! [`LibraryRoots::resolve_in`]; every write, move and removal takes a `SafePath`
//! and walks it again just before acting, so a symlink swapped in meanwhile is
//! caught (the window between that check and the syscall remains).

mod error;
mod in_use;
mod ops;
mod perms;
mod roots;
mod sanitize;
mod space;
mod temp;
mod write;

#[cfg(test)]
mod tests;

pub use error::FilesError;
pub use in_use::open_by_a_process;
pub use ops::{create_dir_all, remove_dir_all, remove_empty_dir, remove_file};
pub use roots::{LibraryRoots, NAME_MAX, PATH_MAX, SafePath};
pub use sanitize::sanitize_file_name;
pub use space::{ensure_free_space, free_space};
pub use temp::{TEMP_PREFIX, is_stale_temp};
pub use write::{AtomicWriter, move_into_place, write_atomic, write_atomic_from};
