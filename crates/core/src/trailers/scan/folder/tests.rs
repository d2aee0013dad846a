use super::*;
use std::cell::Cell;
use std::path::PathBuf;
use std::time::Instant;

thread_local! {
    static HASHES: Cell<usize> = const { Cell::new(0) };
}

/// Called by `hash_file`: counts hashes on this thread.
pub(super) fn count_hash() {
    HASHES.with(|h| h.set(h.get() + 1));
}

fn hashes() -> usize {
    HASHES.with(Cell::get)
}

/// Runs `f` and returns how many files it hashed.
fn counting<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = hashes();
    let out = f();
    (out, hashes() - before)
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, bytes).expect("write");
}

/// Sets the mtime of `dir` and its subfolders an hour back, out of the racy window.
fn age(dir: &Path) {
    let past = SystemTime::now() - Duration::from_secs(3600);
    let mut dirs = vec![dir.to_path_buf()];
    for e in fs::read_dir(dir).expect("list").flatten() {
        if e.path().is_dir() {
            dirs.push(e.path());
        }
    }
    for d in dirs {
        File::open(&d)
            .and_then(|f| f.set_modified(past))
            .expect("set mtime");
    }
}

fn scanned(scan: FolderScan) -> (FolderState, Vec<TrailerChange>) {
    match scan {
        FolderScan::Scanned { state, changes } => (state, changes),
        other => panic!("expected Scanned, got {other:?}"),
    }
}

fn paths(state: &FolderState) -> Vec<&str> {
    state.trailers.iter().map(|t| t.rel_path.as_str()).collect()
}

/// A media folder with a movie, a trailer beside it and one in `Trailers/`, plus noise.
fn movie_folder() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = tmp.path().join("Movie (2019)");
    write(&m.join("Movie (2019).mkv"), b"the movie");
    write(&m.join("Movie (2019)-trailer.mp4"), b"beside");
    write(&m.join("Trailers/Official Teaser.webm"), b"in folder");
    write(&m.join("Trailers/notes.txt"), b"not a video");
    write(&m.join(".Movie (2019)-trailer.mp4"), b"hidden");
    // A copy in progress (this process's): ignored, and left alone.
    write(
        &m.join(format!("{TEMP_PREFIX}{}-0-trailer.mp4", std::process::id())),
        b"temp",
    );
    write(
        &m.join("Featurettes/Making of-trailer.mp4"),
        b"other extras folder",
    );
    write(&m.join("movie-trailer.srt"), b"subtitle");
    (tmp, m)
}

#[test]
fn trailers_are_found_in_trailers_folder_and_beside_the_media() {
    let (_tmp, m) = movie_folder();
    let (state, changes) = scanned(scan_folder(&m, None, &[]));
    assert_eq!(
        paths(&state),
        ["Movie (2019)-trailer.mp4", "Trailers/Official Teaser.webm"]
    );
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| matches!(c, TrailerChange::Found(_))));
    let beside = &state.trailers[0];
    assert_eq!(beside.size, 6);
    assert_eq!(beside.sha256.len(), 64);
}

#[test]
fn temp_files_of_a_killed_copy_are_removed_and_live_ones_kept() {
    let (_tmp, m) = movie_folder();
    let stale = m.join(format!("{TEMP_PREFIX}4999999-0-1f"));
    let stale_inside = m.join(format!("Trailers/{TEMP_PREFIX}4999999-1-2f"));
    let live = m.join(format!("{TEMP_PREFIX}{}-0-3f", std::process::id()));
    for f in [&stale, &stale_inside, &live] {
        write(f, b"half a copy");
    }
    let (state, _) = scanned(scan_folder(&m, None, &[]));
    assert_eq!(state.trailers.len(), 2, "temp files are never trailers");
    assert!(
        !stale.exists() && !stale_inside.exists(),
        "a dead process's temp files go"
    );
    assert!(live.exists(), "a copy in progress is left alone");
}

#[test]
fn profile_folders_and_any_case_of_trailers_count() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = tmp.path().join("Film");
    write(&m.join("TRAILERS/a.MKV"), b"a");
    write(&m.join("Bande-annonces/b.mp4"), b"b");
    write(&m.join("Other/c.mp4"), b"c");
    let extra = vec!["bande-annonces".to_string()];
    let (state, _) = scanned(scan_folder(&m, None, &extra));
    assert_eq!(paths(&state), ["Bande-annonces/b.mp4", "TRAILERS/a.MKV"]);
}

