//! The supervisor against real `sh` scripts.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::*;

fn sh(script: &str) -> Process {
    Process::new("sh").arg("-c").arg(script)
}

/// True when `pid` is gone or a zombie waiting for a reaper that is not us.
fn is_dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the ")" that closes the command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// Waits (up to 1 s) for a SIGKILLed process to finish dying. The kill is already
/// sent; the kernel tears the process down asynchronously, its pipes closing
/// slightly before its state turns to zombie, and there is no event to await for
/// that without pidfds, so this polls /proc.
async fn becomes_dead(pid: i32) -> bool {
    for _ in 0..200 {
        if is_dead(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test]
async fn success_captures_stdout_and_calls_back_per_line() {
    let mut lines = Vec::new();
    let out = sh("printf 'one\\ntwo'; echo warn >&2")
        .capture_stdout(1024)
        .run_with(&CancellationToken::new(), |stream, line| {
            lines.push((stream, line.to_owned()))
        })
        .await
        .expect("runs");
    assert_eq!(out.stdout, "one\ntwo");
    assert_eq!(out.stderr_tail, "warn");
    assert!(lines.contains(&(Stream::Stdout, "one".into())));
    assert!(lines.contains(&(Stream::Stdout, "two".into())));
    assert!(lines.contains(&(Stream::Stderr, "warn".into())));
}

#[tokio::test]
async fn failure_reports_exit_code_and_stderr_tail() {
    let err = sh("echo first >&2; echo 'real problem' >&2; exit 3")
        .run(&CancellationToken::new())
        .await
        .expect_err("fails");
    match &err {
        ProcessError::Failed {
            code, stderr_tail, ..
        } => {
            assert_eq!(*code, Some(3));
            assert_eq!(stderr_tail, "first\nreal problem");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(err.to_string().contains("exit code 3"), "{err}");
}

#[tokio::test]
async fn missing_binary_is_not_found_with_the_hint() {
    let err = Process::new("tapearr-no-such-tool")
        .arg("-version")
        .install_hint("install it with `apt-get install ffmpeg`")
        .run(&CancellationToken::new())
        .await
        .expect_err("missing");
    assert!(matches!(err, ProcessError::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "tapearr-no-such-tool not found in PATH; install it with `apt-get install ffmpeg`"
    );
    let err = Process::new("/nonexistent/ffmpeg")
        .run(&CancellationToken::new())
        .await
        .expect_err("missing");
    assert!(
        err.to_string()
            .starts_with("/nonexistent/ffmpeg not found at /nonexistent/ffmpeg")
    );
}

#[tokio::test]
async fn secret_arguments_never_reach_errors() {
    let secret = "oauth:hunter2-very-secret";
    let mut seen = Vec::new();
    let process = Process::new("sh")
        .arg("-c")
        .arg("echo \"using token $1\"; echo \"bad token $1\" >&2; exit 1")
        .arg("sh")
        .secret_arg(secret)
        .env("TWITCH_TOKEN", secret);
    assert!(!format!("{process:?} {}", process.display()).contains(secret));
    let err = process
        .run_with(&CancellationToken::new(), |_, line| {
            seen.push(line.to_owned())
        })
        .await
        .expect_err("fails");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains("***"), "{shown}");
    assert!(seen.iter().all(|l| !l.contains(secret)), "{seen:?}");
}

#[tokio::test]
async fn timeout_stops_a_cooperative_child_gracefully() {
    let mut lines = Vec::new();
    let err = sh("trap 'echo stopping; exit 0' INT; echo ready; while :; do sleep 0.05; done")
        .timeout(Duration::from_millis(300))
        .grace_period(Duration::from_secs(30))
        .run_with(&CancellationToken::new(), |_, l| lines.push(l.to_owned()))
        .await
        .expect_err("times out");
    match err {
        ProcessError::TimedOut {
            graceful, after, ..
        } => {
            assert!(graceful);
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert_eq!(lines, ["ready", "stopping"]);
}

#[tokio::test]
async fn a_child_ignoring_sigint_is_killed_with_its_grandchild() {
    let started = std::time::Instant::now();
    let mut grandchild = None;
    // The background `sleep` inherits the ignored SIGINT and holds stdout open.
    let err = sh("trap '' INT; sleep 1000 & echo $!; wait")
        .timeout(Duration::from_millis(200))
        .grace_period(Duration::from_millis(200))
        .run_with(&CancellationToken::new(), |_, l| {
            grandchild = l.parse::<i32>().ok()
        })
        .await
        .expect_err("times out");
    assert!(
        matches!(
            err,
            ProcessError::TimedOut {
                graceful: false,
                ..
            }
        ),
        "{err:?}"
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    // run() returns once stdout hit EOF, which needs the grandchild gone.
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let pid = grandchild.expect("grandchild pid printed");
    assert!(becomes_dead(pid).await, "grandchild {pid} still running");
}

#[tokio::test]
async fn quit_writes_q_to_stdin() {
    let mut lines = Vec::new();
    let err = sh("read cmd; echo \"got $cmd\"")
        .graceful_stop(GracefulStop::Quit)
        .timeout(Duration::from_millis(100))
        .run_with(&CancellationToken::new(), |_, l| lines.push(l.to_owned()))
        .await
        .expect_err("times out");
    assert!(
        matches!(err, ProcessError::TimedOut { graceful: true, .. }),
        "{err:?}"
    );
    assert_eq!(lines, ["got q"]);
}

#[tokio::test]
async fn cancellation_stops_the_child() {
    let cancel = CancellationToken::new();
    // `exec`: dash forking a foreground child can miss a SIGINT that lands mid-fork.
    let err = sh("echo ready; exec sleep 1000")
        .grace_period(Duration::from_secs(10))
        .run_with(&cancel, |_, line| {
            if line == "ready" {
                cancel.cancel();
            }
        })
        .await
        .expect_err("cancelled");
    // `sleep` dies of the SIGINT, so no SIGKILL is needed.
    assert!(
        matches!(err, ProcessError::Cancelled { graceful: true, .. }),
        "{err:?}"
    );
    let err = sh("true")
        .run(&cancel)
        .await
        .expect_err("already cancelled");
    assert!(matches!(err, ProcessError::Cancelled { .. }));
}

#[tokio::test]
async fn megabytes_on_both_pipes_do_not_deadlock() {
    const BYTES: usize = 4 * 1024 * 1024;
    let script = format!("yes out | head -c {BYTES} & yes err | head -c {BYTES} >&2; wait");
    let (mut out, mut err) = (0usize, 0usize);
    sh(&script)
        .timeout(Duration::from_secs(60))
        .run_with(&CancellationToken::new(), |stream, line| match stream {
            Stream::Stdout => out += line.len() + 1,
            Stream::Stderr => err += line.len() + 1,
        })
        .await
        .expect("runs");
    assert_eq!((out, err), (BYTES, BYTES));
}

#[tokio::test]
async fn dropping_the_run_kills_the_whole_group() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut tx = Some(tx);
    let run = tokio::spawn(async move {
        sh("sleep 1000 & echo $!; wait")
            .run_with(&CancellationToken::new(), |_, l| {
                if let (Some(tx), Ok(pid)) = (tx.take(), l.parse::<i32>()) {
                    let _ = tx.send(pid);
                }
            })
            .await
    });
    let pid = rx.await.expect("grandchild pid");
    run.abort();
    assert!(run.await.expect_err("aborted").is_cancelled());
    assert!(
        becomes_dead(pid).await,
        "grandchild {pid} survived the dropped run"
    );
}

/// Run by `tools_get_no_tapearr_settings` in a copy of this test binary whose environment
/// holds Tapearr settings: prints what a child tool sees.
#[tokio::test]
#[ignore = "run by tools_get_no_tapearr_settings"]
async fn print_a_child_environment() {
    super::orphans::mark_tools_with("probe-instance");
    let out = sh("env")
        .capture_stdout(1 << 20)
        .run(&CancellationToken::new())
        .await
        .expect("env");
    println!("CHILD-ENV-BEGIN\n{}\nCHILD-ENV-END", out.stdout);
}

#[test]
fn tools_get_no_tapearr_settings() {
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "tools::process_tests::print_a_child_environment",
            "--ignored",
            "--nocapture",
        ])
        .env("TAPEARR_AUTH__PASSWORD", "s3cret-password")
        .env("TAPEARR_DATABASE_URL", "postgres://u:s3cret-db@h/x")
        .env("TAPEARR_TOOL_OF", "inherited-mark")
        .env("PROBE_KEPT", "yes")
        .output()
        .expect("run the probe");
    let text = String::from_utf8_lossy(&out.stdout);
    let child = text
        .split("CHILD-ENV-BEGIN")
        .nth(1)
        .and_then(|t| t.split("CHILD-ENV-END").next())
        .unwrap_or_else(|| panic!("no probe output:\n{text}"));
    let tapearr: Vec<&str> = child
        .lines()
        .filter(|l| l.starts_with("TAPEARR_"))
        .collect();
    assert_eq!(tapearr, ["TAPEARR_TOOL_OF=probe-instance"], "{child}");
    assert!(!child.contains("s3cret"), "{child}");
    assert!(child.lines().any(|l| l == "PROBE_KEPT=yes"), "{child}");
}
