//! The plan table, then the real ffmpeg on tiny files from the testkit.

use super::*;
use crate::tools::ffprobe::probe;
use crate::trailers::model::{AudioCodec, VideoCodec};
use tapearr_testkit::video_origin::{VideoCodec as MediaCodec, VideoMedia, media};

fn facts(v: &str, a: Option<&str>, height: u32) -> MediaFacts {
    MediaFacts {
        duration_ms: Some(3_000),
        container_ms: Some(3_000),
        has_video: true,
        has_audio: a.is_some(),
        video_codec: Some(v.into()),
        audio_codec: a.map(str::to_string),
        width: Some(height * 16 / 9),
        height: Some(height),
        format: "mov,mp4,m4a,3gp,3g2,mj2".into(),
        chapters: 0,
    }
}

fn settings(container: Container, v: VideoCodec, a: AudioCodec) -> OutputSettings {
    OutputSettings {
        container,
        video_codec: v,
        audio_codec: a,
        max_height: 1080,
        ..OutputSettings::default()
    }
}

/// (input video, input audio, container, target video, target audio,
///  copy video, copy audio, video encoder, audio encoder)
type Row = (
    &'static str,
    &'static str,
    Container,
    VideoCodec,
    AudioCodec,
    bool,
    bool,
    Option<&'static str>,
    Option<&'static str>,
);

#[test]
fn the_plan_copies_what_fits_and_encodes_the_rest() {
    use AudioCodec as A;
    use Container::*;
    use VideoCodec as V;
    #[rustfmt::skip]
    let table: &[Row] = &[
        ("h264", "aac", Mp4, V::H264, A::Aac, true, true, None, None),
        ("h264", "aac", Mp4, V::Copy, A::Copy, true, true, None, None),
        ("vp9", "opus", Mp4, V::Copy, A::Copy, true, true, None, None),
        ("av1", "opus", Mp4, V::Av1, A::Opus, true, true, None, None),
        ("hevc", "aac", Mp4, V::H265, A::Aac, true, true, None, None),
        ("vp9", "opus", Mp4, V::H264, A::Aac, false, false, Some("libx264"), Some("aac")),
        ("h264", "aac", Mp4, V::H265, A::Aac, false, true, Some("libx265"), None),
        ("h264", "aac", Mkv, V::Vp9, A::Opus, false, false, Some("libvpx-vp9"), Some("libopus")),
        ("h264", "aac", Mkv, V::Av1, A::Copy, false, true, Some("libsvtav1"), None),
        ("vp9", "opus", Webm, V::Copy, A::Copy, true, true, None, None),
        ("vp9", "vorbis", Webm, V::Vp9, A::Copy, true, true, None, None),
        // WebM holds neither H.264 nor AAC: Copy encodes to the container's own codecs.
        ("h264", "aac", Webm, V::Copy, A::Copy, false, false, Some("libvpx-vp9"), Some("libopus")),
        // A target the container cannot hold becomes the container's own.
        ("vp9", "opus", Webm, V::H264, A::Aac, true, true, None, None),
        ("h264", "aac", Webm, V::H264, A::Aac, false, false, Some("libvpx-vp9"), Some("libopus")),
        // mkv takes anything.
        ("mpeg4", "mp3", Mkv, V::Copy, A::Copy, true, true, None, None),
        // mp4 cannot hold VP8 or Vorbis: Copy re-encodes into H.264/AAC.
        ("vp8", "vorbis", Mp4, V::Copy, A::Copy, false, false, Some("libx264"), Some("aac")),
        ("h264", "flac", Mp4, V::Copy, A::Copy, true, false, None, Some("aac")),
        ("h264", "opus", Mp4, V::H264, A::Aac, true, false, None, Some("aac")),
    ];
    for &(iv, ia, c, tv, ta, cv, ca, ve, ae) in table {
        let p = plan(
            &facts(iv, Some(ia), 720),
            &settings(c, tv, ta),
            HwAccel::None,
        );
        let case = format!("{iv}+{ia} → {c:?} {tv:?}/{ta:?}: {p:?}");
        assert_eq!((p.copy_video, p.copy_audio), (cv, ca), "{case}");
        assert_eq!((p.encoder, p.audio_encoder), (ve, ae), "{case}");
        assert!(!p.uses_hardware(), "{case}");
        let joined = p.args.join(" ");
        if cv {
            assert!(joined.contains("-c:v copy"), "{case}");
        }
        if ca {
            assert!(joined.contains("-c:a copy"), "{case}");
        } else {
            assert!(joined.contains("-b:a 128k"), "{case}");
        }
    }
}

