//! yt-dlp (T6): the metadata of a video page, a search, and a download checked with ffprobe.
//!
//! Every run goes through [`Process`] (time limit, cancellation, the whole process group
//! stopped). Failures are classified ([`classify`]) into a [`DownloadErrorKind`] with a reason
//! the user can act on. A download owns nothing but what it creates in the caller's work
//! folder: on any failure, cancellation, or a dropped future, every file it created there
//! (`.part`, `.ytdl`, fragments, half-merged formats) is removed.
//!
//! yt-dlp is run with `--ignore-config` (a user's `~/.config/yt-dlp` must not change what
//! Tapearr does) and with a private copy of the cookies file, because yt-dlp writes the
//! cookie jar back at exit: two runs must not rewrite the user's file at the same time.

mod classify;

pub use classify::{
    DownloadError, DownloadErrorKind, RefusedOption, check_extra_args, classify, watch_url,
};

use crate::tools::ffprobe::probe;
use crate::tools::{MediaFacts, ProbeError};
use crate::tools::{Process, ProcessError, Stream, VENV_HINT};
use crate::trailers::convert::PROBE_LIMIT;
use crate::trailers::model::Container;
use classify::{last_error_line, valid_video_id};
use serde::Deserialize;
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The file in the work folder that yt-dlp writes the final info (with `filepath`) into.
const INFO_FILE: &str = ".tapearr-download.json";
/// Longest stdout kept (a `-J` of a search with every format of every entry is a few MB).
const MAX_STDOUT: usize = 64 * 1024 * 1024;

/// How to run yt-dlp.
#[derive(Debug, Clone)]
pub struct YtDlp {
    program: PathBuf,
    cookies: Option<PathBuf>,
    timeout: Duration,
    ffmpeg: Option<PathBuf>,
    ffprobe: PathBuf,
    js_runtime: Option<PathBuf>,
    po_token_provider: Option<String>,
    proxy: Option<String>,
}

/// What to download.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadOptions {
    /// Highest video height (the format selector falls back to any height, then `best`).
    pub max_height: u32,
    /// mp4/mkv/webm: what formats are merged into.
    pub container: Container,
    /// Subtitles in this language (`en`), written next to the video.
    pub subtitles: Option<String>,
    /// The user's extra options, already checked with [`check_extra_args`].
    pub extra_args: Vec<String>,
}

/// A downloaded file and what was learned about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Downloaded {
    pub path: PathBuf,
    pub info: VideoInfo,
    pub probe: MediaFacts,
}

/// The metadata of one video, as yt-dlp reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VideoInfo {
    /// The site's id (for a page like `…/watch?v=ID` read by the generic extractor, `ID`).
    pub id: String,
    pub title: String,
    /// The page URL (`webpage_url`).
    pub url: String,
    pub duration_s: Option<f64>,
    pub uploader: Option<String>,
    pub channel_id: Option<String>,
    pub height: Option<u32>,
    pub width: Option<u32>,
    pub is_live: bool,
    pub is_upcoming: bool,
    /// `YYYYMMDD`.
    pub upload_date: Option<String>,
    pub view_count: Option<u64>,
    pub language: Option<String>,
}

impl YtDlp {
    /// yt-dlp at `program`; no cookies, a 15 minute limit per run, ffmpeg and ffprobe from PATH.
    pub fn new(program: PathBuf) -> Self {
        Self {
            program,
            cookies: None,
            timeout: Duration::from_secs(15 * 60),
            ffmpeg: None,
            ffprobe: PathBuf::from("ffprobe"),
            js_runtime: None,
            po_token_provider: None,
            proxy: None,
        }
    }

    /// A bgutil PO-token provider's base URL (`http://127.0.0.1:4416`): passed to the plugin
    /// as `--extractor-args youtubepot-bgutilhttp:base_url=…`; nothing is passed without one.
    pub fn po_token_provider(mut self, url: Option<String>) -> Self {
        self.po_token_provider = url.filter(|u| !u.trim().is_empty());
        self
    }

    /// A proxy every yt-dlp request goes through (`--proxy`; masked in logs: it may hold a
    /// password).
    pub fn proxy(mut self, url: Option<String>) -> Self {
        self.proxy = url.filter(|u| !u.trim().is_empty());
        self
    }

