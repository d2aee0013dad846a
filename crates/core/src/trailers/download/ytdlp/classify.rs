//! What went wrong in a yt-dlp run, in words a user can act on; and the checks on what is
//! handed to yt-dlp (video ids, the user's extra options).
//!
//! The rules match YouTube's own wording (`ERROR: [youtube] id: Sign in to confirm you’re not a
//! bot…`) and the same words in an HTTP reason phrase (`HTTP Error 403: Sign in to confirm
//! you're not a bot`), which is how the test video origin reports them.

/// Why a yt-dlp run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DownloadErrorKind {
    /// The site wants a signed-in (cookies) session to prove we are not a bot.
    BotCheck,
    /// The video needs a signed-in adult account.
    AgeRestricted,
    /// Removed, private, not found, blocked, or not a video page at all.
    Unavailable,
    /// HTTP 429, or YouTube's soft ban ("This content isn't available, try again later").
    RateLimited,
    /// The site says the cookies file is no longer valid (browsers rotate YouTube's cookies).
    CookiesRejected,
    /// Connection refused or reset, DNS, a download cut short, a 5xx.
    Network,
    /// Our time limit, or the site did not answer in time.
    Timeout,
    /// A live broadcast or a premiere that has not started (refused by the match filter).
    LiveOrUpcoming,
    /// The file is not a playable video with sound.
    Invalid,
    /// yt-dlp (or the ffmpeg it needs) is not installed.
    ToolMissing,
    Cancelled,
    Other,
}

impl DownloadErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BotCheck => "bot_check",
            Self::AgeRestricted => "age_restricted",
            Self::Unavailable => "unavailable",
            Self::RateLimited => "rate_limited",
            Self::CookiesRejected => "cookies_rejected",
            Self::Network => "network",
            Self::Timeout => "timeout",
            Self::LiveOrUpcoming => "live",
            Self::Invalid => "invalid",
            Self::ToolMissing => "tool",
            Self::Cancelled => "cancelled",
            Self::Other => "other",
        }
    }

    /// Whether the same download may work later without the user doing anything.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Self::Network | Self::RateLimited | Self::Timeout | Self::Other
        )
    }

    /// The site refuses us rather than this video: its schedule pauses, and the items wait
    /// instead of failing.
    pub fn refuses_host(self) -> bool {
        matches!(
            self,
            Self::BotCheck | Self::RateLimited | Self::CookiesRejected
        )
    }

    /// What the user is told for this kind; `site` is "YouTube" or the host.
    pub(super) fn explain(self, site: &str, with_cookies: bool) -> String {
        match self {
            Self::BotCheck if with_cookies => format!(
                "{site} asks to sign in to confirm you're not a bot, even with the cookies file: \
                 export a fresh one in Settings → Trailers"
            ),
            Self::BotCheck => format!(
                "{site} asks to sign in to confirm you're not a bot: add a cookies file in \
                 Settings → Trailers"
            ),
            Self::AgeRestricted if with_cookies => format!(
                "{site} asks to sign in to confirm your age: the cookies file must be from a \
                 signed-in adult account"
            ),
            Self::AgeRestricted => format!(
                "{site} asks to sign in to confirm your age: add a cookies file of a signed-in \
                 adult account in Settings → Trailers"
            ),
            Self::Unavailable => {
                "the video is unavailable (removed, private, blocked or not a video)".into()
            }
            Self::RateLimited => format!(
                "{site} is limiting our requests (rate limit or a temporary block); downloads \
                 from it pause and resume by themselves"
            ),
            Self::CookiesRejected => format!(
                "{site} rejected the cookies file: it is no longer valid (browsers rotate \
                 these cookies); export a fresh one from a private window in Settings → Trailers"
            ),
            Self::Network => format!("the connection to {site} failed (network error)"),
            Self::Timeout => format!("{site} did not answer in time"),
            Self::LiveOrUpcoming => {
                "the video is a live broadcast or a premiere that has not started".into()
            }
            Self::Invalid => "the downloaded file is not a playable video".into(),
            Self::ToolMissing => "yt-dlp or ffmpeg is not installed".into(),
            Self::Cancelled => "cancelled".into(),
            Self::Other => "yt-dlp failed".into(),
        }
    }
}

