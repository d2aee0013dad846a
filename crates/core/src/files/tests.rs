//! Traversal, symlink, atomic-write and permission tests against a real temp directory.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

use tempfile::TempDir;

use super::*;

/// A root `lib` and a sibling `outside` in one temp dir.
struct Fixture {
    _tmp: TempDir,
    lib: std::path::PathBuf,
    outside: std::path::PathBuf,
    roots: LibraryRoots,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().canonicalize().expect("canonical tempdir");
    let lib = base.join("lib");
    let outside = base.join("outside");
    fs::create_dir_all(lib.join("Movies")).expect("mkdir");
    fs::create_dir_all(&outside).expect("mkdir");
    fs::write(outside.join("secret.txt"), "secret").expect("write");
    let roots = LibraryRoots::new([&lib]).expect("roots");
    Fixture {
        _tmp: tmp,
        lib,
        outside,
        roots,
    }
}

fn abs(f: &Fixture, rel: &str) -> String {
    format!("{}/{rel}", f.lib.display())
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(TEMP_PREFIX))
        .collect()
}

#[test]
fn roots_must_be_absolute_existing_directories() {
    let f = fixture();
    assert!(matches!(
        LibraryRoots::new(["relative/dir"]),
        Err(FilesError::InvalidRoot { .. })
    ));
    assert!(matches!(
        LibraryRoots::new([f.lib.join("missing")]),
        Err(FilesError::InvalidRoot { .. })
    ));
    assert!(matches!(
        LibraryRoots::new([f.outside.join("secret.txt")]),
        Err(FilesError::InvalidRoot { .. })
    ));
}

#[test]
fn absolute_paths_inside_a_root_resolve() {
    let f = fixture();
    let p = f
        .roots
        .resolve(&abs(&f, "Movies/New (2024)/a.mkv"))
        .expect("inside");
    assert_eq!(p.as_path(), f.lib.join("Movies/New (2024)/a.mkv"));
    assert_eq!(p.relative(), Path::new("Movies/New (2024)/a.mkv"));
    assert_eq!(p.to_string(), "Movies/New (2024)/a.mkv");
    assert!(f.roots.resolve(&abs(&f, "")).expect("root").is_root());
    assert!(f.roots.resolve(&abs(&f, "./Movies/.")).is_ok());
}

#[test]
fn absolute_paths_outside_every_root_are_rejected() {
    let f = fixture();
    for input in [
        "/etc/passwd".to_owned(),
        f.outside.join("secret.txt").display().to_string(),
        format!("{}2/x", f.lib.display()), // a sibling sharing the prefix
        "/".to_owned(),
    ] {
        assert!(
            matches!(f.roots.resolve(&input), Err(FilesError::OutsideRoots)),
            "{input}"
        );
    }
    let movies = f.roots.resolve(&abs(&f, "Movies")).expect("movies");
    assert!(matches!(
        movies.join("/etc/passwd"),
        Err(FilesError::OutsideRoots)
    ));
    assert!(matches!(
        f.roots.resolve_in(&movies, "/etc/passwd"),
        Err(FilesError::OutsideRoots)
    ));
    assert!(matches!(
        f.roots.resolve("Movies/a.mkv"),
        Err(FilesError::Relative(_))
    ));
}

#[test]
fn parent_components_are_rejected_everywhere() {
    let f = fixture();
    let movies = f.roots.resolve(&abs(&f, "Movies")).expect("movies");
    for input in ["..", "../outside/secret.txt", "a/../../x", "a/..", "./.."] {
        assert!(
            matches!(
                f.roots.resolve_in(&movies, input),
                Err(FilesError::ParentComponent(_))
            ),
            "{input}"
        );
    }
    assert!(matches!(
        f.roots.resolve(&abs(&f, "Movies/../../outside/secret.txt")),
        Err(FilesError::ParentComponent(_))
    ));
    // Dots inside a name are fine.
    assert!(movies.join("a..b/..c").is_ok());
}