    /// The Deno binary yt-dlp solves YouTube's JavaScript challenges with, passed explicitly
    /// (`--js-runtimes deno:<path>`) so it does not depend on PATH.
    pub fn js_runtime(mut self, deno: Option<PathBuf>) -> Self {
        self.js_runtime = deno;
        self
    }

    /// The JavaScript runtimes this yt-dlp reports as usable (`-v`'s `JS runtimes:` line,
    /// e.g. `deno-2.9.8`), empty when it finds none. Offline: no URL is given.
    pub async fn js_runtimes(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>, DownloadError> {
        let mut p = Process::new(&self.program)
            .args(["--ignore-config", "-v"])
            .timeout(Duration::from_secs(60))
            .install_hint(VENV_HINT);
        if let Some(deno) = &self.js_runtime {
            p = p.arg("--js-runtimes").arg(runtime_arg(deno));
        }
        let mut line_seen = None;
        // Without a URL yt-dlp exits with a usage error after printing its debug header.
        let result = p
            .run_with(cancel, |_, line| {
                if let Some(list) = line.split_once("JS runtimes:").map(|(_, l)| l.trim()) {
                    line_seen = Some(list.to_owned());
                }
            })
            .await;
        match (line_seen, result) {
            (Some(list), _) => Ok(list
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty() && *r != "none")
                .map(str::to_owned)
                .collect()),
            (None, Err(e)) => Err(self.process_error(e, "", "")),
            (None, Ok(_)) => Err(DownloadError::new(
                DownloadErrorKind::Other,
                "yt-dlp -v printed no `JS runtimes:` line",
            )),
        }
    }

    /// A Netscape cookies file (a signed-in session passes bot and age checks).
    pub fn cookies(mut self, file: Option<PathBuf>) -> Self {
        self.cookies = file;
        self
    }

    /// The limit for each run (info, search, download).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The ffmpeg yt-dlp merges formats with (`--ffmpeg-location`; default: PATH).
    pub fn ffmpeg(mut self, program: PathBuf) -> Self {
        self.ffmpeg = Some(program);
        self
    }

    /// The ffprobe that checks a download (default: `ffprobe` from PATH).
    pub fn ffprobe(mut self, program: PathBuf) -> Self {
        self.ffprobe = program;
        self
    }

    /// The metadata of one video page (`-J --skip-download --no-playlist`).
    pub async fn info(
        &self,
        url: &str,
        cancel: &CancellationToken,
    ) -> Result<VideoInfo, DownloadError> {
        let args: Vec<OsString> = ["-J", "--skip-download", "--no-playlist", "--", url]
            .map(OsString::from)
            .into();
        let run = self.run(args, url, true, cancel).await?;
        if let Err(e) = run.result {
            return Err(self.process_error(e, url, &run.output));
        }
        let json = parse_json(&run.stdout).map_err(|e| {
            DownloadError::new(
                DownloadErrorKind::Other,
                format!("yt-dlp printed unreadable metadata: {e}"),
            )
        })?;
        json.videos()
            .into_iter()
            .next()
            .ok_or_else(|| self.error(DownloadErrorKind::Unavailable, url, &run.output))
    }

