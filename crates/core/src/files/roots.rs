//! Library roots and the resolution of untrusted paths into [`SafePath`]s.
//!
//! A path from a user, a naming template or a remote API is checked as text first
//! (NUL, Windows and UNC forms, `..`, lengths), then walked component by component
//! from the canonical root: every symlink met on the way must resolve inside the
//! same root. Components that do not exist yet are appended as they are.

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::error::{FilesError, shown};

/// Longest single name (Linux `NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// Longest whole path (Linux `PATH_MAX`).
pub const PATH_MAX: usize = 4096;

#[derive(Debug, Clone)]
struct Root {
    /// As configured (absolute); remote services report paths in this form.
    configured: PathBuf,
    /// After `canonicalize`; every [`SafePath`] starts with this.
    canonical: PathBuf,
}

/// The configured library roots; the only places Tapearr writes media to.
#[derive(Debug, Clone, Default)]
pub struct LibraryRoots {
    roots: Vec<Root>,
}

/// A path proven to lie inside one library root when it was resolved.
///
/// Every directory on it is canonical; the last component may be a symlink whose
/// target was checked to stay in the root (so removing it removes the link).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SafePath {
    root: PathBuf,
    path: PathBuf,
}

impl LibraryRoots {
    /// Canonicalizes each root; each must be an existing, absolute directory.
    pub fn new<I, P>(roots: I) -> Result<Self, FilesError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut out = Vec::new();
        for root in roots {
            let configured = root.as_ref().to_path_buf();
            let invalid = |reason: String| FilesError::InvalidRoot {
                root: configured.to_string_lossy().into_owned(),
                reason,
            };
            if !configured.is_absolute() {
                return Err(invalid("it must be an absolute path".into()));
            }
            let canonical = configured
                .canonicalize()
                .map_err(|e| invalid(e.to_string()))?;
            if !canonical.is_dir() {
                return Err(invalid("it is not a directory".into()));
            }
            out.push(Root {
                configured,
                canonical,
            });
        }
        Ok(Self { roots: out })
    }

    /// The canonical roots, in configuration order.
    pub fn roots(&self) -> impl Iterator<Item = &Path> {
        self.roots.iter().map(|r| r.canonical.as_path())
    }

    /// True when no root is configured.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Resolves an absolute path that must lie inside one of the roots.
    ///
    /// The path may use a root's configured or canonical spelling; when roots are
    /// nested, the most specific one wins.
    pub fn resolve(&self, input: &str) -> Result<SafePath, FilesError> {
        check_text(input)?;
        let path = Path::new(input);
        if !path.is_absolute() {
            return Err(FilesError::Relative(shown(input)));
        }
        let (root, relative) = self
            .roots
            .iter()
            .flat_map(|r| [(r, &r.configured), (r, &r.canonical)])
            .filter_map(|(r, form)| path.strip_prefix(form).ok().map(|rel| (r, form, rel)))
            .max_by_key(|(_, form, _)| form.components().count())
            .map(|(r, _, rel)| (r, rel))
            .ok_or(FilesError::OutsideRoots)?;
        confine(&root.canonical, relative)
    }

    /// Resolves `input` relative to `base`, or as [`resolve`](Self::resolve) when absolute.
    ///
    /// A relative input stays confined to `base`'s root.
    pub fn resolve_in(&self, base: &SafePath, input: &str) -> Result<SafePath, FilesError> {
        check_text(input)?;
        if Path::new(input).is_absolute() {
            return self.resolve(input);
        }
        base.join(input)
    }
}

impl SafePath {
    /// The absolute path to pass to the file system.
    pub fn as_path(&self) -> &Path {
        &self.path
    }

    /// The canonical root this path lies in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path relative to its root (empty for the root itself); safe to show users.
    pub fn relative(&self) -> &Path {
        self.path.strip_prefix(&self.root).unwrap_or(Path::new(""))
    }

    /// True when this is the library root itself.
    pub fn is_root(&self) -> bool {
        self.path == self.root
    }

    /// The parent directory, or `None` for the root.
    pub fn parent(&self) -> Option<SafePath> {
        if self.is_root() {
            return None;
        }
        self.path.parent().map(|p| SafePath {
            root: self.root.clone(),
            path: p.to_path_buf(),
        })
    }

    /// Resolves a relative, untrusted `input` below this path, confined to the same root.
    pub fn join(&self, input: &str) -> Result<SafePath, FilesError> {
        check_text(input)?;
        if Path::new(input).is_absolute() {
            return Err(FilesError::OutsideRoots);
        }
        // Walk from the root again: the base may end in a (checked) symlink.
        confine(&self.root, &self.relative().join(input))
    }

    /// Walks the path again, so a symlink swapped in since resolution is caught.
    pub fn recheck(&self) -> Result<SafePath, FilesError> {
        confine(&self.root, self.relative())
    }

    pub(crate) fn from_checked(root: &Path, path: PathBuf) -> Self {
        Self {
            root: root.to_path_buf(),
            path,
        }
    }
}

impl AsRef<Path> for SafePath {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

/// Shows the path relative to its root, never the server's absolute layout.
impl fmt::Display for SafePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.relative().display())
    }
}

/// Textual checks that need no file system.
fn check_text(input: &str) -> Result<(), FilesError> {
    if input.is_empty() {
        return Err(FilesError::Empty);
    }
    if input.contains('\0') {
        return Err(FilesError::NulByte);
    }
    if input.starts_with("\\\\") || (input.starts_with("//") && !input.starts_with("///")) {
        return Err(FilesError::UncPath);
    }
    let bytes = input.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if drive || input.contains('\\') {
        return Err(FilesError::WindowsPath);
    }
    if input.len() > PATH_MAX {
        return Err(FilesError::PathTooLong);
    }
    for part in input.split('/') {
        if part.len() > NAME_MAX {
            return Err(FilesError::NameTooLong(shown(input)));
        }
        if part == ".." {
            return Err(FilesError::ParentComponent(shown(input)));
        }
    }
    Ok(())
}

/// Walks `relative` (already text-checked) from the canonical `root`, resolving each
/// existing symlink and keeping the result in `root`.
fn confine(root: &Path, relative: &Path) -> Result<SafePath, FilesError> {
    let escape = || FilesError::SymlinkEscape(shown(&relative.to_string_lossy()));

    let names: Vec<_> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name),
            _ => None, // `.` and `/`; `..` was rejected by check_text
        })
        .collect();
    let mut current = root.to_path_buf();
    for (i, name) in names.iter().enumerate() {
        let next = current.join(name);
        let is_last = i + 1 == names.len();
        match next.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => {
                // A dangling link is refused: creating through it could land anywhere.
                let target = next.canonicalize().map_err(|e| match e.kind() {
                    io::ErrorKind::NotFound => escape(),
                    _ => FilesError::io("resolve", relative, e),
                })?;
                if !target.starts_with(root) {
                    return Err(escape());
                }
                // Keep a final link itself, so removing it removes the link.
                current = if is_last { next } else { target };
            }
            Ok(_) => current = next,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Nothing exists from here on, so nothing below can be a symlink.
                current = next;
                current.extend(&names[i + 1..]);
                break;
            }
            Err(e) => return Err(FilesError::io("resolve", relative, e)),
        }
    }
    if current.as_os_str().len() > PATH_MAX {
        return Err(FilesError::PathTooLong);
    }
    Ok(SafePath::from_checked(root, current))
}
