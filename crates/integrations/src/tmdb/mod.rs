//! TMDB API v3 (`shared/research/wire-formats.md` §3): the videos of a movie or a series,
//! and [`youtube_trailers`], which picks and orders the YouTube trailers among them.
//!
//! Both kinds of TMDB credential work: a v3 API key (sent as `?api_key=`) or an API Read
//! Access Token (a JWT, sent as `Authorization: Bearer`). Errors never carry either: reqwest
//! errors lose their URL (which holds the `api_key`) and server text has the key masked.

#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::arr::{describe, redact, truncate};

const TIMEOUT: Duration = Duration::from_secs(30);
const BODY_MAX: usize = 8 * 1024 * 1024;

/// Why a TMDB call failed.
#[derive(Debug, thiserror::Error)]
pub enum TmdbError {
    /// 401 (code 7 invalid key, 3 no permission, 10 suspended).
    #[error("TMDB refused the API key")]
    Unauthorized,
    /// 404 (code 34 or 6): TMDB does not know this id.
    #[error("TMDB does not know this title")]
    NotFound,
    /// 429 (code 25): back off; TMDB's `Retry-After` is not to be relied on.
    #[error("TMDB rate limit reached{}", retry_hint(*retry_after_s))]
    RateLimited { retry_after_s: Option<u64> },
    #[error("TMDB answered HTTP {status}{}", colon(message))]
    Status { status: u16, message: String },
    #[error("cannot reach TMDB: {0}")]
    Network(String),
    /// A bad URL or key given to [`TmdbClient::new`], or an answer that is not TMDB's JSON.
    #[error("TMDB: {0}")]
    Invalid(String),
}

fn retry_hint(s: Option<u64>) -> String {
    s.map(|s| format!(" (retry in {s} s)")).unwrap_or_default()
}

fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// Movie or TV series (TMDB ids of the two are separate spaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TmdbKind {
    Movie,
    Tv,
}

/// One entry of a `videos` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmdbVideo {
    /// The YouTube video id when `site` is `YouTube`.
    pub key: String,
    pub name: String,
    pub site: String,
    /// `type`: `Trailer`, `Teaser`, `Clip`, `Featurette`, … (open set).
    pub kind: String,
    pub official: bool,
    /// `iso_639_1`; `None` for videos without a language.
    pub language: Option<String>,
    /// `iso_3166_1`.
    pub country: Option<String>,
    /// Vertical resolution (720, 1080, …).
    pub size: Option<u32>,
    pub published_at: Option<String>,
}

#[derive(Clone)]
enum Auth {
    /// v3 API key: `?api_key=`.
    Query(Arc<str>),
    /// Read Access Token: `Authorization: Bearer …` (marked sensitive).
    Bearer(HeaderValue),
}

/// A TMDB API client. Cheap to clone; `Debug` shows no key.
#[derive(Clone)]
pub struct TmdbClient {
    http: reqwest::Client,
    /// Ends with `/` (`https://api.themoviedb.org/3/`).
    base: Url,
    auth: Auth,
    key_text: Arc<str>,
    timeout: Duration,
}

impl fmt::Debug for TmdbClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.auth {
            Auth::Query(_) => "api_key=***",
            Auth::Bearer(_) => "Bearer ***",
        };
        f.debug_struct("TmdbClient")
            .field("api_url", &self.base.as_str())
            .field("auth", &auth)
            .finish()
    }
}

/// A Read Access Token is a JWT (`eyJ…`, a few hundred characters); a v3 key is 32 hex.
fn is_read_token(key: &str) -> bool {
    key.starts_with("eyJ") && key.len() > 40
}