#[test]
fn inline_trailer_names() {
    for yes in [
        "Movie (2019)-trailer",
        "Movie (2019)-Trailer",
        "Movie (2019) (2)-trailer",
        "Movie (2019)-trailer (2)",
        "Movie - Official Trailer 2",
        "Movie.trailer.1080p",
        "Movie_trailer",
        "movie-trailer2",
        "trailer",
    ] {
        assert!(is_inline_trailer_name(yes), "{yes}");
    }
    for no in [
        "Show - S01E02 - trailer park",
        "Show - s1e2 - trailer",
        "Trailer Park Boys (2006)",
        "Movie (2019)",
        "Trailerpark",
        "Movie-trailer-commentary",
    ] {
        assert!(!is_inline_trailer_name(no), "{no}");
    }
}

#[test]
fn an_episode_named_like_a_trailer_is_not_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = tmp.path().join("Show");
    write(&m.join("Show - S01E02 - trailer park.mkv"), b"episode");
    write(&m.join("Show - S01E03 - Trailer.mkv"), b"episode");
    let (state, changes) = scanned(scan_folder(&m, None, &[]));
    assert!(state.trailers.is_empty() && changes.is_empty());
}

#[test]
fn an_unchanged_folder_is_not_read_again() {
    let (_tmp, m) = movie_folder();
    age(&m);
    let ((state, _), n) = counting(|| scanned(scan_folder(&m, None, &[])));
    assert_eq!(n, 2);
    assert_ne!(state.mtime_ns, 0);
    // A file rewritten without a folder change (same size) is not even looked at.
    fs::write(m.join("Trailers/Official Teaser.webm"), b"IN FOLDER").expect("write");
    let (scan, n) = counting(|| scan_folder(&m, Some(&state), &[]));
    assert_eq!(scan, FolderScan::Unchanged);
    assert_eq!(n, 0);
}

#[test]
fn a_racy_folder_is_read_again_but_not_rehashed() {
    let (_tmp, m) = movie_folder();
    let (state, _) = scanned(scan_folder(&m, None, &[]));
    assert_eq!(state.mtime_ns, 0, "changed just now: not trusted");
    let ((again, changes), n) = counting(|| scanned(scan_folder(&m, Some(&state), &[])));
    assert!(changes.is_empty());
    assert_eq!(n, 0, "sizes and mtimes unchanged: hashes reused");
    assert_eq!(again.trailers, state.trailers);
}

#[test]
fn a_file_added_inside_trailers_is_detected() {
    let (_tmp, m) = movie_folder();
    age(&m);
    let (state, _) = scanned(scan_folder(&m, None, &[]));
    let parent_before = fs::metadata(&m).expect("stat").modified().expect("mtime");
    write(&m.join("Trailers/Second.mkv"), b"second");
    let parent_after = fs::metadata(&m).expect("stat").modified().expect("mtime");
    assert_eq!(
        parent_before, parent_after,
        "the parent's mtime does not move"
    );
    let ((_, changes), n) = counting(|| scanned(scan_folder(&m, Some(&state), &[])));
    assert_eq!(n, 1, "only the new file is hashed");
    assert!(
        matches!(&changes[..], [TrailerChange::Found(t)] if t.rel_path == "Trailers/Second.mkv"),
        "{changes:?}"
    );
}

#[test]
fn a_file_added_to_an_empty_trailers_folder_is_detected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = tmp.path().join("Movie");
    fs::create_dir_all(m.join("Trailers")).expect("mkdir");
    age(&m);
    let (state, _) = scanned(scan_folder(&m, None, &[]));
    write(&m.join("Trailers/New.mp4"), b"new");
    let (_, changes) = scanned(scan_folder(&m, Some(&state), &[]));
    assert!(
        matches!(&changes[..], [TrailerChange::Found(_)]),
        "{changes:?}"
    );
}

