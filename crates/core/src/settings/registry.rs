//! The settings a user changes in the app: one declared list, each with its type, validation,
//! secrecy and whether a change applies at once or after a restart.

use crate::config::Config;
use crate::secret::Secret;
use serde_json::Value;
use std::path::PathBuf;
use url::Url;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    Text,
    /// Write-only: shown as set or unset, sealed at rest.
    Secret,
    /// An http(s) URL, or `null` for none.
    Url,
    /// An http(s) URL that yt-dlp takes inside an extractor argument, or `null` for none: it
    /// must not hold `,` or `;`, which separate those arguments.
    ExtractorArgUrl,
    /// A list of absolute paths of existing directories.
    Folders,
    /// A whole number of seconds, 1 or more.
    Seconds,
    /// A number of GiB, 0 or more.
    Gib,
    /// A tracing filter such as `info` or `tapearr_core=debug,info`.
    LogFilter,
    /// A proxy URL (`http`, `https`, `socks5`, `socks5h`), write-only like a secret: it may
    /// hold a password.
    Proxy,
    /// Proxy URLs separated by commas, write-only like a secret.
    ProxyList,
}

#[derive(Debug)]
pub struct SettingDef {
    /// The dotted configuration key (`TAPEARR_` + upper case with `__` for environment).
    pub key: &'static str,
    pub kind: SettingKind,
    /// A change is used at once; otherwise after the next start.
    pub live: bool,
    pub help: &'static str,
}

impl SettingDef {
    pub fn secret(&self) -> bool {
        matches!(
            self.kind,
            SettingKind::Secret | SettingKind::Proxy | SettingKind::ProxyList
        )
    }

    /// The environment variable that sets it.
    pub fn env_name(&self) -> String {
        format!(
            "{}{}",
            crate::config::ENV_PREFIX,
            self.key.replace('.', "__").to_uppercase()
        )
    }
}

pub const SETTINGS: &[SettingDef] = &[
    SettingDef {
        key: "twitch.client_id",
        kind: SettingKind::Text,
        live: true,
        help: "Client ID of your application at dev.twitch.tv/console",
    },
    SettingDef {
        key: "twitch.client_secret",
        kind: SettingKind::Secret,
        live: true,
        help: "Client secret of that application",
    },
    SettingDef {
        key: "twitch.poll_secs",
        kind: SettingKind::Seconds,
        live: true,
        help: "How often Twitch is asked which channels are live",
    },
    SettingDef {
        key: "library_roots",
        kind: SettingKind::Folders,
        live: true,
        help: "Folders Tapearr may write recordings and trailers into",
    },
    SettingDef {
        key: "disk.low_free_gb",
        kind: SettingKind::Gib,
        live: true,
        help: "Below this much free space (GiB) recordings stop and a warning is raised",
    },
    SettingDef {
        key: "tmdb.api_key",
        kind: SettingKind::Secret,
        live: true,
        help: "TMDB API key: official trailers are found first",
    },
    SettingDef {
        key: "trailers.proxy",
        kind: SettingKind::Proxy,
        live: true,
        help: "Proxy for yt-dlp's searches and downloads (http://user:pass@host:port or socks5://…)",
    },
    SettingDef {
        key: "trailers.po_token_provider_url",
        kind: SettingKind::ExtractorArgUrl,
        live: true,
        help: "A bgutil PO-token provider for YouTube (e.g. http://127.0.0.1:4416); off when empty",
    },
    SettingDef {
        key: "twitch.playlist_proxies",
        kind: SettingKind::ProxyList,
        live: false,
        help: "Proxies for the playlist requests of the channels that opt in, comma separated",
    },
    SettingDef {
        key: "public_url",
        kind: SettingKind::Url,
        live: true,
        help: "The HTTPS address the internet reaches this server at (enables Twitch webhooks)",
    },
    SettingDef {
        key: "log.level",
        kind: SettingKind::LogFilter,
        live: true,
        help: "Log filter: info, debug, tapearr_core=debug,info …",
    },
];

