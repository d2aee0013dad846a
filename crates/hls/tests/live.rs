//! The native recorder against the local live origin: what a user would notice.

mod common;

use std::time::Duration;

use common::{
    decode_errors, fast_options, origin, probe_duration, record_request_to_end, record_to_end,
    request,
};
use tapearr_hls::{EndReason, FetchError, GapReason, LiveOptions, RecorderEvent};
use tapearr_testkit::hls_origin::{ALWAYS, ChannelSpec, Container, Fault, MediaParams};

// The origin starts with segments 0..5 listed; the recorder starts 3 before the live edge (2).

#[tokio::test]
async fn clean_ts_origin_records_every_segment_of_the_chosen_variant() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts))
        .ladder()
        .fault(Fault::End { at: 12 });
    let origin = origin("clean", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = fast_options();
    opts.live_edge = 3;
    let url = origin.master_url("clean");
    let rec = {
        let recorder = tapearr_hls::NativeRecorder::with_options(opts).expect("client");
        let mut req =
            tapearr_hls::RecordRequest::new(url, tapearr_hls::OutputPlan::new(dir.path(), "rec"));
        req.quality = "720p".parse().expect("spec");
        let mut handle = tapearr_hls::Recorder::start(&recorder, req);
        let mut events = Vec::new();
        while let Some(e) = handle.next_event().await {
            events.push(e);
        }
        common::Recorded {
            events,
            outcome: handle.wait().await,
        }
    };
    assert!(
        matches!(&rec.events[0], RecorderEvent::Started { variant: Some(v), playlist_url, .. } if v == "720p" && playlist_url.contains("/720p/"))
    );
    let stats = rec.stats();
    assert_eq!(rec.written_sequences(), (2..12).collect::<Vec<_>>());
    assert_eq!(
        (
            stats.segments_written,
            stats.segments_missed,
            stats.ad_segments
        ),
        (10, 0, 0)
    );
    assert!(matches!(
        rec.events.last(),
        Some(RecorderEvent::Ended {
            reason: EndReason::EndList,
            ..
        })
    ));
    let part = rec.only_part();
    assert_eq!(part.extension().and_then(|e| e.to_str()), Some("ts"));
    assert_eq!(decode_errors(&part), "");
    let secs = probe_duration(&part);
    assert!((secs - 10.0).abs() < 0.6, "duration {secs}");
}

#[tokio::test]
async fn clean_fmp4_origin_writes_init_once_and_decodes() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Fmp4)).fault(Fault::End { at: 10 });
    let origin = origin("fmp4", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = record_to_end(&origin.master_url("fmp4"), dir.path(), fast_options()).await;
    let stats = rec.stats();
    assert_eq!((stats.segments_written, stats.segments_missed), (8, 0));
    let part = rec.only_part();
    assert_eq!(part.extension().and_then(|e| e.to_str()), Some("mp4"));
    assert_eq!(origin.stats("fmp4").expect("channel").init_requests, 1);
    assert_eq!(decode_errors(&part), "");
    let secs = probe_duration(&part);
    assert!((secs - 8.0).abs() < 0.6, "duration {secs}");
}