    /// The entries of a search (`ytsearch{n}:{query}`) or of a feed/playlist URL, each with
    /// its full metadata (`-J`: the generic extractor's flat entries would have no duration).
    /// An entry that fails (private, removed) is left out; the search fails only when none
    /// could be read and yt-dlp reported an error.
    pub async fn search(
        &self,
        target: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<VideoInfo>, DownloadError> {
        let args: Vec<OsString> = ["-J", "--", target].map(OsString::from).into();
        let run = self.run(args, target, true, cancel).await?;
        let parsed = parse_json(&run.stdout);
        match (run.result, parsed) {
            (Ok(()), Ok(json)) => Ok(json.videos()),
            (Ok(()), Err(e)) => Err(DownloadError::new(
                DownloadErrorKind::Other,
                format!("yt-dlp printed unreadable search results: {e}"),
            )),
            (Err(e), Ok(json))
                if !matches!(
                    e,
                    ProcessError::TimedOut { .. } | ProcessError::Cancelled { .. }
                ) =>
            {
                let found = json.videos();
                if found.is_empty() {
                    return Err(self.process_error(e, target, &run.output));
                }
                tracing::info!(
                    target,
                    found = found.len(),
                    error = last_error_line(&run.output).unwrap_or_default(),
                    "some search results could not be read"
                );
                Ok(found)
            }
            (Err(e), _) => Err(self.process_error(e, target, &run.output)),
        }
    }

    /// Downloads `url` into `work_dir` (`%(id)s.%(ext)s`) and checks the file with ffprobe.
    /// Subtitles, when asked for, are left next to it (`%(id)s.LANG.vtt`); nothing else is.
    pub async fn download(
        &self,
        url: &str,
        work_dir: &Path,
        opts: &DownloadOptions,
        cancel: &CancellationToken,
    ) -> Result<Downloaded, DownloadError> {
        let io = |what: &str, e: std::io::Error| {
            DownloadError::new(
                DownloadErrorKind::Other,
                format!("{what} {}: {e}", work_dir.display()),
            )
        };
        let info_file = work_dir.join(INFO_FILE);
        // yt-dlp appends to it: one left by an earlier run must not be read as this one.
        let _ = tokio::fs::remove_file(&info_file).await;
        let mut created = Created::snapshot(work_dir).map_err(|e| io("cannot read", e))?;
        let args = download_args(work_dir, opts, url);
        let run = self.run(args, url, false, cancel).await?;
        if let Err(e) = run.result {
            return Err(self.process_error(e, url, &run.output));
        }
        let Ok(text) = tokio::fs::read_to_string(&info_file).await else {
            if run.filtered {
                return Err(self.error(DownloadErrorKind::LiveOrUpcoming, url, &run.output));
            }
            return Err(DownloadError::new(
                DownloadErrorKind::Other,
                "yt-dlp finished without downloading anything",
            ));
        };
        let _ = tokio::fs::remove_file(&info_file).await;
        // One line per finished video; --no-playlist makes it one.
        let json: Entry = text
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .and_then(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| {
                DownloadError::new(DownloadErrorKind::Other, "yt-dlp wrote unreadable metadata")
            })?;
        let path = json
            .filepath
            .as_deref()
            .map(PathBuf::from)
            .filter(|p| p.is_file() && same_dir(p.parent(), work_dir))
            .ok_or_else(|| {
                DownloadError::new(
                    DownloadErrorKind::Other,
                    "yt-dlp reported no downloaded file in the work folder",
                )
            })?;
        let info = json.info();
        let facts = probe(&self.ffprobe, &path, PROBE_LIMIT, cancel)
            .await
            .map_err(|e| probe_failure(e, &path))?;
        let problem = if !facts.has_video {
            Some("it has no video")
        } else if !facts.has_audio {
            Some("it has no sound")
        } else if facts.millis() <= 0 {
            Some("it has no duration")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(DownloadError::new(
                DownloadErrorKind::Invalid,
                format!("the downloaded file is not a playable video: {problem}"),
            ));
        }
        // Keep the video and its subtitles; anything else yt-dlp left goes.
        created.keep(&path);
        created.keep_subtitles_of(&path);
        created.finish();
        Ok(Downloaded {
            path,
            info,
            probe: facts,
        })
    }

    /// Runs yt-dlp with the common options, the cookies and `args`; collects the error lines
    /// (and with `json_stdout`, stdout) whatever the outcome: a search that failed on one
    /// entry still printed the others. `Err` only when the cookies file cannot be read.
    async fn run(
        &self,
        args: Vec<OsString>,
        target: &str,
        json_stdout: bool,
        cancel: &CancellationToken,
    ) -> Result<Run, DownloadError> {
        let cookies = self
            .cookies
            .as_deref()
            .map(|file| {
                PrivateCopy::of(file).map_err(|e| {
                    DownloadError::new(
                        DownloadErrorKind::Other,
                        format!("cannot read the cookies file {}: {e}", file.display()),
                    )
                })
            })
            .transpose()?;
        let mut p = Process::new(&self.program)
            .args([
                "--ignore-config",
                "--no-progress",
                "--no-mtime",
                "--socket-timeout",
                "30",
                "--retries",
                "3",
                "--fragment-retries",
                "3",
            ])
            .timeout(self.timeout)
            .grace_period(Duration::from_secs(5))
            .install_hint(VENV_HINT);
        if let Some(c) = &cookies {
            p = p.arg("--cookies").secret_arg(&c.path);
        }
        if let Some(proxy) = &self.proxy {
            p = p.arg("--proxy").secret_arg(proxy);
        }
        let p = p.args(self.helper_args()).args(args);
        tracing::debug!(command = %p.display(), target, "running yt-dlp");
        let mut stdout = String::new();
        let mut output = String::new();
        let mut filtered = false;
        let mut error_continues = false;
        let result = p
            .run_with(cancel, |stream, line| {
                if json_stdout && stream == Stream::Stdout {
                    // `-J` (quiet) prints one ASCII line (json.dumps escapes the rest) and
                    // nothing else; the runner cuts a long line into pieces that follow
                    // each other.
                    if stdout.len() + line.len() <= MAX_STDOUT {
                        stdout.push_str(line);
                    }
                    return;
                }
                // yt-dlp can print `ERROR: \r[download] Got error: …`: the runner splits on
                // `\r`, so the message is the next line.
                if std::mem::take(&mut error_continues) {
                    output.push_str("ERROR: ");
                } else if line.trim_end() == "ERROR:" {
                    error_continues = true;
                    return;
                }
                let skipped = line.contains("does not pass filter");
                filtered |= skipped;
                if output.ends_with("ERROR: ")
                    || skipped
                    || line.starts_with("ERROR:")
                    || line.starts_with("WARNING:")
                {
                    output.push_str(line);
                    output.push('\n');
                }
            })
            .await
            .map(|_| ());
        Ok(Run {
            result,
            stdout,
            output,
            filtered,
        })
    }

    fn error(&self, kind: DownloadErrorKind, target: &str, output: &str) -> DownloadError {
        let site = site_name(target);
        let mut message = if kind == DownloadErrorKind::Other && output.contains("HTTP Error 403") {
            // An expired or refused media link: often passes on a later try, else a newer
            // yt-dlp is needed.
            format!(
                "{site} refused the video data (HTTP 403); trying again later, and if it keeps happening, update yt-dlp (Dashboard → Tools)"
            )
        } else {
            kind.explain(&site, self.cookies.is_some())
        };
        if let Some(line) = last_error_line(output) {
            message.push_str(&format!(" ({line})"));
        }
        DownloadError::new(kind, message)
    }

    fn process_error(&self, e: ProcessError, target: &str, output: &str) -> DownloadError {
        match e {
            ProcessError::NotFound { .. } => {
                DownloadError::new(DownloadErrorKind::ToolMissing, e.to_string())
            }
            ProcessError::Cancelled { .. } => {
                DownloadError::new(DownloadErrorKind::Cancelled, "cancelled")
            }
            ProcessError::TimedOut { after, .. } => DownloadError::new(
                DownloadErrorKind::Timeout,
                format!("yt-dlp did not finish within {} s", after.as_secs()),
            ),
            ProcessError::Failed {
                ref stderr_tail, ..
            } => {
                let text = format!("{output}\n{stderr_tail}");
                let kind = classify(&text);
                // Our own lines first: they have `ERROR: \r…` joined up.
                let lines = if last_error_line(output).is_some() {
                    output
                } else {
                    &text
                };
                let mut err = self.error(kind, target, lines);
                if kind == DownloadErrorKind::Other && last_error_line(&text).is_none() {
                    err.message = e.to_string();
                }
                err
            }
            ProcessError::Io { .. } => DownloadError::new(DownloadErrorKind::Other, e.to_string()),
        }
    }
}

impl YtDlp {
    /// The programs and services yt-dlp is pointed at: ffmpeg, the JavaScript runtime, the
    /// PO-token provider (each only when set).
    fn helper_args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        if let Some(ffmpeg) = &self.ffmpeg {
            args.extend([OsString::from("--ffmpeg-location"), ffmpeg.into()]);
        }
        if let Some(deno) = &self.js_runtime {
            args.extend([OsString::from("--js-runtimes"), runtime_arg(deno)]);
        }
        if let Some(url) = &self.po_token_provider {
            args.extend([
                OsString::from("--extractor-args"),
                format!("youtubepot-bgutilhttp:base_url={url}").into(),
            ]);
        }
        args
    }
}

