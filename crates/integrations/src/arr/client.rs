//! [`ArrClient`]: the few `/api/v3` calls Tapearr makes to a Radarr or Sonarr, and the
//! whole-library pull read as a stream, one element at a time.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderValue};
use url::Url;

use super::error::{describe, redact, truncate};
use super::stream::{SplitError, Splitter};
use super::wire::{self, ErrorBody, RootFolderWire, SystemStatus, TagWire};
use super::{ArrError, ArrItem, ArrKind, ArrStatus, PullSummary, RootFolder, SkippedItem};

/// Whole-request limit of the small calls (status, root folders, tags).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The library pull may wait this long for the answer to start and between two chunks of
/// it (a big Arr on a slow disk takes a while to build the list).
const LIBRARY_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Overall ceiling of a library pull (replaces a shorter timeout set on the shared client).
const LIBRARY_TOTAL_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// Bodies read whole: status, root folders, tags.
const SMALL_BODY_MAX: usize = 32 * 1024 * 1024;
/// Error bodies: only the message is wanted.
const ERROR_BODY_MAX: usize = 64 * 1024;
const NOT_AN_ARR: &str = "a server that is neither Radarr nor Sonarr";

/// A Radarr or Sonarr at one address with one API key (sent as `X-Api-Key`, never in the
/// URL). Cheap to clone.
#[derive(Clone)]
pub struct ArrClient {
    http: reqwest::Client,
    kind: ArrKind,
    /// Always ends with `/`, so `join("api/v3/…")` keeps a URL base such as `/radarr`.
    base: Url,
    key: HeaderValue,
    /// For masking the key in text that comes back from elsewhere.
    key_text: Arc<str>,
    timeout: Duration,
    library_idle: Duration,
}

impl fmt::Debug for ArrClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut base = self.base.clone();
        if base.password().is_some() {
            let _ = base.set_password(Some("***"));
        }
        f.debug_struct("ArrClient")
            .field("kind", &self.kind)
            .field("base_url", &base.as_str())
            .field("api_key", &"***")
            .finish()
    }
}

