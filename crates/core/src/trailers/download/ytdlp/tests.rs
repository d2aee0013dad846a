//! Pure parts: the classifier on real yt-dlp lines, the option checks, the arguments, the JSON.

use super::classify::last_error_line;
use super::*;
use DownloadErrorKind::*;

/// yt-dlp's own lines: YouTube's wording, then the same failures from the test video origin.
const LINES: &[(&str, DownloadErrorKind)] = &[
    (
        "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to manually pass cookies. Also see  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting-youtube-cookies  for tips on effectively exporting YouTube cookies",
        BotCheck,
    ),
    (
        "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you're not a bot. This helps protect our community. Learn more",
        BotCheck,
    ),
    (
        "ERROR: [youtube] 07FYdnEawAQ: Sign in to confirm your age. This video may be inappropriate for some users. Use --cookies-from-browser or --cookies for the authentication.",
        AgeRestricted,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Video unavailable",
        Unavailable,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Video unavailable. This video is no longer available because the YouTube account associated with this video has been terminated.",
        Unavailable,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Private video. Sign in if you've been granted access to this video. Use --cookies-from-browser or --cookies for the authentication.",
        Unavailable,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: This video has been removed by the uploader",
        Unavailable,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: This video has been removed for violating YouTube's Terms of Service",
        Unavailable,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Video unavailable. The uploader has not made this video available in your country",
        Unavailable,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Join this channel to get access to members-only content like this video, and other exclusive perks.",
        Unavailable,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: This live event will begin in 3 hours.",
        LiveOrUpcoming,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Premieres in 2 days",
        LiveOrUpcoming,
    ),
    // The soft ban after many downloads from one address (2025 wording).
    (
        "ERROR: [youtube] aaaaaaaaaaa: This content isn’t available, try again later. The current session has been rate-limited by YouTube for up to an hour.",
        RateLimited,
    ),
    (
        "ERROR: [generic] watch?v=sb: Unable to download webpage: HTTP Error 403: This content isn't available, try again later. (caused by <HTTPError 403: This content isn't available, try again later.>)",
        RateLimited,
    ),
    (
        "ERROR: [youtube:search] ytsearch5:alien 1979 trailer: Unable to download API page: HTTP Error 429: Too Many Requests (caused by <HTTPError 429: Too Many Requests>)",
        RateLimited,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Unable to download webpage: <urlopen error [Errno 111] Connection refused> (caused by TransportError('<urlopen error [Errno 111] Connection refused>'))",
        Network,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Unable to download webpage: <urlopen error [Errno -3] Temporary failure in name resolution> (caused by TransportError('<urlopen error [Errno -3] Temporary failure in name resolution>'))",
        Network,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Unable to download webpage: The read operation timed out (caused by TransportError('The read operation timed out'))",
        Timeout,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Unable to download webpage: HTTP Error 503: Service Unavailable",
        Network,
    ),
    (
        "ERROR: [download] Got error: 20159 bytes read, 20159 more expected. Giving up after 3 retries",
        Network,
    ),
    (
        "ERROR: [youtube] aaaaaaaaaaa: Requested format is not available. Use --list-formats for a list of available formats",
        Other,
    ),
    (
        "ERROR: You have requested merging of multiple formats but ffmpeg is not installed. Aborting due to --abort-on-error",
        ToolMissing,
    ),
    (
        "ERROR: unable to write data: [Errno 28] No space left on device",
        Other,
    ),
    // The local video origin (generic extractor), as yt-dlp printed them.
    (
        "ERROR: [generic] watch?v=nf: Unable to download webpage: HTTP Error 404: Video unavailable (caused by <HTTPError 404: Video unavailable>)",
        Unavailable,
    ),
    (
        "ERROR: [generic] watch?v=rm: Unable to download webpage: HTTP Error 410: This video has been removed by the uploader (caused by <HTTPError 410: This video has been removed by the uploader>)",
        Unavailable,
    ),
    (
        "ERROR: [generic] watch?v=pv: Unable to download webpage: HTTP Error 403: Private video (caused by <HTTPError 403: Private video>)",
        Unavailable,
    ),
    (
        "ERROR: [generic] watch?v=ag: Unable to download webpage: HTTP Error 403: Sign in to confirm your age. This video may be inappropriate for some users. (caused by <HTTPError 403: Sign in to confirm your age. This video may be inappropriate for some users.>)",
        AgeRestricted,
    ),
    (
        "ERROR: [generic] watch?v=bc: Unable to download webpage: HTTP Error 403: Sign in to confirm you're not a bot (caused by <HTTPError 403: Sign in to confirm you're not a bot>)",
        BotCheck,
    ),
    (
        "ERROR: [generic] watch?v=rl: Unable to download webpage: HTTP Error 429: Too Many Requests (caused by <HTTPError 429: Too Many Requests>)",
        RateLimited,
    ),
    (
        "ERROR: Unsupported URL: http://127.0.0.1:40457/watch?v=not_a_video",
        Unavailable,
    ),
    (
        "ERROR: [download] Got error: Downloaded 126238 bytes, expected 168318 bytes. Giving up after 1 retries",
        Network,
    ),
    (
        "ERROR: unable to download video data: HTTP Error 403: Forbidden",
        Other,
    ),
    (
        "[download] Alien live trailer 2026-11-22 10:56 does not pass filter (!is_live & !is_upcoming), skipping ..",
        LiveOrUpcoming,
    ),
];