#[test]
fn windows_unc_and_nul_paths_are_rejected() {
    let f = fixture();
    let root = f.roots.resolve(&abs(&f, "")).expect("root");
    for input in [
        "C:\\Movies\\a.mkv",
        "c:/Movies",
        "D:",
        "Movies\\a.mkv",
        "a\\..\\b",
    ] {
        assert!(
            matches!(root.join(input), Err(FilesError::WindowsPath)),
            "{input}"
        );
    }
    for input in ["\\\\server\\share\\a.mkv", "//server/share/a.mkv"] {
        assert!(
            matches!(f.roots.resolve_in(&root, input), Err(FilesError::UncPath)),
            "{input}"
        );
    }
    assert!(matches!(root.join("a\0b"), Err(FilesError::NulByte)));
    assert!(matches!(
        f.roots.resolve(&format!("{}\0/x", f.lib.display())),
        Err(FilesError::NulByte)
    ));
    assert!(matches!(root.join(""), Err(FilesError::Empty)));
}

#[test]
fn over_long_names_and_paths_are_rejected() {
    let f = fixture();
    let root = f.roots.resolve(&abs(&f, "")).expect("root");
    let name_ok = "n".repeat(NAME_MAX);
    assert!(root.join(&name_ok).is_ok());
    let name_long = "n".repeat(NAME_MAX + 1);
    assert!(matches!(
        root.join(&format!("Movies/{name_long}")),
        Err(FilesError::NameTooLong(_))
    ));
    let deep = vec!["d".repeat(200); 25].join("/");
    assert!(matches!(root.join(&deep), Err(FilesError::PathTooLong)));
    // Short input that only overflows once joined under the root.
    let near = format!("{}/{}", vec!["d".repeat(200); 20].join("/"), "e".repeat(70));
    assert!(near.len() <= PATH_MAX);
    assert!(matches!(root.join(&near), Err(FilesError::PathTooLong)));
}

#[test]
fn directory_symlink_leaving_the_root_is_rejected() {
    let f = fixture();
    symlink(&f.outside, f.lib.join("Movies/escape")).expect("symlink");
    let movies = f.roots.resolve(&abs(&f, "Movies")).expect("movies");
    for input in ["escape", "escape/secret.txt", "escape/new/dir/file.mkv"] {
        let err = movies.join(input).expect_err(input);
        assert!(
            matches!(err, FilesError::SymlinkEscape(_)),
            "{input}: {err}"
        );
    }
    assert!(matches!(
        f.roots.resolve(&abs(&f, "Movies/escape/secret.txt")),
        Err(FilesError::SymlinkEscape(_))
    ));
}

#[test]
fn file_symlink_leaving_the_root_is_rejected() {
    let f = fixture();
    symlink(
        f.outside.join("secret.txt"),
        f.lib.join("Movies/poster.jpg"),
    )
    .expect("symlink");
    let err = f
        .roots
        .resolve(&abs(&f, "Movies/poster.jpg"))
        .expect_err("escape");
    assert!(matches!(err, FilesError::SymlinkEscape(_)));
}

#[test]
fn symlinked_ancestor_leaving_the_root_is_rejected() {
    let f = fixture();
    fs::create_dir_all(f.outside.join("deep/er")).expect("mkdir");
    // lib/Shows -> outside/deep, so lib/Shows/er/x lands outside.
    symlink(f.outside.join("deep"), f.lib.join("Shows")).expect("symlink");
    assert!(matches!(
        f.roots.resolve(&abs(&f, "Shows/er/new.mkv")),
        Err(FilesError::SymlinkEscape(_))
    ));
    // A relative link climbing out is caught the same way.
    symlink("../../outside", f.lib.join("Movies/up")).expect("symlink");
    assert!(matches!(
        f.roots.resolve(&abs(&f, "Movies/up/secret.txt")),
        Err(FilesError::SymlinkEscape(_))
    ));
}