#[tokio::test]
async fn every_injected_fault_is_survived_and_counted_exactly() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts))
        .fault(Fault::SegmentStatus {
            seg: 5,
            status: 503,
            times: 2,
        })
        .fault(Fault::SegmentStatus {
            seg: 6,
            status: 404,
            times: ALWAYS,
        })
        .fault(Fault::SegmentDelay {
            seg: 7,
            delay: Duration::from_secs(3),
            times: 1,
        })
        .fault(Fault::SlowBody {
            seg: 8,
            total: Duration::from_millis(800),
            times: 1,
        })
        .fault(Fault::Truncated { seg: 9, times: 1 })
        .fault(Fault::PlaylistStatus {
            after: 10,
            status: 500,
            times: 2,
        })
        .fault(Fault::End { at: 14 });
    let origin = origin("faults", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = record_to_end(&origin.master_url("faults"), dir.path(), fast_options()).await;
    let stats = rec.stats();
    // 2..14 seen: 12 segments, only the permanently missing one lost.
    let mut expected: Vec<u64> = (2..14).collect();
    expected.retain(|&s| s != 6);
    assert_eq!(rec.written_sequences(), expected);
    assert_eq!((stats.segments_written, stats.segments_missed), (11, 1));
    let gaps: Vec<_> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            RecorderEvent::Gap {
                first_sequence,
                count,
                reason,
            } => Some((*first_sequence, *count, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        gaps,
        [(6, 1, GapReason::FetchFailed(FetchError::Status(404)))]
    );
    // Origin side: 2 (503) + 4 (404, every attempt) + 1 + 1 + 1 + 2 (playlist 500).
    assert_eq!(origin.stats("faults").expect("channel").faults_served, 11);
    // Retried successfully: 503 twice, 404 three times before giving up, timeout, truncation, playlist twice.
    assert_eq!(stats.retries, 2 + 3 + 1 + 1 + 2);
    // The lost segment splits the recording: the remux joins parts end to end, so the MP4
    // carries no jump in its timestamps where the second went missing.
    let parts = &stats.parts;
    assert_eq!(
        parts.len(),
        2,
        "one part before the lost segment, one after: {parts:?}"
    );
    for part in parts {
        assert_eq!(decode_errors(part), "", "{}", part.display());
    }
}

#[tokio::test]
async fn twitch_ads_are_left_out_and_reported() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts))
        .ad(6, 3)
        .fault(Fault::End { at: 13 });
    let origin = origin("ads", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = record_to_end(&origin.master_url("ads"), dir.path(), fast_options()).await;
    let stats = rec.stats();
    let expected: Vec<u64> = (2..13).filter(|s| !(6..9).contains(s)).collect();
    assert_eq!(rec.written_sequences(), expected);
    assert_eq!(
        (
            stats.segments_written,
            stats.segments_missed,
            stats.ad_segments,
            stats.ad_breaks
        ),
        (8, 0, 3, 1)
    );
    assert!((stats.ad_seconds - 3.0).abs() < 1e-6);
    let breaks: Vec<_> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            RecorderEvent::AdBreak {
                duration, segments, ..
            } => Some((*duration, *segments)),
            _ => None,
        })
        .collect();
    assert_eq!(breaks, [(Duration::from_secs(3), 3)]);
    // No ad byte was even downloaded, so none can be in the output.
    assert_eq!(origin.stats("ads").expect("channel").ad_segment_requests, 0);
    // The break is a hole in the broadcast's clock: content after it is a new part, so the
    // MP4 joins them end to end instead of keeping 3 s of frozen picture.
    let parts = &rec.stats().parts;
    assert_eq!(parts.len(), 2, "{parts:?}");
    let mut secs = 0.0;
    for part in parts {
        assert_eq!(decode_errors(part), "");
        secs += probe_duration(part);
    }
    assert!(
        (secs - 8.0).abs() < 0.6,
        "only content before and after the break: {secs}"
    );
}

#[tokio::test]
async fn playlist_reset_and_stall_lose_nothing() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts))
        .fault(Fault::Reset { at: 8 })
        .fault(Fault::Stall {
            at: 10,
            segments: 4,
        })
        .fault(Fault::End { at: 13 });
    let origin = origin("reset", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = record_to_end(&origin.master_url("reset"), dir.path(), fast_options()).await;
    let stats = rec.stats();
    // Timeline 2..8 keeps its numbers, 8..13 is published as 0..5.
    let expected: Vec<u64> = (2..8).chain(0..5).collect();
    assert_eq!(rec.written_sequences(), expected);
    assert_eq!((stats.segments_written, stats.segments_missed), (11, 0));
    assert_eq!((stats.playlist_resets, stats.stalls), (1, 1));
    let kinds: Vec<&str> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            RecorderEvent::PlaylistReset { .. } => Some("reset"),
            // The playlist answered but did not advance: quiet, not unreachable.
            RecorderEvent::Stalled { failing: None, .. } => Some("stalled"),
            RecorderEvent::Stalled { .. } => Some("stalled while failing"),
            RecorderEvent::Resumed => Some("resumed"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["reset", "stalled", "resumed"]);
    // The stall is a hole in the broadcast's clock: what follows it starts a new part.
    let parts = &stats.parts;
    assert_eq!(parts.len(), 2, "{parts:?}");
    for part in parts {
        assert_eq!(decode_errors(part), "");
    }
}

/// The origin goes down, and comes back with its numbering restarted below what was already
/// recorded: the new numbering is followed at once (its program date-times are newer), not
/// waited out until it passes the old numbers.
#[tokio::test]
async fn a_restart_after_an_outage_is_followed_at_once() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts))
        .window(8)
        .fault(Fault::Outage { at: 9, segments: 3 })
        .fault(Fault::Reset { at: 11 })
        .fault(Fault::End { at: 17 });
    let origin = origin("outage", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = record_to_end(&origin.master_url("outage"), dir.path(), fast_options()).await;
    // 5..8 before the outage; 8..11 went out while it was down; 11..17 are published as 0..6.
    let expected: Vec<u64> = (5..8).chain(0..6).collect();
    assert_eq!(rec.written_sequences(), expected);
    assert_eq!(rec.stats().playlist_resets, 1);
    // The outage is a hole in the broadcast's clock: what follows it is a new part.
    let parts = &rec.stats().parts;
    assert_eq!(parts.len(), 2, "{parts:?}");
    for part in parts {
        assert_eq!(decode_errors(part), "");
    }
}

