//! Behaviour that needs other processes: a `kill -9` mid-recording, and streamlink side by side.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{decode_errors, fast_options, origin, probe_duration};
use tapearr_hls::{
    NativeRecorder, OutputPlan, RecordRequest, Recorder, RecorderEvent, StreamlinkOptions,
    StreamlinkRecorder,
};
use tapearr_testkit::hls_origin::{ChannelSpec, Container, Fault, MediaParams};

#[tokio::test]
async fn kill_9_leaves_every_written_segment_playable() {
    let origin = origin("crash", ChannelSpec::new(MediaParams::test(Container::Ts))).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapearr-hls-record"))
        .arg("--events")
        .arg("--output")
        .arg(dir.path().join("rec.ts"))
        .arg(origin.master_url("crash"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("recorder starts");
    let stdout = child.stdout.take().expect("stdout");
    // Wait (in a blocking thread, the origin runs on this runtime) for 5 written segments.
    let written = tokio::task::spawn_blocking(move || {
        let mut n = 0;
        for line in BufReader::new(stdout).lines() {
            if line.expect("line").starts_with("segment ") {
                n += 1;
                if n == 5 {
                    break;
                }
            }
        }
        n
    })
    .await
    .expect("reader");
    assert_eq!(written, 5, "recorder exited early");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let part = dir.path().join("rec.part0001.ts");
    assert_eq!(decode_errors(&part), "");
    let secs = probe_duration(&part);
    assert!(
        secs >= 4.95,
        "ffprobe reads all 5 complete segments, got {secs} s"
    );
}

fn streamlink_binary() -> Option<PathBuf> {
    let candidate = std::env::var_os("TAPEARR_STREAMLINK")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/tools/venv/bin/streamlink")
        });
    candidate.exists().then_some(candidate)
}

#[tokio::test]
async fn native_and_streamlink_record_the_same_duration() {
    let Some(binary) = streamlink_binary() else {
        eprintln!(
            "SKIPPED: streamlink not found (set TAPEARR_STREAMLINK or create data/tools/venv)"
        );
        return;
    };
    let origin = origin(
        "both",
        ChannelSpec::new(MediaParams::test(Container::Ts)).fault(Fault::End { at: 12 }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = origin.master_url("both");
    let sl = StreamlinkRecorder::new(StreamlinkOptions {
        binary,
        ..StreamlinkOptions::default()
    });
    let mut sl_handle = sl.start(RecordRequest::new(
        url.clone(),
        OutputPlan::new(dir.path(), "streamlink"),
    ));
    // Start the native recorder when streamlink writes its first segment, so both begin at
    // the same live edge despite Python's start-up time.
    loop {
        match sl_handle.next_event().await {
            Some(RecorderEvent::SegmentWritten { .. }) => break,
            Some(RecorderEvent::Failed { reason, .. }) => panic!("streamlink failed: {reason}"),
            Some(_) => {}
            None => panic!("streamlink ended before writing"),
        }
    }
    let native = NativeRecorder::with_options(fast_options()).expect("client");
    let native_handle = native.start(RecordRequest::new(
        url,
        OutputPlan::new(dir.path(), "native"),
    ));
    let drain = async {
        while sl_handle.next_event().await.is_some() {}
        sl_handle.wait().await
    };
    let (sl_stats, native_stats) = tokio::join!(drain, native_handle.wait());
    let sl_stats = sl_stats.expect("streamlink ends at ENDLIST");
    let native_stats = native_stats.expect("native ends at ENDLIST");
    let (a, b) = (
        probe_duration(&native_stats.parts[0]),
        probe_duration(&sl_stats.parts[0]),
    );
    assert!(
        (a - b).abs() <= 1.05,
        "native {a} s vs streamlink {b} s differ by more than one segment"
    );
    assert_eq!(native_stats.segments_missed, 0);
    assert_eq!(decode_errors(&native_stats.parts[0]), "");
}