pub fn find(key: &str) -> Option<&'static SettingDef> {
    SETTINGS.iter().find(|d| d.key == key)
}

/// Why a submitted value was refused; the caller names the key. Messages never repeat a proxy
/// URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// Not the JSON type the kind takes; says what it must be.
    #[error("must be {0}")]
    WrongType(&'static str),
    #[error("must be one line of at most 200 characters")]
    TextTooLong,
    #[error("must be one line of 1 to 500 characters (null clears it)")]
    BadSecret,
    #[error("is not a URL: {0}")]
    NotAUrl(String),
    #[error("must be an http(s) URL with a host")]
    NotHttpUrl,
    #[error("must be an http(s) URL without `,` or `;`")]
    ArgumentSeparator,
    #[error("{0} is not an absolute path")]
    RelativeFolder(String),
    #[error("{0} must not contain `..`")]
    DottedFolder(String),
    #[error("{0} is not an existing folder")]
    MissingFolder(String),
    #[error("must be between 1 and 86400 seconds")]
    SecondsOutOfRange,
    #[error("must be a number of GiB, 0 or more")]
    GibOutOfRange,
    #[error("is not a proxy URL")]
    NotAProxyUrl,
    #[error("must be an http, https, socks5 or socks5h URL with a host")]
    ProxyScheme,
    #[error("must be a proxy address without a path")]
    ProxyPath,
    #[error("must name at least one proxy (null clears it)")]
    NoProxy,
    #[error("must not be empty")]
    Empty,
    /// The tracing filter's own words.
    #[error("{0}")]
    LogFilter(String),
}

impl ValueError {
    /// A stable name for the refusal, whatever the message says.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongType(_) => "wrong_type",
            Self::TextTooLong => "text_too_long",
            Self::BadSecret => "bad_secret",
            Self::NotAUrl(_) => "not_a_url",
            Self::NotHttpUrl => "not_http_url",
            Self::ArgumentSeparator => "argument_separator",
            Self::RelativeFolder(_) => "relative_folder",
            Self::DottedFolder(_) => "dotted_folder",
            Self::MissingFolder(_) => "missing_folder",
            Self::SecondsOutOfRange => "seconds_out_of_range",
            Self::GibOutOfRange => "gib_out_of_range",
            Self::NotAProxyUrl => "not_a_proxy_url",
            Self::ProxyScheme => "proxy_scheme",
            Self::ProxyPath => "proxy_path",
            Self::NoProxy => "no_proxy",
            Self::Empty => "empty",
            Self::LogFilter(_) => "log_filter",
        }
    }
}

use ValueError::WrongType;