/// `deno:<path>` for `--js-runtimes`.
fn runtime_arg(deno: &Path) -> OsString {
    let mut arg = OsString::from("deno:");
    arg.push(deno);
    arg
}

struct Run {
    result: Result<(), ProcessError>,
    stdout: String,
    /// Error, warning and match-filter lines from both streams.
    output: String,
    /// yt-dlp skipped the video: it did not pass the match filter (live or upcoming).
    filtered: bool,
}

/// The arguments of a download after the common ones.
fn download_args(work_dir: &Path, opts: &DownloadOptions, url: &str) -> Vec<OsString> {
    // Output templates treat `%` as a field: a folder name with one must be escaped.
    let dir = work_dir.to_string_lossy().replace('%', "%%");
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |a: &str| args.push(OsString::from(a));
    for a in [
        "--no-playlist",
        "--restrict-filenames",
        "--match-filter",
        "!is_live & !is_upcoming",
        "-f",
        &match opts.max_height {
            // No limit.
            0 => "bv*+ba/b".to_string(),
            h => format!("bv*[height<=?{h}]+ba/b[height<=?{h}]/bv*+ba/b"),
        },
        "--merge-output-format",
        match opts.container {
            // yt-dlp takes the first container the formats fit in.
            Container::Mp4 => "mp4/mkv",
            Container::Webm => "webm/mkv",
            Container::Mkv => "mkv",
        },
        "-o",
        &format!("{dir}/%(id)s.%(ext)s"),
        "--print-to-file",
        "after_move:%()j",
        &format!("{dir}/{INFO_FILE}"),
    ] {
        push(a);
    }
    if let Some(lang) = opts.subtitles.as_deref().filter(|l| !l.is_empty()) {
        for a in [
            "--write-subs",
            "--sub-langs",
            &format!("{lang},{lang}-.*"),
            "--sub-format",
            "vtt/srt/best",
        ] {
            push(a);
        }
    }
    for a in &opts.extra_args {
        push(a);
    }
    push("--");
    push(url);
    args
}