#[test]
fn dangling_symlinks_are_rejected() {
    let f = fixture();
    symlink(f.outside.join("not-yet"), f.lib.join("Movies/dangling")).expect("symlink");
    assert!(matches!(
        f.roots.resolve(&abs(&f, "Movies/dangling")),
        Err(FilesError::SymlinkEscape(_))
    ));
}

#[test]
fn symlinks_inside_the_root_are_followed_but_a_final_link_is_kept() {
    let f = fixture();
    fs::create_dir_all(f.lib.join("Real/Sub")).expect("mkdir");
    symlink(f.lib.join("Real"), f.lib.join("Movies/alias")).expect("symlink");
    let through = f
        .roots
        .resolve(&abs(&f, "Movies/alias/Sub/new.mkv"))
        .expect("inside");
    assert_eq!(through.as_path(), f.lib.join("Real/Sub/new.mkv"));
    let link = f.roots.resolve(&abs(&f, "Movies/alias")).expect("inside");
    assert_eq!(link.as_path(), f.lib.join("Movies/alias"));
    // Joining below a base that ends in a link walks through the link.
    assert_eq!(
        link.join("Sub").expect("inside").as_path(),
        f.lib.join("Real/Sub")
    );
}

#[test]
fn a_root_spelled_through_a_symlink_resolves_both_ways() {
    let f = fixture();
    let alias = f.outside.join("lib-alias");
    symlink(&f.lib, &alias).expect("symlink");
    let roots = LibraryRoots::new([&alias]).expect("roots");
    let via_alias = roots
        .resolve(&format!("{}/Movies/a.mkv", alias.display()))
        .expect("configured spelling");
    let via_real = roots.resolve(&abs(&f, "Movies/a.mkv")).expect("canonical");
    assert_eq!(via_alias, via_real);
    assert_eq!(via_alias.as_path(), f.lib.join("Movies/a.mkv"));
}

#[test]
fn errors_do_not_leak_the_server_layout() {
    let f = fixture();
    symlink(&f.outside, f.lib.join("Movies/escape")).expect("symlink");
    fs::write(f.lib.join("file"), "x").expect("write");
    let errors = [
        f.roots
            .resolve(&abs(&f, "Movies/escape/x"))
            .expect_err("escape"),
        f.roots
            .resolve(&abs(&f, "file/below"))
            .expect_err("not a dir"),
        f.roots.resolve("/etc/shadow").expect_err("outside"),
    ];
    let base = f.lib.parent().expect("parent").display().to_string();
    for err in errors {
        let msg = err.to_string();
        assert!(!msg.contains(&base), "{msg}");
        assert!(!msg.contains("shadow"), "{msg}");
    }
}

#[tokio::test]
async fn write_atomic_creates_parents_and_leaves_no_temp_file() {
    let f = fixture();
    let dest = f
        .roots
        .resolve(&abs(&f, "Movies/New (2024)/trailer.mkv"))
        .expect("dest");
    write_atomic(&dest, b"first").await.expect("write");
    write_atomic(&dest, b"second").await.expect("overwrite");
    assert_eq!(fs::read(dest.as_path()).expect("read"), b"second");
    assert!(temp_files(&f.lib.join("Movies/New (2024)")).is_empty());
}

/// A reader that yields some bytes and then fails, like a dropped download.
struct FailingReader(bool);

impl tokio::io::AsyncRead for FailingReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.0 {
            return std::task::Poll::Ready(Err(std::io::Error::other("connection reset")));
        }
        self.0 = true;
        buf.put_slice(b"partial data");
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn failed_streaming_write_keeps_the_old_file_and_no_temp() {
    let f = fixture();
    let dest = f.roots.resolve(&abs(&f, "Movies/a.nfo")).expect("dest");
    write_atomic(&dest, b"old").await.expect("write");
    let err = write_atomic_from(&dest, &mut FailingReader(false))
        .await
        .expect_err("reader fails");
    assert!(err.to_string().contains("Movies/a.nfo"), "{err}");
    assert_eq!(fs::read(dest.as_path()).expect("read"), b"old");
    assert!(temp_files(&f.lib.join("Movies")).is_empty());

    let n = write_atomic_from(&dest, &mut &b"streamed"[..])
        .await
        .expect("stream");
    assert_eq!(n, 8);
    assert_eq!(fs::read(dest.as_path()).expect("read"), b"streamed");
}