/// Checks a submitted value and returns it in the form it is stored and applied in.
pub fn validate(def: &SettingDef, value: &Value) -> Result<Value, ValueError> {
    let text = |what| value.as_str().ok_or(WrongType(what));
    match def.kind {
        SettingKind::Text => {
            let s = text("a string")?.trim();
            if s.chars().any(char::is_control) || s.len() > 200 {
                return Err(ValueError::TextTooLong);
            }
            Ok(Value::String(s.to_string()))
        }
        SettingKind::Secret => {
            let s = text("a string")?.trim();
            if s.is_empty() || s.chars().any(char::is_control) || s.len() > 500 {
                return Err(ValueError::BadSecret);
            }
            Ok(Value::String(s.to_string()))
        }
        SettingKind::Url => http_url(text("a URL string or null")?),
        SettingKind::ExtractorArgUrl => {
            let s = text("a URL string or null")?;
            if s.contains([',', ';']) {
                return Err(ValueError::ArgumentSeparator);
            }
            http_url(s)
        }
        SettingKind::Folders => {
            let list = value.as_array().ok_or(WrongType("a list of folders"))?;
            let mut out: Vec<Value> = Vec::new();
            for item in list {
                let s = item.as_str().ok_or(WrongType("a list of folder paths"))?;
                let path = PathBuf::from(s.trim());
                if !path.is_absolute() {
                    return Err(ValueError::RelativeFolder(s.to_string()));
                }
                if path
                    .components()
                    .any(|c| c == std::path::Component::ParentDir)
                {
                    return Err(ValueError::DottedFolder(s.to_string()));
                }
                if !path.is_dir() {
                    return Err(ValueError::MissingFolder(s.to_string()));
                }
                let text = Value::String(path.display().to_string());
                if !out.contains(&text) {
                    out.push(text);
                }
            }
            Ok(Value::Array(out))
        }
        SettingKind::Seconds => {
            let n = value
                .as_u64()
                .ok_or(WrongType("a whole number of seconds"))?;
            if !(1..=86_400).contains(&n) {
                return Err(ValueError::SecondsOutOfRange);
            }
            Ok(Value::from(n))
        }
        SettingKind::Gib => {
            let n = value.as_f64().ok_or(WrongType("a number of GiB"))?;
            if !(n.is_finite() && (0.0..=1_000_000.0).contains(&n)) {
                return Err(ValueError::GibOutOfRange);
            }
            Ok(Value::from(n))
        }
        SettingKind::Proxy => proxy_url(text("a proxy URL string")?).map(Value::String),
        SettingKind::ProxyList => {
            let urls = text("proxy URLs separated by commas")?
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(proxy_url)
                .collect::<Result<Vec<_>, _>>()?;
            if urls.is_empty() {
                return Err(ValueError::NoProxy);
            }
            Ok(Value::String(urls.join(",")))
        }
        SettingKind::LogFilter => {
            let s = text("a string")?.trim();
            if s.is_empty() {
                return Err(ValueError::Empty);
            }
            tracing_subscriber::EnvFilter::try_new(s)
                .map_err(|e| ValueError::LogFilter(e.to_string()))?;
            Ok(Value::String(s.to_string()))
        }
    }
}

/// An http(s) URL with a host, as stored.
fn http_url(text: &str) -> Result<Value, ValueError> {
    let url = Url::parse(text.trim()).map_err(|e| ValueError::NotAUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ValueError::NotHttpUrl);
    }
    Ok(Value::String(url.to_string()))
}