impl TmdbClient {
    /// `api_url` like `https://api.themoviedb.org/3`; `api_key` a v3 key or a Read Access
    /// Token.
    pub fn new(http: reqwest::Client, api_url: &str, api_key: &str) -> Result<Self, TmdbError> {
        let invalid_url =
            || TmdbError::Invalid("the API URL is not a valid http(s) address".into());
        let mut base = Url::parse(api_url.trim()).map_err(|_| invalid_url())?;
        if !matches!(base.scheme(), "http" | "https")
            || base.host_str().is_none_or(str::is_empty)
            || base.query().is_some()
        {
            return Err(invalid_url());
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let key = api_key.trim();
        let bad_key =
            || TmdbError::Invalid("the API key contains characters that cannot be sent".into());
        if key.is_empty() {
            return Err(TmdbError::Invalid("no API key".into()));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad_key());
        }
        let auth = if is_read_token(key) {
            let mut v = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| bad_key())?;
            v.set_sensitive(true);
            Auth::Bearer(v)
        } else {
            Auth::Query(key.into())
        };
        Ok(Self {
            http,
            base,
            auth,
            key_text: key.into(),
            timeout: TIMEOUT,
        })
    }

    /// Replaces the per-request limit (30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `GET /movie/{id}/videos` or `/tv/{id}/videos`, with `language=<language>` and
    /// `include_video_language=<its ISO 639-1 part>,null,en` (so language-less and English
    /// videos come too).
    pub async fn videos(
        &self,
        kind: TmdbKind,
        id: i64,
        language: Option<&str>,
    ) -> Result<Vec<TmdbVideo>, TmdbError> {
        self.videos_in(kind, id, language.as_slice()).await
    }

    /// [`Self::videos`] for several languages, best first: `language=<the first>` and
    /// `include_video_language=<each ISO 639-1 part>,null,en`.
    pub async fn videos_in(
        &self,
        kind: TmdbKind,
        id: i64,
        languages: &[&str],
    ) -> Result<Vec<TmdbVideo>, TmdbError> {
        let noun = match kind {
            TmdbKind::Movie => "movie",
            TmdbKind::Tv => "tv",
        };
        self.videos_at(&format!("{noun}/{id}/videos"), languages)
            .await
    }

    /// The videos of one season of series `id` (`GET /tv/{id}/season/{season}/videos`, the
    /// same answer and language parameters as [`Self::videos_in`]). A season TMDB does not
    /// know is [`TmdbError::NotFound`]; one without videos is an empty list.
    pub async fn season_videos(
        &self,
        id: i64,
        season: u32,
        languages: &[&str],
    ) -> Result<Vec<TmdbVideo>, TmdbError> {
        self.videos_at(&format!("tv/{id}/season/{season}/videos"), languages)
            .await
    }

    /// A `videos` answer from `path` (under the API URL).
    async fn videos_at(&self, path: &str, languages: &[&str]) -> Result<Vec<TmdbVideo>, TmdbError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|_| TmdbError::Invalid("the API URL is not usable".into()))?;

        let languages: Vec<&str> = languages
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect();
        let language = languages.first().copied();
        let mut include: Vec<String> = Vec::new();
        let wanted = languages.iter().map(|l| primary(l));
        for code in wanted.chain(["null".into(), "en".into()]) {
            if !include.contains(&code) {
                include.push(code);
            }
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(l) = language {
                q.append_pair("language", l);
            }
            q.append_pair("include_video_language", &include.join(","));
            if let Auth::Query(key) = &self.auth {
                q.append_pair("api_key", key);
            }
        }
        let mut request = self
            .http
            .get(url)
            .timeout(self.timeout)
            .header(ACCEPT, "application/json");
        if let Auth::Bearer(v) = &self.auth {
            request = request.header(AUTHORIZATION, v.clone());
        }
        let response = request.send().await.map_err(|e| self.network(e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = self.read(response).await?;
        match status.as_u16() {
            200..=299 => {}
            401 => return Err(TmdbError::Unauthorized),
            404 => return Err(TmdbError::NotFound),
            429 => {
                return Err(TmdbError::RateLimited {
                    retry_after_s: retry_after,
                });
            }
            code => {
                return Err(TmdbError::Status {
                    status: code,
                    message: truncate(&redact(&error_message(&body, status), &self.key_text), 200),
                });
            }
        }
        let answer: VideosAnswer = serde_json::from_slice(&body).map_err(|e| {
            TmdbError::Invalid(truncate(
                &redact(&format!("unexpected answer ({e})"), &self.key_text),
                200,
            ))
        })?;
        Ok(answer
            .results
            .unwrap_or_default()
            .into_iter()
            .filter_map(video)
            .collect())
    }

    fn network(&self, e: reqwest::Error) -> TmdbError {
        TmdbError::Network(describe(e, &self.key_text))
    }

    async fn read(&self, mut response: reqwest::Response) -> Result<Vec<u8>, TmdbError> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.network(e))? {
            if body.len() + chunk.len() > BODY_MAX {
                return Err(TmdbError::Invalid("the answer is too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// `de-DE` → `de`.
fn primary(language: &str) -> String {
    language
        .split(['-', '_'])
        .next()
        .unwrap_or(language)
        .to_ascii_lowercase()
}

#[derive(Deserialize)]
struct VideosAnswer {
    results: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct VideoWire {
    key: Option<String>,
    name: Option<String>,
    site: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    official: Option<bool>,
    iso_639_1: Option<String>,
    iso_3166_1: Option<String>,
    size: Option<u32>,
    published_at: Option<String>,
}

/// One result; an entry that does not read (or has no key) is dropped, not the answer.
fn video(v: Value) -> Option<TmdbVideo> {
    let w: VideoWire = serde_json::from_value(v).ok()?;
    let key = w.key.filter(|k| !k.trim().is_empty())?;
    let some = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    Some(TmdbVideo {
        key,
        name: w.name.unwrap_or_default(),
        site: w.site.unwrap_or_default(),
        kind: w.kind.unwrap_or_default(),
        official: w.official.unwrap_or(false),
        // TMDB writes `xx` for "no language".
        language: some(w.iso_639_1).filter(|l| l != "xx"),
        country: some(w.iso_3166_1),
        size: w.size.filter(|&s| s > 0),
        published_at: some(w.published_at),
    })
}

#[derive(Deserialize)]
struct ErrorBody {
    status_message: Option<String>,
}

/// TMDB's `status_message`, else the status's name.
fn error_message(body: &[u8], status: reqwest::StatusCode) -> String {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.status_message)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or_default().to_owned())
}

/// The YouTube trailers and teasers among `videos`, best first: the requested language
/// (its ISO 639-1 part) first, then trailers before teasers, official first, larger size
/// first, newer first. Ties keep TMDB's order.
pub fn youtube_trailers<'a>(videos: &'a [TmdbVideo], language: Option<&str>) -> Vec<&'a TmdbVideo> {
    site_trailers(videos, "youtube", language)
}

/// The trailers and teasers on `site` (TMDB's `site`: `YouTube`, `Vimeo`), in the order of
/// [`youtube_trailers`]. Vimeo ones let a title still get a trailer while YouTube refuses us.
pub fn site_trailers<'a>(
    videos: &'a [TmdbVideo],
    site: &str,
    language: Option<&str>,
) -> Vec<&'a TmdbVideo> {
    site_videos(videos, site, &["Trailer", "Teaser"], language)
}

/// The videos of these TMDB `types` (`Trailer`, `Featurette`, `Behind the Scenes`…, matched
/// case-insensitively) on `site`, in the order of [`youtube_trailers`] (a trailer before any
/// other type).
pub fn site_videos<'a>(
    videos: &'a [TmdbVideo],
    site: &str,
    types: &[&str],
    language: Option<&str>,
) -> Vec<&'a TmdbVideo> {
    let wanted = language
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(primary);
    let type_rank = |v: &TmdbVideo| u8::from(!v.kind.eq_ignore_ascii_case("trailer"));
    let mut out: Vec<&TmdbVideo> = videos
        .iter()
        .filter(|v| {
            v.site.eq_ignore_ascii_case(site)
                && types.iter().any(|t| v.kind.eq_ignore_ascii_case(t))
        })
        .collect();
    out.sort_by_key(|&v| {
        let other_language = match (&wanted, &v.language) {
            (Some(w), Some(l)) => !l.eq_ignore_ascii_case(w),
            (Some(_), None) => true,
            (None, _) => false,
        };
        (
            other_language,
            type_rank(v),
            !v.official,
            Reverse(v.size),
            Reverse(v.published_at.as_deref()),
        )
    });
    out
}