#[test]
fn height_trim_volume_and_silence_force_the_encodes_they_need() {
    let out = settings(Container::Mp4, VideoCodec::H264, AudioCodec::Aac);
    let tall = plan(&facts("h264", Some("aac"), 2160), &out, HwAccel::None);
    assert!(!tall.copy_video && tall.copy_audio);
    assert!(
        tall.args.join(" ").contains("-vf scale=-2:1080"),
        "{tall:?}"
    );
    assert!(
        tall.args.join(" ").contains("-preset veryfast -crf 22"),
        "{tall:?}"
    );

    let trimmed = OutputSettings {
        trim_start_s: 5,
        ..out.clone()
    };
    let p = plan(&facts("h264", Some("aac"), 720), &trimmed, HwAccel::None);
    assert!(
        !p.copy_video && p.copy_audio,
        "a copy cuts at a keyframe: {p:?}"
    );
    assert!(!p.args.iter().any(|a| a == "-vf"), "{p:?}");

    let louder = OutputSettings {
        volume: 1.5,
        ..out.clone()
    };
    let p = plan(&facts("h264", Some("aac"), 720), &louder, HwAccel::None);
    assert!(p.copy_video && !p.copy_audio);
    assert!(p.args.join(" ").contains("-af volume=1.500"), "{p:?}");

    // Trailing silence is cut by length, so copies stay copies.
    let quiet_end = OutputSettings {
        trim_silence: true,
        ..out.clone()
    };
    let p = plan(&facts("h264", Some("aac"), 720), &quiet_end, HwAccel::None);
    assert!(p.copy_video && p.copy_audio, "{p:?}");

    let mute = plan(&facts("h264", None, 720), &louder, HwAccel::None);
    assert!(mute.args.contains(&"-an".to_string()) && mute.audio_encoder.is_none());

    // HEVC in MP4 gets the tag Apple players want, copied or encoded.
    let hevc = settings(Container::Mp4, VideoCodec::H265, AudioCodec::Aac);
    for input in ["hevc", "h264"] {
        let p = plan(&facts(input, Some("aac"), 720), &hevc, HwAccel::None);
        assert!(p.args.join(" ").contains("-tag:v hvc1"), "{p:?}");
    }
}

#[test]
fn hardware_plans_use_the_device_encoders_and_copies_need_none() {
    let out = settings(Container::Mp4, VideoCodec::H264, AudioCodec::Aac);
    let vp9 = facts("vp9", Some("opus"), 720);
    let nv = plan(&vp9, &out, HwAccel::Nvenc);
    assert_eq!(nv.encoder, Some("h264_nvenc"));
    assert!(nv.uses_hardware());
    assert!(nv.args.join(" ").contains("-preset p4 -cq 22"), "{nv:?}");
    let va = plan(&vp9, &out, HwAccel::Vaapi);
    assert_eq!(va.encoder, Some("h264_vaapi"));
    assert_eq!(va.input_args, ["-vaapi_device", "/dev/dri/renderD128"]);
    assert!(
        va.args.join(" ").contains("-vf format=nv12,hwupload"),
        "{va:?}"
    );
    let qsv = plan(
        &vp9,
        &settings(Container::Mkv, VideoCodec::H265, AudioCodec::Aac),
        HwAccel::Qsv,
    );
    assert_eq!(qsv.encoder, Some("hevc_qsv"));
    // NVENC has no VP9 encoder: the CPU one.
    let p = plan(
        &facts("h264", Some("aac"), 720),
        &settings(Container::Webm, VideoCodec::Vp9, AudioCodec::Opus),
        HwAccel::Nvenc,
    );
    assert_eq!(p.encoder, Some("libvpx-vp9"));
    // Nothing to encode: no hardware.
    let p = plan(&facts("h264", Some("aac"), 720), &out, HwAccel::Nvenc);
    assert!(p.copy_video && p.encoder.is_none() && !p.uses_hardware());
}

#[test]
fn trailing_silence_is_found_in_silencedetect_lines() {
    let lines = |l: &[&str]| l.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let open = lines(&[
        "[silencedetect @ 0x5581] silence_start: 0.2",
        "[silencedetect @ 0x5581] silence_end: 1.4 | silence_duration: 1.2",
        "[silencedetect @ 0x5581] silence_start: 118.52",
    ]);
    assert_eq!(trailing_silence_start(&open, 120.0), Some(118.52));
    let closed_at_eof = lines(&[
        "[silencedetect @ 0x1] silence_start: 100",
        "[silencedetect @ 0x1] silence_end: 120 | silence_duration: 20",
    ]);
    assert_eq!(trailing_silence_start(&closed_at_eof, 120.0), Some(100.0));
    let in_the_middle = lines(&[
        "[silencedetect @ 0x1] silence_start: 50",
        "[silencedetect @ 0x1] silence_end: 55 | silence_duration: 5",
    ]);
    assert_eq!(trailing_silence_start(&in_the_middle, 120.0), None);
    assert_eq!(trailing_silence_start(&[], 120.0), None);
    let negative = lines(&["[silencedetect @ 0x1] silence_start: -0.01"]);
    assert_eq!(trailing_silence_start(&negative, 3.0), Some(0.0));
}

