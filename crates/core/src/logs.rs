//! Logging (C11): stdout, a daily-rotated file in the data dir, and an in-memory ring of recent
//! lines that the API queries and the WebSocket tails.
//!
//! Nothing here redacts: secrets never reach a log because they are `Secret`s, which print `***`.

use crate::config::LogConfig;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt, reload};

/// Recent lines kept for the web app.
const RING_CAPACITY: usize = 5_000;
/// Field names that say what a line is about; `subject` filters match them.
const SUBJECT_FIELDS: &[&str] = &[
    "job_id",
    "task",
    "stream_id",
    "recording_id",
    "media_id",
    "channel",
];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogEntry {
    pub timestamp: Timestamp,
    pub level: String,
    /// The module that logged, e.g. `tapearr_core::jobs::runner`.
    pub module: String,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Minimum level: `error`, `warn`, `info`, `debug`, `trace`.
    pub level: Option<Level>,
    /// Module prefix.
    pub module: Option<String>,
    /// `job_id=…` style field match, or a bare value matched against every subject field.
    pub subject: Option<String>,
    pub since: Option<Timestamp>,
    pub limit: usize,
}

impl LogEntry {
    /// At `min` or more severe (`warn` is at least `info`); an unreadable level passes.
    pub fn is_at_least(&self, min: Level) -> bool {
        self.level
            .parse::<Level>()
            .map(|l| l <= min)
            .unwrap_or(true)
    }

    pub fn matches(&self, q: &LogQuery) -> bool {
        let level_ok = q.level.is_none_or(|min| self.is_at_least(min));
        let module_ok = q
            .module
            .as_deref()
            .is_none_or(|m| self.module.starts_with(m));
        let since_ok = q.since.is_none_or(|s| self.timestamp > s);
        let subject_ok = q
            .subject
            .as_deref()
            .is_none_or(|s| match s.split_once('=') {
                Some((k, v)) => self.fields.get(k).is_some_and(|x| x == v),
                None => SUBJECT_FIELDS
                    .iter()
                    .any(|k| self.fields.get(*k).is_some_and(|x| x == s)),
            });
        level_ok && module_ok && since_ok && subject_ok
    }
}

/// The ring of recent lines plus a broadcast for live tails.
pub struct LogBuffer {
    lines: Mutex<VecDeque<Arc<LogEntry>>>,
    tx: broadcast::Sender<Arc<LogEntry>>,
}

impl Default for LogBuffer {
    fn default() -> Self {
        Self {
            lines: Mutex::new(VecDeque::with_capacity(256)),
            tx: broadcast::channel(512).0,
        }
    }
}

impl LogBuffer {
    fn push(&self, entry: LogEntry) {
        let entry = Arc::new(entry);
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() == RING_CAPACITY {
                lines.pop_front();
            }
            lines.push_back(entry.clone());
        }
        let _ = self.tx.send(entry);
    }

    /// Newest last; at most `limit` lines (the newest ones).
    pub fn query(&self, q: &LogQuery) -> Vec<LogEntry> {
        let Ok(lines) = self.lines.lock() else {
            return Vec::new();
        };
        let mut out: Vec<LogEntry> = lines
            .iter()
            .rev()
            .filter(|e| e.matches(q))
            .take(q.limit.max(1))
            .map(|e| (**e).clone())
            .collect();
        out.reverse();
        out
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LogEntry>> {
        self.tx.subscribe()
    }
}

/// Copies every event that passes the filter into the buffer.
struct CaptureLayer {
    buffer: Arc<LogBuffer>,
}

#[derive(Default)]
struct FieldVisitor {
    message: String,
    fields: BTreeMap<String, String>,
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields
                .insert(field.name().to_string(), value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields
                .insert(field.name().to_string(), format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> Layer<S> for CaptureLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let meta = event.metadata();
        self.buffer.push(LogEntry {
            timestamp: Timestamp::now(),
            level: meta.level().as_str().to_lowercase(),
            module: meta.module_path().unwrap_or(meta.target()).to_string(),
            message: visitor.message,
            fields: visitor.fields,
        });
    }
}

/// Keeps the file writer flushing; drop it last.
pub struct LogGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the global subscriber. Returns the buffer for the API and a guard to keep alive.
pub fn init(config: &LogConfig, logs_dir: &Path) -> Result<(Arc<LogBuffer>, LogGuard), String> {
    let buffer = Arc::new(LogBuffer::default());
    let filter = EnvFilter::try_new(&config.level).map_err(|e| e.to_string())?;
    let (filter, level_handle) = reload::Layer::new(filter);
    let stdout = if config.format == "json" {
        fmt::layer().json().boxed()
    } else {
        fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .boxed()
    };
    let (file_layer, guard) = if config.file {
        std::fs::create_dir_all(logs_dir).map_err(|e| format!("{}: {e}", logs_dir.display()))?;
        let appender = tracing_appender::rolling::RollingFileAppender::builder()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("tapearr")
            .filename_suffix("log")
            .max_log_files(config.max_files.max(1))
            .build(logs_dir)
            .map_err(|e| e.to_string())?;
        let (writer, guard) = tracing_appender::non_blocking(appender);
        (
            Some(fmt::layer().with_ansi(false).with_writer(writer)),
            Some(guard),
        )
    } else {
        (None, None)
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(file_layer)
        .with(CaptureLayer {
            buffer: buffer.clone(),
        })
        .try_init()
        .map_err(|e| e.to_string())?;
    let _ = LEVEL.set(level_handle);
    Ok((buffer, LogGuard { _file: guard }))
}

/// The installed subscriber's filter, changed by the `log.level` setting without a restart.
static LEVEL: std::sync::OnceLock<reload::Handle<EnvFilter, tracing_subscriber::Registry>> =
    std::sync::OnceLock::new();

/// Replaces the running filter (a no-op where [`init`] did not install the subscriber).
pub fn set_level(filter: &str) -> Result<(), String> {
    let filter = EnvFilter::try_new(filter).map_err(|e| e.to_string())?;
    match LEVEL.get() {
        Some(handle) => handle.reload(filter).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// A plain stderr subscriber for short-lived admin commands.
pub fn stderr_subscriber(filter: &str) -> impl Subscriber + Send + Sync {
    tracing_subscriber::registry()
        .with(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn")))
        .with(fmt::layer().with_writer(std::io::stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(level: &str, module: &str, fields: &[(&str, &str)]) -> LogEntry {
        LogEntry {
            timestamp: Timestamp(10),
            level: level.into(),
            module: module.into(),
            message: "m".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn query_filters_by_level_module_and_subject() {
        let buffer = LogBuffer::default();
        buffer.push(entry("debug", "tapearr_core::jobs", &[("job_id", "j1")]));
        buffer.push(entry("warn", "tapearr_core::jobs", &[("job_id", "j2")]));
        buffer.push(entry("error", "tapearr_api", &[]));
        let q = |level: Option<Level>, module: Option<&str>, subject: Option<&str>| LogQuery {
            level,
            module: module.map(String::from),
            subject: subject.map(String::from),
            since: None,
            limit: 100,
        };
        assert_eq!(buffer.query(&q(Some(Level::WARN), None, None)).len(), 2);
        assert_eq!(buffer.query(&q(None, Some("tapearr_core"), None)).len(), 2);
        assert_eq!(buffer.query(&q(None, None, Some("j1"))).len(), 1);
        assert_eq!(buffer.query(&q(None, None, Some("job_id=j2"))).len(), 1);
        assert_eq!(buffer.query(&q(None, None, Some("job_id=j3"))).len(), 0);
    }
}
