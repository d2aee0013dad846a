//! Reads a channel's chat while it is recorded and appends it to the recording's parts folder.
//!
//! Anonymous and read-only (`justinfan` login). Answers `PING`, reconnects at once on
//! `RECONNECT` and with backoff after a drop; a server silent for [`IDLE`] is treated as gone.
//! Each frame's lines are written and flushed before the next frame is read, so a kill loses at
//! most the frame in flight; a restart appends to the same file.

use super::irc::IrcLine;
use super::record::{ChatClear, ChatEntry, ChatLine};
use super::socket;
use crate::time::Timestamp;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use url::Url;

/// Twitch pings about every five minutes: this much silence means the connection is dead.
const IDLE: Duration = Duration::from_secs(330);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longer messages are cut (Twitch allows 500 characters; a broken server may send more).
const MAX_TEXT_CHARS: usize = 2_000;

/// What to capture and where.
#[derive(Debug, Clone)]
pub struct Capture {
    pub url: Url,
    pub login: String,
    pub file: PathBuf,
    /// The recording's start: `ms` counts from here.
    pub started_at: Timestamp,
}

/// How one connection ended.
enum End {
    Stopped,
    /// The server asked for it (`RECONNECT`): at once.
    Reconnect,
    /// Dropped, refused or silent: after a backoff.
    Lost(String),
}

/// Captures until `stop` is cancelled.
pub async fn run(capture: Capture, stop: CancellationToken) {
    let mut failures = 0u32;
    loop {
        // The session sees the stop between frames, so a frame being written is never cut off
        // (whoever awaits this task knows the file is complete).
        let end = session(&capture, &stop, &mut failures).await;
        match end {
            End::Stopped => return,
            End::Reconnect => {
                tracing::info!(channel = %capture.login, "chat asked to reconnect");
            }
            End::Lost(why) => {
                failures += 1;
                let delay = Duration::from_millis(500 * 2u64.pow(failures.min(6)))
                    .min(Duration::from_secs(30));
                tracing::warn!(channel = %capture.login, error = %why, retry_in_ms = delay.as_millis() as u64, "chat connection lost");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.cancelled() => return,
                }
            }
        }
    }
}

async fn session(capture: &Capture, stop: &CancellationToken, failures: &mut u32) -> End {
    let connect = tokio::time::timeout(CONNECT_TIMEOUT, socket::connect(&capture.url));
    let mut socket = tokio::select! {
        connected = connect => match connected {
            Ok(Ok(socket)) => socket,
            Ok(Err(e)) => return End::Lost(e),
            Err(_) => return End::Lost("connect timed out".into()),
        },
        _ = stop.cancelled() => return End::Stopped,
    };
    let nick = format!("justinfan{}", rand::thread_rng().gen_range(10_000..99_999));
    let login = capture.login.to_lowercase();
    for line in [
        "CAP REQ :twitch.tv/tags twitch.tv/commands".to_string(),
        "PASS SCHMOOPIIE".to_string(),
        format!("NICK {nick}"),
        format!("JOIN #{login}"),
    ] {
        if let Err(e) = socket.send(Message::text(line)).await {
            return End::Lost(e.to_string());
        }
    }
    let mut file = match open_for_append(capture).await {
        Ok(file) => file,
        Err(e) => return End::Lost(format!("cannot open {}: {e}", capture.file.display())),
    };
    loop {
        let frame = tokio::select! {
            frame = tokio::time::timeout(IDLE, socket.next()) => frame,
            _ = stop.cancelled() => {
                let _ = socket.close(None).await;
                return End::Stopped;
            }
        };
        let text = match frame {
            Err(_) => return End::Lost("the chat server went silent".into()),
            Ok(None) => return End::Lost("the chat server closed the connection".into()),
            Ok(Some(Err(e))) => return End::Lost(e.to_string()),
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(Message::Close(_)))) => {
                return End::Lost("the chat server closed the connection".into());
            }
            Ok(Some(Ok(_))) => continue,
        };
        let mut out = String::new();
        for raw in text.as_str().split('\n') {
            let Some(line) = IrcLine::parse(raw) else {
                continue;
            };
            match line.command {
                "PING" => {
                    let pong = format!("PONG :{}", line.trailing.unwrap_or("tmi.twitch.tv"));
                    if let Err(e) = socket.send(Message::text(pong)).await {
                        return End::Lost(e.to_string());
                    }
                }
                "RECONNECT" => {
                    flush(&mut file, &out).await;
                    return End::Reconnect;
                }
                "NOTICE"
                    if line
                        .trailing
                        .is_some_and(|t| t.contains("authentication failed")) =>
                {
                    return End::Lost("the chat server refused the anonymous login".into());
                }
                // Joined: the connection works, so the next drop starts the backoff afresh.
                "366" => *failures = 0,
                "PRIVMSG" if line.channel() == Some(&login) => {
                    if let Some(entry) = message(&line, capture.started_at) {
                        out.push_str(&entry.to_line());
                    }
                }
                "CLEARMSG" | "CLEARCHAT" if line.channel() == Some(&login) => {
                    out.push_str(&clear(&line, capture.started_at).to_line());
                }
                _ => {}
            }
        }
        if let Err(e) = write(&mut file, &out).await {
            return End::Lost(format!("cannot write {}: {e}", capture.file.display()));
        }
    }
}