#[test]
fn a_rename_is_one_change() {
    let (_tmp, m) = movie_folder();
    age(&m);
    let (state, _) = scanned(scan_folder(&m, None, &[]));
    fs::rename(
        m.join("Movie (2019)-trailer.mp4"),
        m.join("Trailers/Movie (2019).mp4"),
    )
    .expect("rename");
    let (after, changes) = scanned(scan_folder(&m, Some(&state), &[]));
    match &changes[..] {
        [TrailerChange::Renamed { from, to }] => {
            assert_eq!(from.rel_path, "Movie (2019)-trailer.mp4");
            assert_eq!(to.rel_path, "Trailers/Movie (2019).mp4");
            assert_eq!(from.sha256, to.sha256);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        paths(&after),
        ["Trailers/Movie (2019).mp4", "Trailers/Official Teaser.webm"]
    );
}

#[test]
fn modified_and_removed_files_are_reported() {
    let (_tmp, m) = movie_folder();
    age(&m);
    let (state, _) = scanned(scan_folder(&m, None, &[]));
    fs::remove_file(m.join("Movie (2019)-trailer.mp4")).expect("rm");
    fs::write(m.join("Trailers/Official Teaser.webm"), b"other content").expect("write");
    let (after, changes) = scanned(scan_folder(&m, Some(&state), &[]));
    assert_eq!(paths(&after), ["Trailers/Official Teaser.webm"]);
    assert!(
        matches!(&changes[..], [
            TrailerChange::Removed(r),
            TrailerChange::Modified { before, after },
        ] if r.rel_path == "Movie (2019)-trailer.mp4" && before.sha256 != after.sha256),
        "{changes:?}"
    );
}

#[test]
fn identical_copies_pair_up_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = tmp.path().join("Movie");
    write(&m.join("Trailers/a.mp4"), b"same");
    write(&m.join("Trailers/b.mp4"), b"same");
    age(&m);
    let (state, _) = scanned(scan_folder(&m, None, &[]));
    fs::rename(m.join("Trailers/a.mp4"), m.join("Trailers/c.mp4")).expect("mv");
    fs::remove_file(m.join("Trailers/b.mp4")).expect("rm");
    let (_, changes) = scanned(scan_folder(&m, Some(&state), &[]));
    assert!(
        matches!(
            &changes[..],
            [TrailerChange::Removed(_), TrailerChange::Renamed { .. }]
        ),
        "{changes:?}"
    );
}

#[test]
fn the_hash_reads_both_ends_and_the_size() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let big = vec![7u8; 3 << 20];
    let a = tmp.path().join("a");
    write(&a, &big);
    let h = hash_file(&a, big.len() as u64).expect("hash");
    let mut end = big.clone();
    *end.last_mut().expect("byte") = 8;
    write(&a, &end);
    assert_ne!(h, hash_file(&a, end.len() as u64).expect("hash"));
    let mut middle = big.clone();
    middle[big.len() / 2] = 8;
    write(&a, &middle);
    assert_eq!(
        h,
        hash_file(&a, middle.len() as u64).expect("hash"),
        "the middle is not read (documented trade-off)"
    );
    write(&a, b"");
    assert_eq!(hash_file(&a, 0).expect("hash").len(), 64);
}

#[test]
fn an_absent_folder_with_a_listable_parent_is_missing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(&tmp.path().join("Other Movie/x.mkv"), b"x");
    assert_eq!(
        scan_folder(&tmp.path().join("Gone (2020)"), None, &[]),
        FolderScan::Missing
    );
}

/// Tests run as root, where `chmod 000` does not stop `read_dir`. What fails as root: a
/// path under a regular file (ENOTDIR), an absent parent, an empty parent (a mount point
/// whose storage is not mounted) and a trailer folder linked to storage that is gone. All are
/// `Unavailable`, never `Missing`.
#[test]
fn unreadable_or_unmounted_storage_is_unavailable_never_missing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("not-a-dir");
    write(&file, b"x");
    let empty_mount = tmp.path().join("mnt");
    fs::create_dir(&empty_mount).expect("mkdir");
    let linked = tmp.path().join("lib/Linked");
    write(&linked.join("Linked-trailer.mp4"), b"x");
    std::os::unix::fs::symlink(tmp.path().join("nas/offline"), linked.join("Trailers"))
        .expect("symlink");
    for (folder, needle) in [
        (file.join("Movie (2020)"), "Not a directory"),
        (file.clone(), "not a directory"),
        (tmp.path().join("nas/Movies/Movie (2020)"), "does not exist"),
        (empty_mount.join("Movie (2020)"), "is empty"),
        (linked.clone(), "Trailers"),
    ] {
        match scan_folder(&folder, None, &[]) {
            FolderScan::Unavailable { reason } => {
                assert!(reason.contains(needle), "{folder:?}: {reason}")
            }
            other => panic!("{folder:?}: {other:?}"),
        }
    }
}

#[test]
fn state_round_trips_as_json() {
    let (_tmp, m) = movie_folder();
    let (state, _) = scanned(scan_folder(&m, None, &[]));
    let json = serde_json::to_string(&state).expect("json");
    let back: FolderState = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, state);
}