#[test]
fn real_yt_dlp_lines_are_classified() {
    for (line, kind) in LINES {
        assert_eq!(classify(line), *kind, "{line}");
        // The same inside a run's output, after the usual chatter.
        let output = format!(
            "[generic] Extracting URL: http://x/watch?v=a\nWARNING: [generic] Falling back on generic information extractor\n{line}\n"
        );
        assert_eq!(classify(&output), *kind, "{line}");
    }
}

#[test]
fn error_lines_decide_before_warnings() {
    let output = "WARNING: [youtube] Unable to download webpage: HTTP Error 429: Too Many Requests\n\
                  ERROR: [youtube] aaaaaaaaaaa: Video unavailable\n";
    assert_eq!(classify(output), Unavailable);
    // A warning decides when the error says nothing known.
    let output = "WARNING: [youtube] HTTP Error 429: Too Many Requests\nERROR: something new\n";
    assert_eq!(classify(output), RateLimited);
    assert_eq!(classify(""), Other);
}

#[test]
fn a_sign_in_demand_after_rejected_cookies_blames_the_cookies() {
    let output = "WARNING: [youtube] The provided YouTube account cookies are no longer valid. They have likely been rotated in the browser as a security measure. For tips on how to effectively export YouTube cookies, refer to  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting-youtube-cookies .\n\
                  ERROR: [youtube] abc: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication.\n";
    assert_eq!(classify(output), CookiesRejected);
    // Rejected cookies do not turn a removed video into a cookies problem.
    let output = "WARNING: [youtube] The provided YouTube account cookies are no longer valid.\n\
                  ERROR: [youtube] abc: Video unavailable\n";
    assert_eq!(classify(output), Unavailable);
    assert!(
        CookiesRejected.refuses_host() && BotCheck.refuses_host() && RateLimited.refuses_host()
    );
    assert!(!Unavailable.refuses_host() && !Network.refuses_host());
}

#[test]
fn kinds_have_stable_names_and_retry_rules() {
    let all = [
        (BotCheck, "bot_check", false),
        (AgeRestricted, "age_restricted", false),
        (Unavailable, "unavailable", false),
        (RateLimited, "rate_limited", true),
        (CookiesRejected, "cookies_rejected", false),
        (Network, "network", true),
        (Timeout, "timeout", true),
        (LiveOrUpcoming, "live", false),
        (Invalid, "invalid", false),
        (ToolMissing, "tool", false),
        (Cancelled, "cancelled", false),
        (Other, "other", true),
    ];
    for (kind, name, retry) in all {
        assert_eq!(kind.as_str(), name);
        assert_eq!(kind.retryable(), retry, "{name}");
    }
}

#[test]
fn the_user_is_told_what_to_do_and_sees_the_last_error_line() {
    let y = YtDlp::new("yt-dlp".into());
    let output = "WARNING: x\nERROR: [youtube] abc: Sign in to confirm you’re not a bot. Use --cookies (caused by <HTTPError 403>)\n";
    let e = y.error(BotCheck, "https://www.youtube.com/watch?v=abc", output);
    assert_eq!(
        e.message,
        "YouTube asks to sign in to confirm you're not a bot: add a cookies file in Settings → \
         Trailers (ERROR: [youtube] abc: Sign in to confirm you’re not a bot. Use --cookies)"
    );
    let with = y.cookies(Some("/secret/cookies.txt".into()));
    let e = with.error(BotCheck, "ytsearch5:x", output);
    assert!(e.message.contains("fresh"), "{}", e.message);
    assert!(!e.message.contains("/secret"), "{}", e.message);
    let e = with.error(RateLimited, "http://127.0.0.1:9/feed?q=x", "");
    assert_eq!(
        e.message,
        "127.0.0.1 is limiting our requests (rate limit or a temporary block); downloads from it \
         pause and resume by themselves"
    );
    assert_eq!(e.to_string(), e.message);
    let long = format!("ERROR: {}", "x".repeat(400));
    assert_eq!(last_error_line(&long).expect("line").chars().count(), 301);
}

