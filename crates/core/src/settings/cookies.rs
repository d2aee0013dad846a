//! YouTube cookies for yt-dlp (its bot check and age gate): an uploaded Netscape cookies file,
//! checked and kept 0600 in the data dir where the trailer downloads pick it up.

use crate::time::Timestamp;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file's name inside the data dir.
pub const COOKIES_FILE: &str = "youtube-cookies.txt";
/// A cookies export is a few KiB; anything this large is not one.
pub const MAX_COOKIES_BYTES: usize = 1024 * 1024;

/// What an accepted file holds (never the cookies themselves).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CookiesInfo {
    /// Cookies of youtube.com or google.com.
    pub site_cookies: usize,
    /// When the first of them expires (RFC 3339); `None` when all are session cookies.
    pub earliest_expiry: Option<String>,
}

pub fn cookies_path(data_dir: &Path) -> PathBuf {
    data_dir.join(COOKIES_FILE)
}

/// Why an uploaded file is not taken as the cookies file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookiesError {
    #[error("the file is larger than 1 MiB: not a cookies export")]
    TooLarge,
    #[error("line {0}: not a Netscape cookies line (7 tab-separated fields)")]
    NotACookiesLine(usize),
    #[error("line {0}: the expiry is not a number")]
    BadExpiry(usize),
    #[error("the file has no youtube.com or google.com cookies")]
    NoSiteCookies,
}

impl CookiesError {
    /// A stable name for the refusal, whatever the message says.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::NotACookiesLine(_) => "not_a_cookies_line",
            Self::BadExpiry(_) => "bad_expiry",
            Self::NoSiteCookies => "no_site_cookies",
        }
    }
}

/// Checks that `text` is a Netscape cookies file with YouTube's or Google's cookies.
pub fn check(text: &str) -> Result<CookiesInfo, CookiesError> {
    if text.len() > MAX_COOKIES_BYTES {
        return Err(CookiesError::TooLarge);
    }
    let mut site_cookies = 0;
    let mut earliest: Option<i64> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let line = line.strip_prefix("#HttpOnly_").unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 7 {
            return Err(CookiesError::NotACookiesLine(n + 1));
        }
        let expiry: i64 = fields[4]
            .parse()
            .map_err(|_| CookiesError::BadExpiry(n + 1))?;
        let domain = fields[0].trim_start_matches('.').to_ascii_lowercase();
        let of_site = ["youtube.com", "google.com"]
            .iter()
            .any(|site| domain == *site || domain.ends_with(&format!(".{site}")));
        if of_site {
            site_cookies += 1;
            if expiry > 0 {
                earliest = Some(earliest.map_or(expiry, |e| e.min(expiry)));
            }
        }
    }
    if site_cookies == 0 {
        return Err(CookiesError::NoSiteCookies);
    }
    Ok(CookiesInfo {
        site_cookies,
        earliest_expiry: earliest
            .and_then(|secs| secs.checked_mul(1000))
            .map(|ms| Timestamp(ms).to_rfc3339()),
    })
}

/// Writes `text` as the cookies file (0600), replacing any earlier one whole.
pub fn store(data_dir: &Path, text: &str) -> std::io::Result<()> {
    let path = cookies_path(data_dir);
    let tmp = data_dir.join(format!(".{COOKIES_FILE}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAR: &str = "# Netscape HTTP Cookie File\n\
        .youtube.com\tTRUE\t/\tTRUE\t1900000000\tPREF\tx\n\
        #HttpOnly_.google.com\tTRUE\t/\tTRUE\t1800000000\tSID\ty\n\
        .example.com\tTRUE\t/\tTRUE\t1700000000\tOTHER\tz\n";

    #[test]
    fn a_netscape_file_with_site_cookies_is_accepted_with_its_earliest_expiry() {
        let info = check(JAR).expect("valid");
        assert_eq!(info.site_cookies, 2);
        assert_eq!(
            info.earliest_expiry.as_deref(),
            Some(Timestamp(1_800_000_000_000).to_rfc3339().as_str())
        );
    }

    #[test]
    fn other_files_are_refused_with_the_reason() {
        let json = check("{\"cookies\": []}").expect_err("refused");
        assert_eq!(json, CookiesError::NotACookiesLine(1));
        assert!(json.to_string().contains("line 1"), "{json}");
        let other = ".example.com\tTRUE\t/\tTRUE\t1700000000\tA\tb\n";
        let none = check(other).expect_err("refused");
        assert_eq!(none.code(), "no_site_cookies");
        assert!(none.to_string().contains("no youtube.com"), "{none}");
        let bad_expiry = ".youtube.com\tTRUE\t/\tTRUE\tsoon\tA\tb\n";
        let expiry = check(bad_expiry).expect_err("refused");
        assert!(expiry.to_string().contains("expiry"), "{expiry}");
        let lookalike = ".notyoutube.com\tTRUE\t/\tTRUE\t0\tA\tb\n";
        assert_eq!(check(lookalike), Err(CookiesError::NoSiteCookies));
    }
}
