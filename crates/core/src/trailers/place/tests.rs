use super::*;
use crate::files::LibraryRoots;
use crate::time::Timestamp;
use crate::trailers::model::Container;
use crate::trailers::model::MediaKind;

/// A movie as the sync stores it (also used by the score tests).
pub(crate) fn item(title: &str, year: Option<i32>) -> MediaItem {
    MediaItem {
        id: "m1".into(),
        connection_id: "c1".into(),
        kind: MediaKind::Movie,
        arr_id: 1,
        ext_id: 1,
        tmdb_id: Some(1),
        imdb_id: None,
        title: title.into(),
        original_title: None,
        year,
        language: Some("English".into()),
        studio: None,
        overview: None,
        runtime_min: None,
        tags: Vec::new(),
        folder: "/movies/x".into(),
        media_files: Vec::new(),
        has_file: true,
        arr_monitored: true,
        monitor: true,
        arr_trailer_id: None,
        trailer_id_override: None,
        poster_url: None,
        fanart_url: None,
        server_trailer: None,
        seasons: Vec::new(),
        added_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn plex() -> OutputSettings {
    OutputSettings::default()
}

fn jellyfin() -> OutputSettings {
    OutputSettings {
        placement: Placement::Folder,
        folder_name: "Trailers".into(),
        file_template: "{title} ({year})".into(),
        container: Container::Mkv,
        ..OutputSettings::default()
    }
}

fn name(title: &str, year: Option<i32>, out: &OutputSettings) -> String {
    trailer_file_name(&item(title, year), out, "dQw4w9WgXcQ", Some(1080)).expect("name")
}

/// A library root with one media folder in it.
fn library() -> (tempfile::TempDir, SafePath) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let roots = LibraryRoots::new([tmp.path()]).expect("roots");
    fs::create_dir(tmp.path().join("Movie (2019)")).expect("mkdir");
    let folder = roots
        .resolve(&tmp.path().join("Movie (2019)").to_string_lossy())
        .expect("resolve");
    (tmp, folder)
}

#[test]
fn plex_default_is_title_year_trailer_beside_the_media() {
    assert_eq!(
        name("Alien", Some(1979), &plex()),
        "Alien (1979)-trailer.mp4"
    );
    let (_tmp, folder) = library();
    let dest = destination(&folder, &plex(), "Alien (1979)-trailer.mp4", None).expect("dest");
    assert_eq!(
        dest.relative(),
        Path::new("Movie (2019)/Alien (1979)-trailer.mp4")
    );
}

#[test]
fn jellyfin_folder_is_trailers_title_year() {
    let out = jellyfin();
    assert_eq!(name("Alien", Some(1979), &out), "Alien (1979).mkv");
    let (_tmp, folder) = library();
    let dest = destination(&folder, &out, "Alien (1979).mkv", None).expect("dest");
    assert_eq!(
        dest.relative(),
        Path::new("Movie (2019)/Trailers/Alien (1979).mkv")
    );
}

#[test]
fn a_missing_year_drops_its_brackets_cleanly() {
    assert_eq!(name("Alien", None, &plex()), "Alien-trailer.mp4");
    let out = OutputSettings {
        file_template: "{title} [{resolution}] ({year}) {video_id}-trailer".into(),
        ..plex()
    };
    assert_eq!(
        name("Alien", None, &out),
        "Alien [1080p] dQw4w9WgXcQ-trailer.mp4"
    );
    let none = trailer_file_name(&item("Alien", None), &out, "id", None).expect("name");
    assert_eq!(none, "Alien id-trailer.mp4");
}

#[test]
fn titles_cannot_add_folders_or_escape() {
    for (title, want) in [
        ("AC/DC", "AC-DC (2019)-trailer.mp4"),
        ("../../etc", "-..-etc (2019)-trailer.mp4"),
        ("..", "_ (2019)-trailer.mp4"),
        (
            "Star Wars: Episode IV",
            "Star Wars - Episode IV (2019)-trailer.mp4",
        ),
        ("C:\\Windows", "C--Windows (2019)-trailer.mp4"),
    ] {
        let got = name(title, Some(2019), &plex());
        assert_eq!(got, want, "{title}");
        let (_tmp, folder) = library();
        let dest = destination(&folder, &plex(), &got, None).expect("dest");
        assert_eq!(dest.parent().expect("parent"), folder, "{title}");
    }
    // Even a name that was not made here cannot climb out: it is sanitized into one component.
    let (_tmp, folder) = library();
    let dest = destination(&folder, &plex(), "../../etc/passwd", None).expect("dest");
    assert_eq!(dest.parent().expect("parent"), folder);
    // A hostile folder name stays one folder below the media folder.
    let out = OutputSettings {
        folder_name: "../..".into(),
        ..jellyfin()
    };
    let dest = destination(&folder, &out, "x.mkv", None).expect("dest");
    assert_eq!(dest.relative(), Path::new("Movie (2019)/-/x.mkv"));
}

#[test]
fn unicode_titles_are_kept_and_composed() {
    assert_eq!(
        name("Ame\u{301}lie", Some(2001), &plex()),
        "Amélie (2001)-trailer.mp4"
    );
    assert_eq!(
        name("千と千尋の神隠し", Some(2001), &jellyfin()),
        "千と千尋の神隠し (2001).mkv"
    );
}

#[test]
fn long_titles_are_cut_keeping_the_suffix() {
    let got = name(&"é".repeat(300), Some(2019), &plex());
    assert!(got.ends_with("é (2019)-trailer.mp4"), "{got}");
    assert!(got.len() <= NAME_BUDGET, "{}", got.len());
    assert!(numbered(&got, 999).len() <= NAME_MAX);
}

#[test]
fn collisions_are_numbered_and_the_replaced_file_is_reused() {
    let (_tmp, folder) = library();
    let file = "Alien (1979)-trailer.mp4";
    let first = folder.as_path().join(file);
    fs::write(&first, b"someone else's").expect("write");
    let dest = destination(&folder, &plex(), file, None).expect("dest");
    assert_eq!(
        dest.as_path().file_name().and_then(|n| n.to_str()),
        Some("Alien (1979) (2)-trailer.mp4")
    );
    fs::write(dest.as_path(), b"second").expect("write");
    let third = destination(&folder, &plex(), file, None).expect("dest");
    assert!(third.as_path().ends_with("Alien (1979) (3)-trailer.mp4"));
    // Replacing the first: its own name is free for it, under any spelling of its path.
    let again = destination(&folder, &plex(), file, Some(&first)).expect("dest");
    assert_eq!(again.as_path(), first);
    let spelled = folder.root().join(".").join("Movie (2019)").join(file);
    let again = destination(&folder, &plex(), file, Some(&spelled)).expect("dest");
    assert_eq!(again.as_path(), first);
    // In a folder the number goes before the extension.
    assert_eq!(numbered("Alien (1979).mkv", 2), "Alien (1979) (2).mkv");
    assert_eq!(numbered("noext", 3), "noext (3)");
}

#[tokio::test]
async fn place_moves_the_file_and_creates_the_trailer_folder() {
    let (tmp, folder) = library();
    let work = tempfile::tempdir().expect("work");
    let temp = work.path().join("converted.mkv");
    fs::write(&temp, b"trailer bytes").expect("write");
    let out = jellyfin();
    let dest = destination(&folder, &out, "Alien (1979).mkv", None).expect("dest");
    let (path, size) = place(&temp, &dest).await.expect("place");
    assert_eq!(size, 13);
    assert_eq!(path, dest.as_path());
    assert_eq!(fs::read(&path).expect("read"), b"trailer bytes");
    assert!(!temp.exists());
    assert!(path.starts_with(tmp.path().canonicalize().expect("canon")));
    let leftovers: Vec<_> = fs::read_dir(path.parent().expect("dir"))
        .expect("list")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn templates_are_validated_with_the_reason() {
    assert_eq!(validate_template(&plex()), Ok(()));
    assert_eq!(validate_template(&jellyfin()), Ok(()));
    let beside = |t: &str| OutputSettings {
        file_template: t.into(),
        ..plex()
    };
    for (out, needle) in [
        (beside(" "), "empty"),
        (beside("{title}/{year}-trailer"), "plain name"),
        (beside("{title}\\x-trailer"), "plain name"),
        (beside("..{title}-trailer"), "plain name"),
        (beside("{title} {yeer}-trailer"), "unknown variable {yeer}"),
        (beside("{title"), "unclosed"),
        (beside("{title} ({year})"), "-trailer"),
        (beside("-trailer"), "-trailer"),
        (
            OutputSettings {
                folder_name: "a/b".into(),
                ..jellyfin()
            },
            "folder name",
        ),
        (
            OutputSettings {
                folder_name: " ".into(),
                ..jellyfin()
            },
            "folder name",
        ),
    ] {
        let err = validate_template(&out).expect_err("must fail").to_string();
        assert!(err.contains(needle), "{:?}: {err}", out.file_template);
    }
    let err = trailer_file_name(&item("A", None), &beside("{nope}-trailer"), "id", None)
        .expect_err("invalid");
    assert!(err.to_string().contains("{nope}"), "{err}");
}

#[test]
fn render_keeps_unknown_variables_literal_and_collapses_space() {
    let got = render_template("  {a}  ( {b} ) {c}x ", |n| match n {
        "a" => Some("A".into()),
        "b" => Some(String::new()),
        _ => None,
    });
    assert_eq!(got, "A {c}x");
}

fn slot(key: &str) -> Slot {
    Slot::parse(key).expect("slot")
}

#[test]
fn each_slot_gets_the_name_and_folder_its_kind_is_read_from() {
    let movie = item("Alien", Some(1979));
    let named = |out: &OutputSettings, key: &str| {
        slot_file_name(&movie, out, slot(key), "id", Some(1080)).expect("name")
    };
    // Beside the media: the kind's suffix, a label where the suffix is shared.
    assert_eq!(named(&plex(), "trailer-1"), "Alien (1979)-trailer.mp4");
    assert_eq!(
        named(&plex(), "trailer-2"),
        "Alien (1979) - Trailer 2-trailer.mp4"
    );
    assert_eq!(
        named(&plex(), "teaser-1"),
        "Alien (1979) - Teaser-trailer.mp4"
    );
    assert_eq!(
        named(&plex(), "featurette-1"),
        "Alien (1979)-featurette.mp4"
    );
    assert_eq!(
        named(&plex(), "behindthescenes-1"),
        "Alien (1979)-behindthescenes.mp4"
    );
    assert_eq!(named(&plex(), "clip-1"), "Alien (1979)-scene.mp4");
    // In folders: the folder says what it is.
    assert_eq!(
        named(&jellyfin(), "trailer-3"),
        "Alien (1979) - Trailer 3.mkv"
    );
    assert_eq!(named(&jellyfin(), "featurette-1"), "Alien (1979).mkv");

    let (_tmp, folder) = library();
    let dir_of = |out: &OutputSettings, key: &str| {
        let dest = slot_destination(&folder, out, slot(key), "x.mkv", None).expect("dest");
        dest.as_path()
            .parent()
            .and_then(|p| p.strip_prefix(folder.as_path()).ok())
            .map(|p| p.display().to_string())
            .expect("inside")
    };
    assert_eq!(dir_of(&jellyfin(), "trailer-2"), "Trailers");
    assert_eq!(dir_of(&jellyfin(), "teaser-1"), "Trailers");
    assert_eq!(dir_of(&jellyfin(), "featurette-1"), "Featurettes");
    assert_eq!(
        dir_of(&jellyfin(), "behindthescenes-1"),
        "Behind The Scenes"
    );
    assert_eq!(dir_of(&jellyfin(), "clip-1"), "Scenes");
    assert_eq!(dir_of(&plex(), "featurette-1"), "");
}

#[test]
fn a_taken_extras_name_is_numbered_before_its_suffix() {
    assert_eq!(
        numbered("Alien (1979)-featurette.mp4", 2),
        "Alien (1979) (2)-featurette.mp4"
    );
    assert_eq!(
        numbered("Alien (1979)-scene.mkv", 3),
        "Alien (1979) (3)-scene.mkv"
    );
    assert_eq!(
        numbered("Alien (1979)-trailer.mp4", 2),
        "Alien (1979) (2)-trailer.mp4"
    );
}