#[test]
fn watch_urls_take_only_real_ids() {
    let t = "https://www.youtube.com/watch?v={id}";
    assert_eq!(
        watch_url(t, "dQw4w9WgXcQ").as_deref(),
        Some("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    );
    assert_eq!(
        watch_url("http://127.0.0.1:1/watch?v={id}", "a-b_C").as_deref(),
        Some("http://127.0.0.1:1/watch?v=a-b_C")
    );
    for bad in ["", "a b", "a&list=x", "../x", "é", &"a".repeat(65)] {
        assert_eq!(watch_url(t, bad), None, "{bad}");
    }
    assert!(watch_url(t, &"a".repeat(64)).is_some());
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn extra_options_that_run_commands_or_move_output_are_refused() {
    for ok in [
        &[][..],
        &["--sleep-requests", "1"],
        &["-f", "bestvideo+bestaudio"],
        &["-fbestaudio"],
        &["--limit-rate", "2M", "--no-mtime"],
        &["--print", "title"],
        &["--extractor-args", "youtube:player_client=web"],
        &["--output-na-placeholder", "x"],
        &["--no-exec"],
        &["-4"],
    ] {
        assert_eq!(check_extra_args(&strings(ok)), Ok(()), "{ok:?}");
    }
    for bad in [
        &["--exec", "rm -rf ~"][..],
        &["--exec=rm -rf ~"],
        &["--exec-before-download", "x"],
        &["-o", "/etc/x"],
        &["-o/etc/x"],
        &["--output", "x"],
        &["--outp", "x"],
        &["--config-location", "/x"],
        &["--config-locations", "/x"],
        &["--batch-file", "/x"],
        &["-a", "/x"],
        &["-ia", "/x"],
        &["--paths", "/x"],
        &["-P", "/x"],
        &["--load-info-json", "/x"],
        &["--print-to-file", "x", "/x"],
        &["--netrc-cmd", "x"],
        &["--use-postprocessor", "Exec:exec_cmd=x"],
        &["--ffmpeg-location", "/tmp/evil"],
        &["--downloader", "/tmp/evil"],
        &["--cookies", "/etc/passwd"],
        &["--ppa", "ffmpeg:-y /x"],
        &["-U"],
        &["https://evil.example/video"],
        &["-f", "best", "https://evil.example/video"],
        &["--alias", "x", "--exec touch /tmp/p", "--x"],
        &["--cache-dir", "/tmp/elsewhere"],
        &["--download-archive", "/tmp/archive.txt"],
        &["--no-mtime", "http://evil.example/v"],
        &["--no-mtime", "ytsearch5:anything"],
        &["--", "https://evil.example/video"],
    ] {
        let why = check_extra_args(&strings(bad))
            .expect_err(&format!("{bad:?} passed"))
            .to_string();
        assert!(why.contains("not allowed"), "{why}");
    }
}

#[test]
fn download_arguments_fall_back_to_best_and_end_with_the_url() {
    let opts = DownloadOptions {
        max_height: 720,
        container: Container::Mp4,
        subtitles: Some("en".into()),
        extra_args: strings(&["--sleep-requests", "1"]),
    };
    let args: Vec<String> = download_args(Path::new("/w/50%"), &opts, "https://x/watch?v=-a")
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let at = |flag: &str| {
        let i = args.iter().position(|a| a == flag).expect(flag);
        args[i + 1].as_str()
    };
    assert_eq!(at("-f"), "bv*[height<=?720]+ba/b[height<=?720]/bv*+ba/b");
    assert_eq!(at("--match-filter"), "!is_live & !is_upcoming");
    assert_eq!(at("-o"), "/w/50%%/%(id)s.%(ext)s");
    assert_eq!(at("--merge-output-format"), "mp4/mkv");
    assert_eq!(at("--sub-langs"), "en,en-.*");
    assert!(args.contains(&"--no-playlist".to_string()));
    assert!(args.contains(&"--restrict-filenames".to_string()));
    assert!(!args.contains(&"--no-part".to_string()));
    assert_eq!(
        &args[args.len() - 4..],
        ["--sleep-requests", "1", "--", "https://x/watch?v=-a"]
    );
    let mkv = DownloadOptions {
        container: Container::Mkv,
        subtitles: None,
        ..opts
    };
    let args: Vec<String> = download_args(Path::new("/w"), &mkv, "u")
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert!(args.iter().any(|a| a == "mkv"));
    let unlimited = DownloadOptions {
        max_height: 0,
        ..mkv.clone()
    };
    let args: Vec<String> = download_args(Path::new("/w"), &unlimited, "u")
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert!(args.iter().any(|a| a == "bv*+ba/b"), "{args:?}");
    assert!(!args.iter().any(|a| a == "--write-subs"));
}

#[test]
fn metadata_is_read_from_youtube_and_generic_json() {
    let yt = r#"{"_type":"video","id":"dQw4w9WgXcQ","title":"Alien (1979) Trailer","webpage_url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "duration":117.0,"uploader":"20th Century Studios","channel_id":"UC2-BeLxzUBSs0uSrmzWhJuQ","height":1080,"width":1920,
        "is_live":false,"live_status":"not_live","upload_date":"20190101","view_count":123,"language":"en"}"#;
    let v = parse_json(yt).expect("json").videos();
    assert_eq!(
        v,
        vec![VideoInfo {
            id: "dQw4w9WgXcQ".into(),
            title: "Alien (1979) Trailer".into(),
            url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ".into(),
            duration_s: Some(117.0),
            uploader: Some("20th Century Studios".into()),
            channel_id: Some("UC2-BeLxzUBSs0uSrmzWhJuQ".into()),
            height: Some(1080),
            width: Some(1920),
            is_live: false,
            is_upcoming: false,
            upload_date: Some("20190101".into()),
            view_count: Some(123),
            language: Some("en".into()),
        }]
    );
    let feed = r#"{"_type":"playlist","entries":[
        {"id":"watch?v=a1","title":"A","webpage_url":"http://127.0.0.1:9/watch?v=a1","duration":2,"uploader":"Fox","live_status":"is_live"},
        null,
        {"id":"x","title":"B","webpage_url":"http://127.0.0.1:9/watch?v=b2","live_status":"is_upcoming","channel":"Chan","uploader_id":"@chan"}]}"#;
    let v = parse_json(feed).expect("json").videos();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].id, "a1");
    assert!(v[0].is_live && !v[0].is_upcoming);
    assert_eq!(v[0].duration_s, Some(2.0));
    assert_eq!(v[1].id, "x");
    assert!(v[1].is_upcoming);
    assert_eq!(v[1].uploader.as_deref(), Some("Chan"));
    assert_eq!(v[1].channel_id.as_deref(), Some("@chan"));
    assert!(parse_json("").is_err());
    assert!(parse_json("{").is_err());
}