/// Opens the chat file for appending; a line torn by a kill is ended first so the next one
/// stays whole.
async fn open_for_append(capture: &Capture) -> std::io::Result<tokio::fs::File> {
    // The recorder may not have made the parts folder yet.
    if let Some(dir) = capture.file.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let torn = match tokio::fs::read(&capture.file).await {
        Ok(bytes) => bytes.last().is_some_and(|b| *b != b'\n'),
        Err(_) => false,
    };
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&capture.file)
        .await?;
    if torn {
        file.write_all(b"\n").await?;
    }
    Ok(file)
}

async fn write(file: &mut tokio::fs::File, text: &str) -> std::io::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    file.write_all(text.as_bytes()).await?;
    file.flush().await
}

async fn flush(file: &mut tokio::fs::File, text: &str) {
    let _ = write(file, text).await;
}

/// When Twitch relayed the line, else now.
fn sent_at(line: &IrcLine<'_>) -> i64 {
    line.tag("tmi-sent-ts")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| Timestamp::now().millis())
}

fn offset(ts: i64, started_at: Timestamp) -> u64 {
    u64::try_from(ts.saturating_sub(started_at.millis())).unwrap_or(0)
}

fn message(line: &IrcLine<'_>, started_at: Timestamp) -> Option<ChatEntry> {
    let text = line.trailing?;
    let user = line
        .tag("login")
        .or_else(|| line.nick().map(str::to_string))?;
    let ts = sent_at(line);
    let mut text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT_CHARS)
        .collect();
    // `/me` arrives as a CTCP ACTION.
    if let Some(action) = text.strip_prefix("ACTION ") {
        text = action.to_string();
    }
    Some(ChatEntry::Message(ChatLine {
        ms: offset(ts, started_at),
        ts,
        id: line.tag("id").unwrap_or_default(),
        name: line.tag("display-name").unwrap_or_else(|| user.clone()),
        user,
        color: line.tag("color").unwrap_or_default(),
        text,
        emotes: line.tag("emotes").unwrap_or_default(),
    }))
}

fn clear(line: &IrcLine<'_>, started_at: Timestamp) -> ChatEntry {
    let ts = sent_at(line);
    let clear = match (line.command, line.tag("target-msg-id"), line.trailing) {
        ("CLEARMSG", Some(id), _) => format!("msg:{id}"),
        ("CLEARCHAT", _, Some(user)) => format!("user:{}", user.trim().to_lowercase()),
        _ => "all".to_string(),
    };
    ChatEntry::Clear(ChatClear {
        ms: offset(ts, started_at),
        ts,
        clear,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_privmsg_becomes_a_line_relative_to_the_recording() {
        let raw = "@color=#FF0000;display-name=Foo;emotes=25:0-4;id=m1;tmi-sent-ts=1000500 :foo!foo@foo.tmi.twitch.tv PRIVMSG #chan :Kappa \u{1}hi";
        let line = IrcLine::parse(raw).expect("parses");
        let Some(ChatEntry::Message(m)) = message(&line, Timestamp(1_000_000)) else {
            panic!("a message");
        };
        assert_eq!((m.ms, m.ts, m.id.as_str()), (500, 1_000_500, "m1"));
        assert_eq!(
            (m.user.as_str(), m.name.as_str(), m.text.as_str()),
            ("foo", "Foo", "Kappa hi")
        );
        assert_eq!((m.color.as_str(), m.emotes.as_str()), ("#FF0000", "25:0-4"));
        // Sent before the recording started: at its start.
        let early = IrcLine::parse("@tmi-sent-ts=5 :a!a@a PRIVMSG #chan :x").expect("parses");
        assert!(
            matches!(message(&early, Timestamp(1_000)), Some(ChatEntry::Message(m)) if m.ms == 0)
        );
    }

    #[test]
    fn moderation_lines_name_what_they_remove() {
        let at = Timestamp(0);
        let one = IrcLine::parse(
            "@login=foo;target-msg-id=m1;tmi-sent-ts=9 :tmi.twitch.tv CLEARMSG #chan :bad",
        )
        .expect("clearmsg");
        let user = IrcLine::parse("@tmi-sent-ts=9 :tmi.twitch.tv CLEARCHAT #chan :Foo")
            .expect("clearchat");
        let all =
            IrcLine::parse("@tmi-sent-ts=9 :tmi.twitch.tv CLEARCHAT #chan").expect("clearchat");
        let what = |l| match clear(&l, at) {
            ChatEntry::Clear(c) => c.clear,
            ChatEntry::Message(_) => String::new(),
        };
        assert_eq!(what(one), "msg:m1");
        assert_eq!(what(user), "user:foo");
        assert_eq!(what(all), "all");
    }
}