impl std::fmt::Display for DownloadErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed yt-dlp run: its kind and the user-facing reason (which ends with yt-dlp's last
/// `ERROR:` line when there was one; never the cookies).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DownloadError {
    pub kind: DownloadErrorKind,
    pub message: String,
}

impl DownloadError {
    pub fn new(kind: DownloadErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// Phrases per kind, lowercase, tried in order; the first hit wins.
const RULES: &[(DownloadErrorKind, &[&str])] = {
    use DownloadErrorKind::*;
    &[
        (BotCheck, &["not a bot"]),
        (
            AgeRestricted,
            &[
                "confirm your age",
                "age-restricted",
                "age restricted",
                "inappropriate for some users",
            ],
        ),
        (
            LiveOrUpcoming,
            &[
                "does not pass filter (!is_live",
                "live event will begin",
                "premieres in",
                "premiere will begin",
                "is an upcoming",
                "live stream recording is not available",
            ],
        ),
        (
            RateLimited,
            &[
                "http error 429",
                "too many requests",
                // YouTube's soft ban after many downloads from one address.
                "content isn't available, try again later",
                "content is not available, try again later",
            ],
        ),
        // Before the unavailable rules: these say "not available" about something else.
        (
            Other,
            &[
                "requested format is not available",
                "content is not available on this app",
                "no space left on device",
            ],
        ),
        (
            Unavailable,
            &[
                "video unavailable",
                "video is unavailable",
                "this video is not available",
                "not available in your country",
                "not made this video available",
                "no longer available",
                "private video",
                "has been removed",
                "has been terminated",
                "copyright",
                "members-only",
                "members only",
                "requires payment",
                "unsupported url",
                "no video formats found",
                "http error 404",
                "http error 410",
                "incomplete youtube id",
            ],
        ),
        (
            ToolMissing,
            &[
                "ffmpeg not found",
                "ffprobe not found",
                "ffmpeg is not installed",
                "ffprobe and ffmpeg not found",
            ],
        ),
        (Timeout, &["timed out", "timeout"]),
        (
            Network,
            &[
                "connection refused",
                "connection reset",
                "connection aborted",
                "name resolution",
                "name or service not known",
                "nodename nor servname",
                "network is unreachable",
                "no route to host",
                "unable to connect",
                "remote end closed connection",
                "incompleteread",
                "incomplete read",
                "bytes, expected",
                "more expected",
                "did not get any data blocks",
                "content too short",
                "http error 500",
                "http error 502",
                "http error 503",
                "http error 504",
                "urlopen error",
                "ssl:",
                "certificate verify failed",
                "transporterror",
                "[errno",
            ],
        ),
    ]
};

/// yt-dlp's warning when YouTube refuses the cookies (`WARNING: [youtube] The provided YouTube
/// account cookies are no longer valid. They have likely been rotated …`), lowercase.
const COOKIES_REJECTED: &str = "cookies are no longer valid";

/// The kind of failure that yt-dlp's output describes. `ERROR:` lines decide first; the rest
/// (warnings, progress) only when they say nothing known. A sign-in demand that follows
/// rejected cookies is the cookies' fault: the user must export new ones.
pub fn classify(stderr: &str) -> DownloadErrorKind {
    use DownloadErrorKind::*;
    let errors: String = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("ERROR:"))
        .collect::<Vec<_>>()
        .join("\n");
    let kind = match classify_text(&errors) {
        Other => classify_text(stderr),
        kind => kind,
    };
    if matches!(kind, BotCheck | AgeRestricted | Other)
        && stderr.to_lowercase().contains(COOKIES_REJECTED)
    {
        return CookiesRejected;
    }
    kind
}

fn classify_text(text: &str) -> DownloadErrorKind {
    // YouTube writes "you’re" with a curly apostrophe; the rules are written with a straight one.
    let text = text.to_lowercase().replace(['’', '‘'], "'");
    RULES
        .iter()
        .find(|(_, phrases)| phrases.iter().any(|p| text.contains(p)))
        .map_or(DownloadErrorKind::Other, |(kind, _)| *kind)
}

/// yt-dlp's last `ERROR:` line, shortened and without the repeated `(caused by …)` part.
pub(super) fn last_error_line(output: &str) -> Option<String> {
    let line = output
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("ERROR:"))?;
    let line = line.split(" (caused by ").next().unwrap_or(line).trim_end();
    Some(match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    })
}