/// An origin that answers only errors stalls the recording as unreachable (the supervisor
/// counts the time as lost if the broadcast goes on), unlike a playlist that merely stops.
#[tokio::test]
async fn a_stall_says_when_the_playlist_cannot_be_loaded() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts))
        .window(5)
        .fault(Fault::PlaylistStatus {
            after: 6,
            status: 503,
            times: ALWAYS,
        });
    let origin = origin("unreachable", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let options = LiveOptions {
        no_segment_timeout: Duration::from_secs(5),
        ..fast_options()
    };
    let rec = record_to_end(&origin.master_url("unreachable"), dir.path(), options).await;
    let stalls: Vec<&Option<String>> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            RecorderEvent::Stalled { failing, .. } => Some(failing),
            _ => None,
        })
        .collect();
    assert_eq!(stalls.len(), 1, "{:?}", rec.events);
    let failing = stalls[0].as_deref().unwrap_or_default();
    assert!(failing.contains("503"), "{failing:?}");
}

/// A resumed recording holds content up to a program date-time: the recorder starts right
/// after it (earlier than the live edge would), and writes nothing twice.
#[tokio::test]
async fn a_resumed_recording_starts_after_what_it_holds() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts))
        .window(8)
        .fault(Fault::End { at: 12 });
    let origin = origin("resume", spec).await;
    let url = origin.master_url("resume");
    let dir = tempfile::tempdir().expect("tempdir");
    let recorder = tapearr_hls::NativeRecorder::with_options(fast_options()).expect("client");
    let mut handle = tapearr_hls::Recorder::start(&recorder, request(&url, dir.path()));
    let mut held = Vec::new();
    while let Some(e) = handle.next_event().await {
        if let RecorderEvent::SegmentWritten {
            sequence,
            duration,
            program_date_time,
            ..
        } = e
        {
            let pdt = program_date_time.expect("the origin sends PROGRAM-DATE-TIME");
            held.push((sequence, pdt + Duration::from_secs_f64(duration)));
            if held.len() == 2 {
                handle.stop();
            }
        }
    }
    // A segment already in flight at the stop may still land.
    let (last, until) = *held.last().expect("segments written");
    assert!(held.len() >= 2 && held[0].0 == 5, "{held:?}");
    let mut req = request(&url, dir.path());
    req.resume_after = Some(until);
    let rec = record_request_to_end(req, fast_options()).await;
    assert_eq!(rec.written_sequences(), (last + 1..12).collect::<Vec<_>>());
    assert_eq!(rec.stats().segments_already_recorded, held.len() as u64);
}

#[tokio::test]
async fn ends_after_the_configured_time_without_new_segments() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts)).fault(Fault::Stall {
        at: 7,
        segments: 10_000,
    });
    let origin = origin("gone", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = fast_options();
    opts.no_segment_timeout = Duration::from_secs(3);
    let rec = record_to_end(&origin.master_url("gone"), dir.path(), opts).await;
    assert_eq!(rec.written_sequences(), (2..7).collect::<Vec<_>>());
    assert!(matches!(
        rec.events.last(),
        Some(RecorderEvent::Ended { reason: EndReason::NoNewSegments(d), .. }) if *d >= Duration::from_secs(3)
    ));
}

#[tokio::test]
async fn stop_is_graceful_and_leaves_a_playable_file() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts));
    let origin = origin("stop", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let recorder = tapearr_hls::NativeRecorder::with_options(fast_options()).expect("client");
    let req = tapearr_hls::RecordRequest::new(
        origin.master_url("stop"),
        tapearr_hls::OutputPlan::new(dir.path(), "rec"),
    );
    let mut handle = tapearr_hls::Recorder::start(&recorder, req);
    let mut written = 0;
    while let Some(e) = handle.next_event().await {
        if matches!(e, RecorderEvent::SegmentWritten { .. }) {
            written += 1;
            if written == 4 {
                handle.stop();
            }
        }
        if let RecorderEvent::Ended { reason, .. } = &e {
            assert_eq!(reason, &EndReason::Stopped);
        }
    }
    let stats = handle.wait().await.expect("stopped cleanly");
    assert!(stats.segments_written >= 4);
    assert_eq!(decode_errors(&stats.parts[0]), "");
}

#[tokio::test]
async fn unknown_quality_fails_with_the_available_names() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts)).ladder();
    let origin = origin("q", spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let recorder = tapearr_hls::NativeRecorder::with_options(fast_options()).expect("client");
    let mut req = tapearr_hls::RecordRequest::new(
        origin.master_url("q"),
        tapearr_hls::OutputPlan::new(dir.path(), "rec"),
    );
    req.quality = "480p".parse().expect("spec");
    let handle = tapearr_hls::Recorder::start(&recorder, req);
    match handle.wait().await.map_err(|f| f.reason) {
        Err(tapearr_hls::FailReason::NoMatchingVariant { available }) => {
            assert_eq!(available, ["1080p60", "720p60", "720p", "360p"]);
        }
        other => panic!("expected NoMatchingVariant, got {other:?}"),
    }
}
