//! A supervisor for child processes (ffmpeg, ffprobe, yt-dlp, streamlink, apprise).
//!
//! Each child runs in its own process group so that stopping it also stops what it
//! spawned (yt-dlp runs ffmpeg). Both pipes are drained concurrently in one task,
//! so a child filling stderr can never block on a full pipe while we wait on stdout.
//! A timeout or a cancellation first asks politely (SIGINT to the group, or `q` on
//! stdin for ffmpeg), then sends SIGKILL to the group after a grace period.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::ProcessError;
use super::lines::{LineSplitter, Tail};

/// How long to keep reading pipes after the child exited, in case a grandchild
/// that left our process group still holds them open.
const POST_EXIT_DRAIN: Duration = Duration::from_secs(2);
/// Longest command line shown in errors and logs.
const SHOWN_COMMAND_CHARS: usize = 300;

/// How to ask a child to stop before killing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GracefulStop {
    /// SIGINT to the whole process group.
    #[default]
    Interrupt,
    /// Write `q` to the child's stdin (ffmpeg finishes the file cleanly); stdin is
    /// piped for this. Falls back to SIGINT if the write fails.
    Quit,
}

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What a successful run produced.
#[derive(Debug, Clone, Default)]
pub struct ProcessOutput {
    /// Captured stdout (only with [`Process::capture_stdout`]), lossy UTF-8.
    pub stdout: String,
    /// The last lines of stderr, secrets masked.
    pub stderr_tail: String,
    /// How long it ran.
    pub elapsed: Duration,
}

#[derive(Clone)]
struct Arg {
    value: OsString,
    secret: bool,
}

/// Masks secret values, so `{:?}` of a [`Process`] is safe to log.
impl std::fmt::Debug for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.secret {
            f.write_str("***")
        } else {
            self.value.fmt(f)
        }
    }
}

/// A command to run under supervision; build it, then [`run`](Self::run) it.
///
/// Its `Debug` shows secret arguments as `***` and environment keys only (values
/// are a common place for tokens).
#[derive(Clone)]
pub struct Process {
    program: OsString,
    args: Vec<Arg>,
    envs: Vec<(OsString, OsString)>,
    current_dir: Option<PathBuf>,
    timeout: Option<Duration>,
    grace: Duration,
    stop: GracefulStop,
    install_hint: Option<String>,
    capture_stdout: usize,
    tail_lines: usize,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("program", &self.program)
            .field("args", &self.args)
            .field(
                "env_keys",
                &self.envs.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("current_dir", &self.current_dir)
            .field("timeout", &self.timeout)
            .field("grace", &self.grace)
            .field("stop", &self.stop)
            .finish_non_exhaustive()
    }
}

enum StopReason {
    TimedOut,
    Cancelled,
}

impl Process {
    /// A command for `program` (a name looked up in PATH, or a path).
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            current_dir: None,
            timeout: None,
            grace: Duration::from_secs(10),
            stop: GracefulStop::Interrupt,
            install_hint: None,
            capture_stdout: 0,
            tail_lines: 40,
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(Arg {
            value: arg.as_ref().to_owned(),
            secret: false,
        });
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    /// Adds an argument shown as `***` in errors and logs; its value is also masked
    /// in the stderr tail and in the lines passed to the line callback.
    pub fn secret_arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(Arg {
            value: arg.as_ref().to_owned(),
            secret: true,
        });
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the child in `dir`.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Stops the child (gracefully, then by force) once it has run this long.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time between the graceful stop and SIGKILL (default 10 s).
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How to ask the child to stop (default SIGINT).
    pub fn graceful_stop(mut self, stop: GracefulStop) -> Self {
        self.stop = stop;
        self
    }

    /// What [`ProcessError::NotFound`] tells the user, e.g. "install it with `apt-get install ffmpeg`".
    pub fn install_hint(mut self, hint: impl Into<String>) -> Self {
        self.install_hint = Some(hint.into());
        self
    }

    /// Keeps up to `max_bytes` of stdout in [`ProcessOutput::stdout`].
    pub fn capture_stdout(mut self, max_bytes: usize) -> Self {
        self.capture_stdout = max_bytes;
        self
    }

    /// The command line for logs and errors, secret arguments as `***`.
    pub fn display(&self) -> String {
        let mut shown = self.program.to_string_lossy().into_owned();
        for arg in &self.args {
            shown.push(' ');
            if arg.secret {
                shown.push_str("***");
            } else {
                shown.push_str(&arg.value.to_string_lossy());
            }
        }
        match shown.char_indices().nth(SHOWN_COMMAND_CHARS) {
            Some((cut, _)) => format!("{}…", &shown[..cut]),
            None => shown,
        }
    }