#[tokio::test]
async fn dropped_writer_leaves_nothing_behind() {
    let f = fixture();
    let dest = f.roots.resolve(&abs(&f, "Movies/b.mkv")).expect("dest");
    let mut writer = AtomicWriter::create(&dest).await.expect("create");
    writer.write_all(b"half").await.expect("write");
    assert_eq!(temp_files(&f.lib.join("Movies")).len(), 1);
    drop(writer);
    assert!(temp_files(&f.lib.join("Movies")).is_empty());
    assert!(!dest.as_path().exists());
}

#[tokio::test]
async fn writes_recheck_a_symlink_swapped_in_after_resolution() {
    let f = fixture();
    fs::create_dir(f.lib.join("Movies/Swap")).expect("mkdir");
    let dest = f
        .roots
        .resolve(&abs(&f, "Movies/Swap/x.txt"))
        .expect("dest");
    fs::remove_dir(f.lib.join("Movies/Swap")).expect("rmdir");
    symlink(&f.outside, f.lib.join("Movies/Swap")).expect("symlink");
    assert!(matches!(
        write_atomic(&dest, b"x").await,
        Err(FilesError::SymlinkEscape(_))
    ));
    assert!(!f.outside.join("x.txt").exists());
}

#[tokio::test]
async fn new_files_and_dirs_inherit_the_parent_mode() {
    let f = fixture();
    let shows = f.lib.join("Shows");
    fs::create_dir(&shows).expect("mkdir");
    fs::set_permissions(&shows, fs::Permissions::from_mode(0o2750)).expect("chmod");
    let dest = f
        .roots
        .resolve(&abs(&f, "Shows/Season 1/ep.nfo"))
        .expect("dest");
    write_atomic(&dest, b"x").await.expect("write");
    let mode = |p: &Path| fs::metadata(p).expect("stat").mode() & 0o7777;
    assert_eq!(mode(&shows.join("Season 1")), 0o2750);
    assert_eq!(mode(dest.as_path()), 0o640);

    // Replacing keeps the replaced file's mode.
    fs::set_permissions(dest.as_path(), fs::Permissions::from_mode(0o600)).expect("chmod");
    write_atomic(&dest, b"y").await.expect("rewrite");
    assert_eq!(mode(dest.as_path()), 0o600);
}

#[tokio::test]
async fn new_files_inherit_the_parent_owner_when_root() {
    let f = fixture();
    let probe = f.lib.join("probe");
    fs::write(&probe, "").expect("write");
    if fs::metadata(&probe).expect("stat").uid() != 0 {
        return; // Only root may give files away.
    }
    let dir = f.lib.join("Owned");
    fs::create_dir(&dir).expect("mkdir");
    std::os::unix::fs::chown(&dir, Some(4321), Some(4322)).expect("chown");
    let dest = f.roots.resolve(&abs(&f, "Owned/sub/a.txt")).expect("dest");
    write_atomic(&dest, b"x").await.expect("write");
    for p in [dir.join("sub"), dest.as_path().to_path_buf()] {
        let meta = fs::metadata(&p).expect("stat");
        assert_eq!((meta.uid(), meta.gid()), (4321, 4322), "{}", p.display());
    }
}

#[tokio::test]
async fn move_renames_within_a_file_system() {
    let f = fixture();
    let src = f.lib.join("download.part");
    fs::write(&src, "video").expect("write");
    let dest = f
        .roots
        .resolve(&abs(&f, "Movies/M (1999)/m.mkv"))
        .expect("dest");
    move_into_place(&src, &dest).await.expect("move");
    assert!(!src.exists());
    assert_eq!(fs::read(dest.as_path()).expect("read"), b"video");
}