/// A proxy URL as yt-dlp and reqwest take it; the refusal never repeats the URL (it may hold a
/// password).
fn proxy_url(text: &str) -> Result<String, ValueError> {
    let url = Url::parse(text.trim()).map_err(|_| ValueError::NotAProxyUrl)?;
    if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") || url.host_str().is_none()
    {
        return Err(ValueError::ProxyScheme);
    }
    if url.path() != "/" && !url.path().is_empty() || url.query().is_some() {
        return Err(ValueError::ProxyPath);
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Puts a validated value into `config`.
pub fn apply(config: &mut Config, key: &str, value: &Value) {
    let text = || value.as_str().unwrap_or_default().to_string();
    match key {
        "twitch.client_id" => config.twitch.client_id = text(),
        "twitch.client_secret" => config.twitch.client_secret = Secret::new(text()),
        "twitch.poll_secs" => config.twitch.poll_secs = value.as_u64().unwrap_or(30).max(1),
        "library_roots" => {
            config.library_roots = value
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default()
        }
        "disk.low_free_gb" => config.disk.low_free_gb = value.as_f64().unwrap_or(0.0),
        "tmdb.api_key" => config.tmdb.api_key = Secret::new(text()),
        "public_url" => config.public_url = value.as_str().and_then(|s| Url::parse(s).ok()),
        "log.level" => config.log.level = text(),
        "trailers.proxy" => config.trailers.proxy = Secret::new(text()),
        "trailers.po_token_provider_url" => {
            config.trailers.po_token_provider_url = value
                .as_str()
                .map(|u| u.trim_end_matches('/').to_string())
                .filter(|u| !u.is_empty())
        }
        "twitch.playlist_proxies" => config.twitch.playlist_proxies = text(),
        _ => {}
    }
}

/// What `config` holds for `key`, as shown (secrets: whether one is set).
pub fn shown(config: &Config, def: &SettingDef) -> (Value, bool) {
    let value = match def.key {
        "twitch.client_id" => Value::String(config.twitch.client_id.clone()),
        "twitch.client_secret" => return (Value::Null, !config.twitch.client_secret.is_empty()),
        "twitch.poll_secs" => Value::from(config.twitch.poll_secs),
        "library_roots" => Value::Array(
            config
                .library_roots
                .iter()
                .map(|p| Value::String(p.display().to_string()))
                .collect(),
        ),
        "disk.low_free_gb" => Value::from(config.disk.low_free_gb),
        "tmdb.api_key" => return (Value::Null, !config.tmdb.api_key.is_empty()),
        "public_url" => config
            .public_url
            .as_ref()
            .map(|u| Value::String(u.to_string()))
            .unwrap_or(Value::Null),
        "log.level" => Value::String(config.log.level.clone()),
        "trailers.proxy" => return (Value::Null, !config.trailers.proxy.is_empty()),
        "trailers.po_token_provider_url" => config
            .trailers
            .po_token_provider_url
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
        "twitch.playlist_proxies" => {
            return (
                Value::Null,
                !config.twitch.playlist_proxies.trim().is_empty(),
            );
        }
        _ => Value::Null,
    };
    let set = match &value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    };
    (value, set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(key: &str, value: Value) -> Result<Value, ValueError> {
        validate(find(key).expect("declared"), &value)
    }

    #[test]
    fn proxies_are_write_only_urls_and_refusals_never_repeat_them() {
        assert!(find("trailers.proxy").expect("declared").secret());
        assert!(find("twitch.playlist_proxies").expect("declared").secret());
        assert_eq!(
            check("trailers.proxy", json!(" http://u:hunter2@10.0.0.2:3128/ ")),
            Ok(json!("http://u:hunter2@10.0.0.2:3128"))
        );
        assert_eq!(
            check("trailers.proxy", json!("socks5h://10.0.0.2:1080")),
            Ok(json!("socks5h://10.0.0.2:1080"))
        );
        for bad in [
            "ftp://u:hunter2@h",
            "hunter2",
            "http://u:hunter2@h/path",
            "http://h?x=hunter2",
        ] {
            let e = check("trailers.proxy", json!(bad)).expect_err(bad);
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
        assert_eq!(
            check("twitch.playlist_proxies", json!("http://a:1, ,http://b:2")),
            Ok(json!("http://a:1,http://b:2"))
        );
        assert!(check("twitch.playlist_proxies", json!(" , ")).is_err());
        assert!(check("twitch.playlist_proxies", json!("http://a:1,nope")).is_err());
    }

    #[test]
    fn the_po_token_provider_is_an_http_url_without_argument_separators() {
        let key = "trailers.po_token_provider_url";
        assert_eq!(
            check(key, json!(" http://127.0.0.1:4416 ")),
            Ok(json!("http://127.0.0.1:4416/"))
        );
        let refused = check(key, json!("http://h/a,b")).expect_err("a comma");
        assert_eq!(refused, ValueError::ArgumentSeparator);
        assert_eq!(refused.code(), "argument_separator");
        assert_eq!(
            refused.to_string(),
            "must be an http(s) URL without `,` or `;`"
        );
        assert_eq!(check(key, json!("ftp://h")), Err(ValueError::NotHttpUrl));
        assert_eq!(
            check(key, json!(4416)),
            Err(ValueError::WrongType("a URL string or null"))
        );
        // Another URL setting takes them: the rule is the kind's, not the key's.
        assert!(check("public_url", json!("https://h/a,b;c")).is_ok());
    }
}