    /// Runs to completion, discarding output lines (see [`run_with`](Self::run_with)).
    pub async fn run(&self, cancel: &CancellationToken) -> Result<ProcessOutput, ProcessError> {
        self.run_with(cancel, |_, _| {}).await
    }

    /// Runs to completion, calling `on_line` for every non-empty line of stdout and
    /// stderr as it arrives (split on `\n` and `\r`, secrets masked).
    pub async fn run_with<F>(
        &self,
        cancel: &CancellationToken,
        mut on_line: F,
    ) -> Result<ProcessOutput, ProcessError>
    where
        F: FnMut(Stream, &str),
    {
        let command = self.display();
        let io_err = |source| ProcessError::Io {
            command: command.clone(),
            source,
        };
        if cancel.is_cancelled() {
            return Err(ProcessError::Cancelled {
                command,
                graceful: true,
                stderr_tail: String::new(),
            });
        }
        let mut child = self.spawn()?;
        let started = Instant::now();
        tracing::debug!(command = %command, "process started");
        let group = GroupGuard(
            child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .map(Pid::from_raw),
        );

        let mut stdin = child.stdin.take();
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let (mut out_lines, mut err_lines) = (LineSplitter::default(), LineSplitter::default());
        let (mut out_buf, mut err_buf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
        let mut tail = Tail::new(self.tail_lines);
        let mut captured = Vec::new();
        let secrets: Vec<String> = self
            .args
            .iter()
            .filter(|a| a.secret && !a.value.is_empty())
            .map(|a| a.value.to_string_lossy().into_owned())
            .collect();
        // Lines are queued by the select! arms and handed on after each turn, so
        // `on_line` is borrowed in one place only.
        let mut pending: Vec<(Stream, String)> = Vec::new();

        let deadline = self.timeout.map(|t| started + t);
        let mut stop: Option<StopReason> = None;
        let mut kill_at: Option<Instant> = None;
        let mut killed = false;
        let mut status = None;
        let mut drain_until: Option<Instant> = None;

        while status.is_none() || stdout.is_some() || stderr.is_some() {
            tokio::select! {
                read = read_some(&mut stdout, &mut out_buf), if stdout.is_some() => match read {
                    Ok(n) if n > 0 => {
                        let room = self.capture_stdout.saturating_sub(captured.len());
                        captured.extend_from_slice(&out_buf[..n.min(room)]);
                        out_lines.feed(&out_buf[..n], &mut |l| pending.push((Stream::Stdout, mask(l, &secrets))));
                    }
                    _ => {
                        out_lines.finish(&mut |l| pending.push((Stream::Stdout, mask(l, &secrets))));
                        stdout = None;
                    }
                },
                read = read_some(&mut stderr, &mut err_buf), if stderr.is_some() => match read {
                    Ok(n) if n > 0 => err_lines.feed(&err_buf[..n], &mut |l| pending.push((Stream::Stderr, mask(l, &secrets)))),
                    _ => {
                        err_lines.finish(&mut |l| pending.push((Stream::Stderr, mask(l, &secrets))));
                        stderr = None;
                    }
                },
                exit = child.wait(), if status.is_none() => {
                    status = Some(exit.map_err(io_err)?);
                    // Stragglers left in the group are ours: stop them with their leader.
                    group.signal(Signal::SIGKILL);
                    drain_until = Some(Instant::now() + POST_EXIT_DRAIN);
                },
                () = sleep_until(deadline), if stop.is_none() && status.is_none() => {
                    tracing::debug!(command = %command, "process timed out; stopping it");
                    stop = Some(StopReason::TimedOut);
                    self.ask_to_stop(&group, &mut stdin).await;
                    kill_at = Some(Instant::now() + self.grace);
                },
                () = cancel.cancelled(), if stop.is_none() && status.is_none() => {
                    tracing::debug!(command = %command, "process cancelled; stopping it");
                    stop = Some(StopReason::Cancelled);
                    self.ask_to_stop(&group, &mut stdin).await;
                    kill_at = Some(Instant::now() + self.grace);
                },
                () = sleep_until(kill_at), if !killed && status.is_none() => {
                    tracing::warn!(command = %command, "process ignored the graceful stop; killing its group");
                    group.signal(Signal::SIGKILL);
                    killed = true;
                },
                () = sleep_until(drain_until) => {
                    tracing::warn!(command = %command, "output pipes still open after exit; giving up on them");
                    break;
                },
            }
            for (stream, line) in pending.drain(..) {
                if stream == Stream::Stderr {
                    tail.push(&line);
                }
                on_line(stream, &line);
            }
        }
        group.disarm();

        let elapsed = started.elapsed();
        let stderr_tail = tail.joined();
        let graceful = !killed;
        tracing::debug!(command = %command, ?elapsed, "process ended");
        match (stop, status) {
            (Some(StopReason::TimedOut), _) => Err(ProcessError::TimedOut {
                command,
                after: self.timeout.unwrap_or_default(),
                graceful,
                stderr_tail,
            }),
            (Some(StopReason::Cancelled), _) => Err(ProcessError::Cancelled {
                command,
                graceful,
                stderr_tail,
            }),
            (None, Some(status)) if status.success() => Ok(ProcessOutput {
                stdout: String::from_utf8_lossy(&captured).into_owned(),
                stderr_tail,
                elapsed,
            }),
            (None, status) => Err(ProcessError::Failed {
                command,
                code: status.and_then(|s| s.code()),
                signal: status.and_then(|s| s.signal()),
                stderr_tail,
            }),
        }
    }

    fn spawn(&self) -> Result<tokio::process::Child, ProcessError> {
        let mut cmd = tokio::process::Command::new(&self.program);
        // Tapearr's own settings (passwords, keys, database URL) never reach a tool.
        for key in tapearr_env_keys() {
            cmd.env_remove(key);
        }
        cmd.args(self.args.iter().map(|a| &a.value))
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(match self.stop {
                GracefulStop::Quit => Stdio::piped(),
                GracefulStop::Interrupt => Stdio::null(),
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(owner) = super::orphans::owner() {
            cmd.env(super::orphans::OWNER_ENV, owner);
        }
        if let Some(dir) = &self.current_dir {
            // Checked here: a missing directory would also be reported as NotFound.
            if !dir.is_dir() {
                return Err(ProcessError::Io {
                    command: self.display(),
                    source: io::Error::new(
                        io::ErrorKind::NotFound,
                        "working directory does not exist",
                    ),
                });
            }
            cmd.current_dir(dir);
        }
        cmd.spawn().map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                let program = self.program.to_string_lossy().into_owned();
                let location = if program.contains('/') {
                    format!("at {program}")
                } else {
                    "in PATH".to_owned()
                };
                ProcessError::NotFound {
                    program,
                    location,
                    hint: self
                        .install_hint
                        .clone()
                        .unwrap_or_else(|| "install it or configure its path".to_owned()),
                }
            } else {
                ProcessError::Io {
                    command: self.display(),
                    source,
                }
            }
        })
    }