/// Whether `id` can be put in a page URL as is: `[A-Za-z0-9_-]{1,64}`.
pub(super) fn valid_video_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The page URL of `video_id` from a template such as `https://www.youtube.com/watch?v={id}`;
/// `None` for an id that is not `[A-Za-z0-9_-]{1,64}`.
pub fn watch_url(template: &str, video_id: &str) -> Option<String> {
    valid_video_id(video_id).then(|| template.replace("{id}", video_id))
}

/// Long options the user may not pass: they run commands, load code or configuration, read
/// or write files outside the work folder, or change where the output goes.
const REFUSED_LONG: &[&str] = &[
    "--exec",
    "--exec-before-download",
    "--output",
    "--config-location",
    "--config-locations",
    "--batch-file",
    "--paths",
    "--load-info-json",
    "--print-to-file",
    "--netrc-cmd",
    "--use-postprocessor",
    "--plugin-dirs",
    "--downloader",
    "--external-downloader",
    "--downloader-args",
    "--external-downloader-args",
    "--postprocessor-args",
    "--ppa",
    "--ffmpeg-location",
    "--cookies",
    "--update",
    "--update-to",
    // An alias expands to other options, which would pass unchecked.
    "--alias",
    "--cache-dir",
    "--download-archive",
    "--cookies-from-browser",
];

/// Their short forms.
const REFUSED_SHORT: &[char] = &['o', 'a', 'P', 'U'];

/// Short options that take a value: in `-fbestaudio` everything after `f` is the value.
const SHORT_WITH_VALUE: &[char] = &['f', 'S', 'r', 'R', 'N', 'u', 'p', '2', 't', 'I', 'O'];

/// Exact options that are also the start of a refused one (`--print` / `--print-to-file`).
const ALLOWED_PREFIXES: &[&str] = &["--print"];

/// An extra yt-dlp option a profile may not carry, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("yt-dlp option `{arg}` is not allowed: {why}")]
pub struct RefusedOption {
    pub arg: String,
    pub why: &'static str,
}

/// Checks the user's extra yt-dlp options. yt-dlp accepts unambiguous abbreviations of long
/// options (`--outp` is `--output`), `--opt=value` and grouped short options (`-io x`), so
/// each form is checked. A bare word first, or `--` (after which come URLs), is refused too.
pub fn check_extra_args(args: &[String]) -> Result<(), RefusedOption> {
    let refuse = |arg: &str, why: &'static str| {
        Err(RefusedOption {
            arg: arg.to_string(),
            why,
        })
    };
    let mut after_option = false;
    for arg in args {
        let arg = arg.as_str();
        if arg == "--" {
            return refuse(arg, "it would make what follows a URL");
        }
        if arg.starts_with('-') && arg.contains(char::is_whitespace) {
            return refuse(arg, "one option per entry, without spaces");
        }
        if !arg.starts_with('-') && (arg.contains("://") || arg.starts_with("ytsearch")) {
            return refuse(arg, "URLs and searches cannot be added");
        }
        if let Some(long) = arg.strip_prefix("--") {
            let name = format!("--{}", long.split('=').next().unwrap_or(long));
            if REFUSED_LONG.contains(&name.as_str()) {
                return refuse(
                    arg,
                    "Tapearr sets the output, configuration and commands itself",
                );
            }
            if !ALLOWED_PREFIXES.contains(&name.as_str())
                && REFUSED_LONG.iter().any(|r| r.starts_with(name.as_str()))
            {
                return refuse(arg, "it abbreviates an option Tapearr does not allow");
            }
            after_option = true;
        } else if let Some(group) = arg.strip_prefix('-').filter(|g| !g.is_empty()) {
            for c in group.chars() {
                if REFUSED_SHORT.contains(&c) {
                    return refuse(
                        arg,
                        "Tapearr sets the output, configuration and commands itself",
                    );
                }
                if SHORT_WITH_VALUE.contains(&c) {
                    break;
                }
            }
            after_option = true;
        } else if !after_option {
            return refuse(arg, "a value must follow an option (URLs cannot be added)");
        } else {
            // The value of the option before it.
            after_option = false;
        }
    }
    Ok(())
}