/// `http://host:port[/base]` (a missing scheme means `http://`), ending with `/`.
fn parse_base(input: &str) -> Result<Url, ArrError> {
    let input = input.trim();
    let with_scheme = if input.contains("://") {
        input.to_owned()
    } else {
        format!("http://{input}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|_| ArrError::InvalidUrl)?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.query().is_none()
        && url.fragment().is_none();
    if !usable {
        return Err(ArrError::InvalidUrl);
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl ArrClient {
    /// `base_url` like `http://radarr:7878` or, with a URL base, `http://host/radarr`.
    pub fn new(
        http: reqwest::Client,
        kind: ArrKind,
        base_url: &str,
        api_key: &str,
    ) -> Result<Self, ArrError> {
        let base = parse_base(base_url)?;
        let key_text = api_key.trim();
        let mut key = HeaderValue::from_str(key_text).map_err(|_| ArrError::InvalidKey)?;
        key.set_sensitive(true);
        Ok(Self {
            http,
            kind,
            base,
            key,
            key_text: key_text.into(),
            timeout: REQUEST_TIMEOUT,
            library_idle: LIBRARY_IDLE_TIMEOUT,
        })
    }

    /// Replaces the limits: `request` for each small call, `library_idle` for the library
    /// pull's wait for its answer and between two of its chunks.
    pub fn with_timeouts(mut self, request: Duration, library_idle: Duration) -> Self {
        self.timeout = request;
        self.library_idle = library_idle;
        self
    }

    pub fn kind(&self) -> ArrKind {
        self.kind
    }

    /// The base URL as used (with a trailing `/`).
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// `GET /api/v3/system/status`, checking that the app is the expected one.
    pub async fn status(&self) -> Result<ArrStatus, ArrError> {
        let response = self.send("api/v3/system/status", self.timeout).await?;
        let body = self.read(response, SMALL_BODY_MAX).await?;
        let expected = self.kind.app_name();
        let wrong = |found: String| ArrError::WrongApp { expected, found };
        let status: SystemStatus =
            serde_json::from_slice(&body).map_err(|_| wrong(NOT_AN_ARR.into()))?;
        let app = status.app_name.unwrap_or_default();
        if !app.trim().eq_ignore_ascii_case(expected) {
            return Err(wrong(if app.trim().is_empty() {
                NOT_AN_ARR.into()
            } else {
                truncate(&redact(&app, &self.key_text), 60)
            }));
        }
        Ok(ArrStatus {
            app_name: app,
            version: status.version.unwrap_or_default(),
            instance_name: status.instance_name.filter(|n| !n.trim().is_empty()),
        })
    }

    /// `GET /api/v3/rootfolder` (folders without a path are left out).
    pub async fn root_folders(&self) -> Result<Vec<RootFolder>, ArrError> {
        let folders: Vec<RootFolderWire> = self.get_json("api/v3/rootfolder").await?;
        Ok(folders
            .into_iter()
            .filter_map(|f| {
                Some(RootFolder {
                    path: f.path.filter(|p| !p.trim().is_empty())?,
                    free_space: f.free_space,
                    accessible: f.accessible.unwrap_or(false),
                })
            })
            .collect())
    }

    /// `GET /api/v3/tag`: `(id, label)`.
    pub async fn tags(&self) -> Result<Vec<(i64, String)>, ArrError> {
        let tags: Vec<TagWire> = self.get_json("api/v3/tag").await?;
        Ok(tags
            .into_iter()
            .map(|t| (t.id, t.label.unwrap_or_default()))
            .collect())
    }

    /// `GET /api/v3/movie` (Radarr) or `/api/v3/series` (Sonarr), read as a stream: each
    /// array element is parsed on its own as it arrives and handed to `on_item`, so memory
    /// stays at one element whatever the library's size. An element that is well-formed JSON
    /// but not a usable item comes as `Err(SkippedItem)` and the pull goes on. `Err` from
    /// this function (a body cut short, a broken connection, no array, an error status)
    /// means the list is not whole: the caller must not treat missing items as deleted.
    pub async fn library(
        &self,
        mut on_item: impl FnMut(Result<ArrItem, SkippedItem>) + Send,
    ) -> Result<PullSummary, ArrError> {
        let path = match self.kind {
            ArrKind::Radarr => "api/v3/movie",
            ArrKind::Sonarr => "api/v3/series",
        };
        let request = self.send(path, LIBRARY_TOTAL_TIMEOUT);
        let mut response = tokio::time::timeout(self.library_idle, request)
            .await
            .map_err(|_| ArrError::Network("timed out".into()))??;
        let mut pull = Pull::new(self.kind, &self.base);
        loop {
            let chunk = match tokio::time::timeout(self.library_idle, response.chunk()).await {
                Err(_) => {
                    return Err(ArrError::Incomplete(format!(
                        "no data for {} s after {} items",
                        self.library_idle.as_secs(),
                        pull.index
                    )));
                }
                Ok(Err(e)) => {
                    return Err(ArrError::Incomplete(format!(
                        "the connection broke after {} items ({})",
                        pull.index,
                        describe(e, &self.key_text)
                    )));
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            pull.feed(&chunk, &mut on_item)?;
        }
        pull.finish()
    }

    fn request(&self, path: &str) -> Result<reqwest::RequestBuilder, ArrError> {
        let url = self.base.join(path).map_err(|_| ArrError::InvalidUrl)?;
        Ok(self
            .http
            .get(url)
            .header("X-Api-Key", self.key.clone())
            .header(ACCEPT, "application/json"))
    }

    /// Sends `GET path`; a non-2xx answer becomes its error.
    async fn send(&self, path: &str, timeout: Duration) -> Result<reqwest::Response, ArrError> {
        let response = self
            .request(path)?
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| ArrError::Network(describe(e, &self.key_text)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ArrError::Unauthorized);
        }
        if status.is_redirection() {
            // Not followed to another host: the key would go with it.
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| Url::parse(l).ok())
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| "another address".into());
            return Err(ArrError::Status {
                status: status.as_u16(),
                message: format!("it redirects to {to}; enter the address it redirects to"),
            });
        }
        let body = self
            .read(response, ERROR_BODY_MAX)
            .await
            .unwrap_or_default();
        Err(ArrError::Status {
            status: status.as_u16(),
            message: truncate(&redact(&error_message(&body, status), &self.key_text), 200),
        })
    }

    /// The body, up to `max` bytes (more is an error, not a silent cut).
    async fn read(&self, mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, ArrError> {
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > max => {
                    return Err(ArrError::Incomplete(format!(
                        "the answer is larger than {} MiB",
                        max / (1024 * 1024)
                    )));
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => return Ok(body),
                Err(e) => {
                    return Err(ArrError::Incomplete(format!(
                        "the connection broke ({})",
                        describe(e, &self.key_text)
                    )));
                }
            }
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ArrError> {
        let response = self.send(path, self.timeout).await?;
        let body = self.read(response, SMALL_BODY_MAX).await?;
        serde_json::from_slice(&body).map_err(|e| {
            ArrError::Incomplete(truncate(
                &redact(&format!("not the expected JSON ({e})"), &self.key_text),
                200,
            ))
        })
    }
}

/// The Arrs' `{"message": …}`, else a short plain-text body, else the status's name.
fn error_message(body: &[u8], status: reqwest::StatusCode) -> String {
    if let Ok(ErrorBody {
        message: Some(message),
    }) = serde_json::from_slice(body)
        && !message.trim().is_empty()
    {
        return message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if !text.is_empty() && !text.starts_with('<') && !text.starts_with('{') && text.len() <= 200 {
        return text.to_owned();
    }
    status.canonical_reason().unwrap_or_default().to_owned()
}

/// A library list being read: the splitter plus the count of elements seen.
pub(crate) struct Pull<'a> {
    kind: ArrKind,
    base: &'a Url,
    splitter: Splitter,
    /// Elements seen so far (items and skipped).
    pub index: usize,
    summary: PullSummary,
}

impl<'a> Pull<'a> {
    pub fn new(kind: ArrKind, base: &'a Url) -> Self {
        Self {
            kind,
            base,
            splitter: Splitter::new(),
            index: 0,
            summary: PullSummary::default(),
        }
    }

    pub fn feed(
        &mut self,
        chunk: &[u8],
        on_item: &mut impl FnMut(Result<ArrItem, SkippedItem>),
    ) -> Result<(), ArrError> {
        let Self {
            kind,
            base,
            splitter,
            index,
            summary,
        } = self;
        let fed = splitter.feed(chunk, &mut |raw: &[u8]| -> Result<(), FeedError> {
            let item = wire::parse_item(raw, *index, *kind, base).map_err(|e| {
                FeedError::Arr(ArrError::Incomplete(format!(
                    "item {} is not valid JSON ({e})",
                    *index + 1
                )))
            })?;
            *index += 1;
            match &item {
                Ok(_) => summary.items += 1,
                Err(_) => summary.skipped += 1,
            }
            on_item(item);
            Ok(())
        });
        match fed {
            Ok(()) => Ok(()),
            Err(FeedError::Arr(e)) => Err(e),
            Err(FeedError::Split(e)) => Err(split_error(e, self.index)),
        }
    }

    pub fn finish(self) -> Result<PullSummary, ArrError> {
        self.splitter
            .finish()
            .map_err(|e| split_error(e, self.index))?;
        Ok(self.summary)
    }
}

enum FeedError {
    Split(SplitError),
    Arr(ArrError),
}

impl From<SplitError> for FeedError {
    fn from(e: SplitError) -> Self {
        FeedError::Split(e)
    }
}

fn split_error(e: SplitError, items: usize) -> ArrError {
    ArrError::Incomplete(match e {
        SplitError::NotAnArray(None) => "the answer is empty, not a list".into(),
        SplitError::NotAnArray(Some(b)) if b.is_ascii_graphic() => {
            format!("the answer is not a list (it starts with `{}`)", b as char)
        }
        SplitError::NotAnArray(Some(b)) => {
            format!("the answer is not a list (it starts with byte 0x{b:02x})")
        }
        SplitError::Syntax(what) => format!("the list is broken after {items} items: {what}"),
        SplitError::TooLarge => format!(
            "item {} is larger than {} MiB",
            items + 1,
            super::stream::MAX_ELEMENT / (1024 * 1024)
        ),
        SplitError::Unfinished => {
            format!("the list ended before its closing `]`, after {items} items")
        }
    })
}