/// Whether `parent` is `dir` (yt-dlp reports absolute paths; the caller's may be relative).
fn same_dir(parent: Option<&Path>, dir: &Path) -> bool {
    match (
        parent.map(std::fs::canonicalize),
        std::fs::canonicalize(dir),
    ) {
        (Some(Ok(a)), Ok(b)) => a == b,
        _ => false,
    }
}

/// "YouTube" for YouTube targets, else the host.
fn site_name(target: &str) -> String {
    if target.starts_with("ytsearch") {
        return "YouTube".into();
    }
    match url::Url::parse(target)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    {
        Some(h) if h.ends_with("youtube.com") || h == "youtu.be" => "YouTube".into(),
        Some(h) => h,
        None => "the video site".into(),
    }
}

fn probe_failure(e: ProbeError, path: &Path) -> DownloadError {
    match e {
        ProbeError::Process(ProcessError::NotFound { .. }) => {
            DownloadError::new(DownloadErrorKind::ToolMissing, e.to_string())
        }
        ProbeError::Process(ProcessError::Cancelled { .. }) => {
            DownloadError::new(DownloadErrorKind::Cancelled, "cancelled")
        }
        e => {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let why = e.to_string();
            let why = why.lines().last().unwrap_or_default();
            DownloadError::new(
                DownloadErrorKind::Invalid,
                format!(
                    "the downloaded file is not a playable video: ffprobe cannot read {name}: {why}"
                ),
            )
        }
    }
}

// ---- yt-dlp's JSON ----

#[derive(Deserialize, Default)]
struct Entry {
    #[serde(rename = "_type")]
    kind: Option<String>,
    #[serde(default)]
    entries: Vec<Option<Entry>>,
    id: Option<String>,
    title: Option<String>,
    webpage_url: Option<String>,
    original_url: Option<String>,
    url: Option<String>,
    duration: Option<f64>,
    uploader: Option<String>,
    channel: Option<String>,
    channel_id: Option<String>,
    uploader_id: Option<String>,
    height: Option<u32>,
    width: Option<u32>,
    is_live: Option<bool>,
    live_status: Option<String>,
    upload_date: Option<String>,
    view_count: Option<u64>,
    language: Option<String>,
    filepath: Option<String>,
}