/// B5: 10k media folders, half with a trailer (alternately beside the media and in
/// `Trailers/`, 50 MB each); a first scan (5k hashes of 2 MiB each) and an incremental one
/// (all unchanged). The page cache is warm: on a NAS the first scan also pays for reading
/// 2 MiB per trailer over the network (~20 ms each at 1 Gbit/s).
/// `cargo test -p tapearr-core --release bench_scan_10k_folders -- --ignored --nocapture`
#[test]
#[ignore = "benchmark"]
fn bench_scan_10k_folders() {
    const FOLDERS: usize = 10_000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    // One real 50 MB trailer, hard-linked into each folder: every hash reads its 2 MiB from
    // the page cache, so this measures the scan's own cost (syscalls and SHA-256), not a disk.
    let original = tmp.path().join("original.mp4");
    let content: Vec<u8> = (0..50_000_000u32).map(|i| (i % 251) as u8).collect();
    write(&original, &content);
    let trailer = |path: &Path| {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::hard_link(&original, path).expect("link");
    };
    let mut folders = Vec::with_capacity(FOLDERS);
    for i in 0..FOLDERS {
        let m = tmp.path().join(format!("Movie {i} (2000)"));
        write(&m.join(format!("Movie {i} (2000).mkv")), b"movie");
        match i % 4 {
            0 => trailer(&m.join(format!("Movie {i} (2000)-trailer.mp4"))),
            2 => trailer(&m.join(format!("Trailers/Movie {i} (2000).mp4"))),
            _ => {}
        }
        age(&m);
        folders.push(m);
    }
    println!("B5 setup: {FOLDERS} folders in {:?}", t.elapsed());

    let t = Instant::now();
    let (states, hashed) = counting(|| {
        folders
            .iter()
            .map(|m| scanned(scan_folder(m, None, &[])).0)
            .collect::<Vec<_>>()
    });
    let cold = t.elapsed();
    let found: usize = states.iter().map(|s| s.trailers.len()).sum();
    assert_eq!(found, FOLDERS / 2);
    assert_eq!(hashed, FOLDERS / 2);
    println!("B5 first scan: {FOLDERS} folders, {found} trailers hashed, {cold:?}");

    let t = Instant::now();
    let (unchanged, hashed) = counting(|| {
        folders
            .iter()
            .zip(&states)
            .filter(|(m, s)| scan_folder(m, Some(s), &[]) == FolderScan::Unchanged)
            .count()
    });
    let warm = t.elapsed();
    assert_eq!(unchanged, FOLDERS);
    assert_eq!(hashed, 0);
    println!("B5 incremental scan: {unchanged} folders unchanged in {warm:?}");
}

#[test]
fn season_folders_are_read_for_their_trailers_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let s = tmp.path().join("Show (2019)");
    write(&s.join("Season 01/Show - S01E01 - Pilot.mkv"), b"episode");
    write(
        &s.join("Season 01/Trailers/Show - Season 01.mp4"),
        b"season one",
    );
    write(
        &s.join("S2/Show - S02E01 - trailer.mkv"),
        b"an episode named trailer",
    );
    write(&s.join("S2/Show - Season 02-trailer.mp4"), b"season two");
    write(&s.join("Specials/Show - S00E01.mkv"), b"special");
    write(&s.join("Extras/Season 3/x-trailer.mp4"), b"too deep");
    age(&s);
    for season in ["Season 01", "S2"] {
        age(&s.join(season));
    }
    let (state, _) = scanned(scan_folder(&s, None, &[]));
    assert_eq!(
        paths(&state),
        [
            "S2/Show - Season 02-trailer.mp4",
            "Season 01/Trailers/Show - Season 01.mp4"
        ]
    );
    let seasons: Vec<(u32, &str)> = state
        .seasons
        .iter()
        .map(|d| (d.number, d.name.as_str()))
        .collect();
    assert_eq!(seasons, [(1, "Season 01"), (2, "S2")]);
    assert_eq!(state.season_dir(2), Some("S2"));

    // Unchanged until a season's trailer goes: then the folder is read again.
    assert_eq!(scan_folder(&s, Some(&state), &[]), FolderScan::Unchanged);
    fs::remove_file(s.join("Season 01/Trailers/Show - Season 01.mp4")).expect("rm");
    let (after, changes) = scanned(scan_folder(&s, Some(&state), &[]));
    assert_eq!(paths(&after), ["S2/Show - Season 02-trailer.mp4"]);
    assert!(
        matches!(&changes[..], [TrailerChange::Removed(t)] if t.rel_path.starts_with("Season 01/")),
        "{changes:?}"
    );
}

#[test]
fn season_folder_names() {
    for (name, n) in [
        ("Season 1", Some(1)),
        ("Season 01", Some(1)),
        ("season_12", Some(12)),
        ("S03", Some(3)),
        ("Season", None),
        ("Specials", None),
        ("Seasons 2", None),
        ("Trailers", None),
        ("S01E01", None),
    ] {
        assert_eq!(season_number(name), n, "{name}");
    }
}