#[tokio::test]
async fn move_across_file_systems_copies_then_removes_the_source() {
    let f = fixture();
    let shm = Path::new("/dev/shm");
    let other_fs = fs::metadata(shm)
        .is_ok_and(|m| m.dev() != fs::metadata(&f.lib).map(|l| l.dev()).unwrap_or(m.dev()));
    if !other_fs {
        eprintln!("skipped: /dev/shm is not a separate file system here");
        return;
    }
    let src_dir = tempfile::tempdir_in(shm).expect("tempdir in /dev/shm");
    let src = src_dir.path().join("big.ts");
    let data = vec![7u8; 3 * 1024 * 1024];
    fs::write(&src, &data).expect("write");
    let dest = f.roots.resolve(&abs(&f, "Movies/big.ts")).expect("dest");
    move_into_place(&src, &dest).await.expect("move");
    assert!(!src.exists());
    assert_eq!(fs::read(dest.as_path()).expect("read"), data);
    assert!(temp_files(&f.lib.join("Movies")).is_empty());
}

#[tokio::test]
async fn removal_is_confined_and_never_removes_a_root() {
    let f = fixture();
    let root = f.roots.resolve(&abs(&f, "")).expect("root");
    assert!(matches!(
        remove_dir_all(&root).await,
        Err(FilesError::IsRoot)
    ));
    assert!(matches!(remove_file(&root).await, Err(FilesError::IsRoot)));

    // A final link is removed, not what it points to.
    fs::create_dir_all(f.lib.join("Real/keep")).expect("mkdir");
    symlink(f.lib.join("Real"), f.lib.join("Movies/alias")).expect("symlink");
    let alias = f.roots.resolve(&abs(&f, "Movies/alias")).expect("alias");
    remove_dir_all(&alias).await.expect("remove link");
    assert!(f.lib.join("Real/keep").is_dir());
    assert!(fs::symlink_metadata(f.lib.join("Movies/alias")).is_err());

    let tree = f.roots.resolve(&abs(&f, "Real")).expect("tree");
    remove_dir_all(&tree).await.expect("remove tree");
    assert!(!f.lib.join("Real").exists());

    let missing = f.roots.resolve(&abs(&f, "Movies/none.mkv")).expect("path");
    assert!(
        remove_file(&missing)
            .await
            .expect_err("missing")
            .is_not_found()
    );
    assert!(f.outside.join("secret.txt").exists());
}

#[tokio::test]
async fn create_dir_all_refuses_escaping_symlinks() {
    let f = fixture();
    let dir = f.roots.resolve(&abs(&f, "Movies/Later/Sub")).expect("dir");
    fs::create_dir(f.lib.join("Movies/Later")).expect("mkdir");
    create_dir_all(&dir).await.expect("create");
    assert!(f.lib.join("Movies/Later/Sub").is_dir());

    fs::remove_dir_all(f.lib.join("Movies/Later")).expect("rm");
    symlink(&f.outside, f.lib.join("Movies/Later")).expect("symlink");
    assert!(matches!(
        create_dir_all(&dir).await,
        Err(FilesError::SymlinkEscape(_))
    ));
    assert!(!f.outside.join("Sub").exists());
}

#[test]
fn free_space_is_measured_and_guarded() {
    let f = fixture();
    let free = free_space(&f.lib).expect("statvfs");
    assert!(free > 0);
    assert!(free_space(&f.lib.join("not/yet/created")).expect("ancestor") > 0);
    assert!(ensure_free_space(&f.lib, 1).is_ok());
    match ensure_free_space(&f.lib, u64::MAX) {
        Err(FilesError::InsufficientSpace { needed, available }) => {
            assert_eq!(needed, u64::MAX);
            assert!(available < needed);
        }
        other => panic!("expected InsufficientSpace, got {other:?}"),
    }
}