#[test]
fn site_names_for_messages() {
    assert_eq!(site_name("ytsearch5:alien"), "YouTube");
    assert_eq!(site_name("https://www.youtube.com/watch?v=x"), "YouTube");
    assert_eq!(site_name("https://youtu.be/x"), "YouTube");
    assert_eq!(site_name("http://127.0.0.1:5/watch?v=x"), "127.0.0.1");
    assert_eq!(site_name("nonsense"), "the video site");
}

#[test]
fn the_runtime_and_the_po_token_provider_are_passed_only_when_set() {
    let plain = YtDlp::new("yt-dlp".into());
    assert!(plain.helper_args().is_empty());
    let set = YtDlp::new("yt-dlp".into())
        .js_runtime(Some("/data/tools/venv/bin/deno".into()))
        .po_token_provider(Some("http://127.0.0.1:4416".into()));
    assert_eq!(
        set.helper_args(),
        [
            "--js-runtimes",
            "deno:/data/tools/venv/bin/deno",
            "--extractor-args",
            "youtubepot-bgutilhttp:base_url=http://127.0.0.1:4416",
        ]
        .map(OsString::from)
    );
    let blank = YtDlp::new("yt-dlp".into()).po_token_provider(Some(" ".into()));
    assert!(blank.helper_args().is_empty());
}