#[test]
fn encoder_lists_are_read() {
    let text = "Encoders:\n V..... = Video\n A..... = Audio\n ------\n V....D libx264              libx264 H.264\n A..... aac                  AAC\n S..... mov_text             3GPP Timed Text subtitle\n";
    let set = parse_encoders(text);
    assert!(set.contains("libx264") && set.contains("aac") && set.contains("mov_text"));
    assert!(!set.contains("="));
    assert_eq!(set.len(), 3);
}

// ---- the real ffmpeg ----

const FFMPEG: &str = "ffmpeg";
const FFPROBE: &str = "ffprobe";

/// A testkit video written into `dir`.
async fn input(dir: &Path, media: VideoMedia) -> (PathBuf, MediaFacts) {
    let bytes = media::load_or_generate(&media)
        .await
        .expect("ffmpeg made it");
    let path = dir.join(format!("in.{}", media.codec.ext()));
    std::fs::write(&path, &bytes).expect("write");
    let f = probe(
        Path::new(FFPROBE),
        &path,
        PROBE_LIMIT,
        &CancellationToken::new(),
    )
    .await
    .expect("probe");
    (path, f)
}

fn tiny(codec: MediaCodec, seconds: u32) -> VideoMedia {
    VideoMedia {
        codec,
        seconds,
        ..VideoMedia::tiny()
    }
}

async fn run(
    input: &Path,
    facts: &MediaFacts,
    out: &OutputSettings,
) -> (Result<ConvertReport, ConvertError>, PathBuf) {
    let output = input.with_file_name(format!("out.{}", out.container.ext()));
    let r = convert(
        Path::new(FFMPEG),
        input,
        &output,
        facts,
        out,
        &CancellationToken::new(),
    )
    .await;
    (r, output)
}