fn parse_json(stdout: &str) -> Result<Entry, String> {
    let text = stdout.trim();
    if text.is_empty() {
        return Err("nothing printed".into());
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

impl Entry {
    /// The videos in this result: itself, or its entries (one level of nesting flattened).
    fn videos(self) -> Vec<VideoInfo> {
        if self.kind.as_deref() == Some("playlist") || !self.entries.is_empty() {
            return self
                .entries
                .into_iter()
                .flatten()
                .flat_map(|e| {
                    if e.kind.as_deref() == Some("playlist") {
                        e.entries.into_iter().flatten().map(|e| e.info()).collect()
                    } else {
                        vec![e.info()]
                    }
                })
                .collect();
        }
        vec![self.info()]
    }

    fn info(&self) -> VideoInfo {
        let url = self
            .webpage_url
            .clone()
            .or_else(|| self.original_url.clone())
            .or_else(|| self.url.clone())
            .unwrap_or_default();
        let raw_id = self.id.clone().unwrap_or_default();
        // The generic extractor names a `…/watch?v=ID` page `watch?v=ID`.
        let id = if valid_video_id(&raw_id) {
            raw_id
        } else {
            url::Url::parse(&url)
                .ok()
                .and_then(|u| {
                    u.query_pairs()
                        .find(|(k, _)| k == "v")
                        .map(|(_, v)| v.into_owned())
                })
                .filter(|v| valid_video_id(v))
                .unwrap_or(raw_id)
        };
        let status = self.live_status.as_deref();
        VideoInfo {
            id,
            title: self.title.clone().unwrap_or_default(),
            url,
            duration_s: self.duration.filter(|d| d.is_finite() && *d >= 0.0),
            uploader: self.uploader.clone().or_else(|| self.channel.clone()),
            channel_id: self.channel_id.clone().or_else(|| self.uploader_id.clone()),
            height: self.height,
            width: self.width,
            is_live: status == Some("is_live") || (status.is_none() && self.is_live == Some(true)),
            is_upcoming: status == Some("is_upcoming"),
            upload_date: self.upload_date.clone(),
            view_count: self.view_count,
            language: self.language.clone(),
        }
    }
}

// ---- files ----

/// What a download created in the work folder; removed on drop unless [`finish`](Self::finish)ed.
struct Created {
    dir: PathBuf,
    before: HashSet<OsString>,
    keep: HashSet<OsString>,
    armed: bool,
}

impl Created {
    fn snapshot(dir: &Path) -> std::io::Result<Self> {
        let before = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        Ok(Self {
            dir: dir.to_owned(),
            before,
            keep: HashSet::new(),
            armed: true,
        })
    }

    fn keep(&mut self, path: &Path) {
        if let Some(name) = path.file_name() {
            self.keep.insert(name.to_owned());
        }
    }

    /// `ID.LANG.vtt` / `.srt` next to `ID.mp4`.
    fn keep_subtitles_of(&mut self, video: &Path) {
        let Some(stem) = video
            .file_stem()
            .map(|s| format!("{}.", s.to_string_lossy()))
        else {
            return;
        };
        for name in self.new_entries() {
            let text = name.to_string_lossy();
            if text.starts_with(&stem) && (text.ends_with(".vtt") || text.ends_with(".srt")) {
                self.keep.insert(name);
            }
        }
    }

    fn new_entries(&self) -> Vec<OsString> {
        std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.file_name()))
                    .filter(|n| !self.before.contains(n))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Removes the new entries that are not kept, and disarms.
    fn finish(mut self) {
        self.remove_unkept();
        self.armed = false;
    }

    fn remove_unkept(&self) {
        for name in self.new_entries() {
            if self.keep.contains(&name) {
                continue;
            }
            let path = self.dir.join(&name);
            let removed = match std::fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path),
                Ok(_) => std::fs::remove_file(&path),
                Err(_) => Ok(()),
            };
            if let Err(e) = removed {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove a download leftover");
            }
        }
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        if self.armed {
            self.keep.clear();
            self.remove_unkept();
        }
    }
}

/// A private (0600) copy of the cookies file, removed on drop.
struct PrivateCopy {
    path: PathBuf,
}

impl PrivateCopy {
    fn of(file: &Path) -> std::io::Result<Self> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let bytes = std::fs::read(file)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "tapearr-cookies-{}-{nanos}.txt",
            std::process::id()
        ));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let copy = Self { path };
        f.write_all(&bytes)?;
        Ok(copy)
    }
}

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod real_tests;
#[cfg(test)]
mod tests;