    async fn ask_to_stop(
        &self,
        group: &GroupGuard,
        stdin: &mut Option<tokio::process::ChildStdin>,
    ) {
        let quit_pipe = match self.stop {
            GracefulStop::Quit => stdin.as_mut(),
            GracefulStop::Interrupt => None,
        };
        if let Some(pipe) = quit_pipe {
            let wrote = tokio::time::timeout(Duration::from_secs(1), pipe.write_all(b"q\n")).await;
            if matches!(wrote, Ok(Ok(()))) && pipe.flush().await.is_ok() {
                return;
            }
        }
        group.signal(Signal::SIGINT);
    }
}

/// Sends SIGKILL to the group if the run is abandoned (its future dropped);
/// `kill_on_drop` alone would only reach the leader.
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.0 {
            // ESRCH (group already gone) is the normal case after an exit.
            let _ = killpg(pgid, signal);
        }
    }

    /// Called once the group has been reaped: its id may be reused from now on.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

/// Replaces every secret value in `line` with `***`.
fn mask(line: &str, secrets: &[String]) -> String {
    secrets.iter().fold(line.to_owned(), |line, secret| {
        line.replace(secret.as_str(), "***")
    })
}

/// Reads from a pipe that may already be closed (then never completes; the
/// `select!` branch guard keeps it from being polled).
async fn read_some<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The names of this process's `TAPEARR_*` environment variables: Tapearr's settings and
/// secrets, which a child tool must not inherit (C13). The owner mark (`TAPEARR_TOOL_OF`) is set
/// again explicitly after the scrub.
pub fn tapearr_env_keys() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.as_encoded_bytes().starts_with(b"TAPEARR_"))
        .collect()
}