async fn facts_of(path: &Path) -> MediaFacts {
    probe(
        Path::new(FFPROBE),
        path,
        PROBE_LIMIT,
        &CancellationToken::new(),
    )
    .await
    .expect("output probes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h264_aac_into_mp4_is_copied_and_vp9_is_encoded_with_x264() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = settings(Container::Mp4, VideoCodec::H264, AudioCodec::Aac);

    let (h264, f) = input(dir.path(), tiny(MediaCodec::H264, 2)).await;
    let (r, output) = run(&h264, &f, &out).await;
    let r = r.expect("copied");
    assert_eq!(
        r,
        ConvertReport {
            copied_video: true,
            copied_audio: true,
            encoder: None,
            fell_back_to_cpu: false
        }
    );
    let o = facts_of(&output).await;
    assert_eq!(
        (o.video_codec.as_deref(), o.audio_codec.as_deref()),
        (Some("h264"), Some("aac"))
    );
    assert!((o.millis() - f.millis()).abs() <= 100, "{o:?} vs {f:?}");

    let (vp9, f) = input(dir.path(), tiny(MediaCodec::Vp9, 2)).await;
    assert_eq!(f.video_codec.as_deref(), Some("vp9"));
    let (r, output) = run(&vp9, &f, &out).await;
    let r = r.expect("encoded");
    assert!(
        !r.copied_video && !r.copied_audio && !r.fell_back_to_cpu,
        "{r:?}"
    );
    assert_eq!(r.encoder.as_deref(), Some("libx264"));
    let o = facts_of(&output).await;
    assert_eq!(
        (o.video_codec.as_deref(), o.audio_codec.as_deref()),
        (Some("h264"), Some("aac"))
    );
    assert!(o.format.contains("mp4"), "{o:?}");
}

/// No GPU and no /dev/dri here: each hardware encoder fails (or is missing from this ffmpeg)
/// and the file is encoded on the CPU.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardware_encoding_without_a_gpu_falls_back_to_the_cpu() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (vp9, f) = input(dir.path(), tiny(MediaCodec::Vp9, 2)).await;
    for hw in [HwAccel::Nvenc, HwAccel::Vaapi, HwAccel::Qsv] {
        let out = OutputSettings {
            hw_accel: hw,
            ..settings(Container::Mp4, VideoCodec::H264, AudioCodec::Aac)
        };
        let (r, output) = run(&vp9, &f, &out).await;
        let r = r.expect("converted on the CPU");
        assert!(r.fell_back_to_cpu, "{hw:?}: {r:?}");
        assert_eq!(r.encoder.as_deref(), Some("libx264"), "{hw:?}");
        let o = facts_of(&output).await;
        assert_eq!(o.video_codec.as_deref(), Some("h264"), "{hw:?}");
        assert!(o.has_audio);
    }
    // Copies need no encoder, so nothing falls back.
    let (h264, f) = input(dir.path(), tiny(MediaCodec::H264, 2)).await;
    let out = OutputSettings {
        hw_accel: HwAccel::Nvenc,
        ..settings(Container::Mp4, VideoCodec::H264, AudioCodec::Aac)
    };
    let r = run(&h264, &f, &out).await.0.expect("copied");
    assert!(r.copied_video && !r.fell_back_to_cpu, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trim_volume_height_and_subtitles_are_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (h264, f) = input(dir.path(), tiny(MediaCodec::H264, 3)).await;
    let base = settings(Container::Mp4, VideoCodec::H264, AudioCodec::Aac);

    let trimmed = OutputSettings {
        trim_start_s: 1,
        ..base.clone()
    };
    let (r, output) = run(&h264, &f, &trimmed).await;
    assert!(!r.expect("trimmed").copied_video);
    let o = facts_of(&output).await;
    let cut = f.millis() - o.millis();
    assert!((800..=1_200).contains(&cut), "cut {cut} ms: {f:?} → {o:?}");

    let quieter = OutputSettings {
        volume: 0.5,
        ..base.clone()
    };
    let (r, output) = run(&h264, &f, &quieter).await;
    let r = r.expect("volume");
    assert!(r.copied_video && !r.copied_audio, "{r:?}");
    let o = facts_of(&output).await;
    assert_eq!(
        (o.video_codec.as_deref(), o.audio_codec.as_deref()),
        (Some("h264"), Some("aac"))
    );
    assert_eq!((o.width, o.height), (f.width, f.height));
    assert!((o.millis() - f.millis()).abs() <= 100, "{o:?} vs {f:?}");

    let small = OutputSettings {
        max_height: 120,
        ..base.clone()
    };
    let (r, output) = run(&h264, &f, &small).await;
    assert_eq!(r.expect("scaled").encoder.as_deref(), Some("libx264"));
    assert_eq!(facts_of(&output).await.height, Some(120));

    // yt-dlp's subtitles file beside the download becomes a mov_text stream.
    std::fs::write(
        dir.path().join("in.en.srt"),
        "1\n00:00:00,500 --> 00:00:02,000\nIn space no one can hear you scream.\n",
    )
    .expect("srt");
    let subbed = OutputSettings {
        subtitles: true,
        ..base.clone()
    };
    let (r, output) = run(&h264, &f, &subbed).await;
    assert!(r.expect("subtitles").copied_video);
    assert_eq!(subtitle_codecs(&output), ["mov_text"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailing_silence_is_cut_with_the_picture() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 3 s of picture; the tone stops after 1.5 s.
    let path = dir.path().join("quiet-end.mp4");
    let made = std::process::Command::new(FFMPEG)
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", "3", "-af", "volume=enable='gte(t,1.5)':volume=0"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac"])
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(made.success());
    let f = facts_of(&path).await;
    let out = OutputSettings {
        trim_silence: true,
        ..settings(Container::Mp4, VideoCodec::H264, AudioCodec::Aac)
    };
    let (r, output) = run(&path, &f, &out).await;
    let r = r.expect("trimmed");
    assert!(r.copied_video && r.copied_audio, "{r:?}");
    let o = facts_of(&output).await;
    assert!(
        (1_600..=2_000).contains(&o.millis()),
        "{} ms left of {} ms",
        o.millis(),
        f.millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_conversion_leaves_no_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("not-a-video.mp4");
    std::fs::write(&bogus, "this is text, not a video").expect("write");
    let out = settings(Container::Mp4, VideoCodec::H264, AudioCodec::Aac);
    let claimed = facts("h264", Some("aac"), 180);
    let output = dir.path().join("out.mp4");
    std::fs::write(&output, "stale").expect("stale output");
    let e = convert(
        Path::new(FFMPEG),
        &bogus,
        &output,
        &claimed,
        &out,
        &CancellationToken::new(),
    )
    .await
    .expect_err("not a video");
    assert!(
        matches!(e, ConvertError::Ffmpeg(ProcessError::Failed { .. })),
        "{e}"
    );
    assert!(!output.exists());

    // A cut longer than the video is refused before ffmpeg runs.
    let too_far = OutputSettings {
        trim_start_s: 5,
        ..out
    };
    let e = convert(
        Path::new(FFMPEG),
        &bogus,
        &output,
        &claimed,
        &too_far,
        &CancellationToken::new(),
    )
    .await
    .expect_err("too far");
    assert!(matches!(e, ConvertError::Invalid(_)), "{e}");
    assert!(!output.exists());
}

fn subtitle_codecs(path: &Path) -> Vec<String> {
    let out = std::process::Command::new(FFPROBE)
        .args([
            "-v",
            "error",
            "-select_streams",
            "s",
            "-show_entries",
            "stream=codec_name",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}
