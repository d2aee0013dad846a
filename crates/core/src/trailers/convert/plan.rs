//! What ffmpeg does with a download for a profile's output settings (pure, table-tested).

use crate::tools::MediaFacts;
use crate::trailers::model::{AudioCodec, Container, HwAccel, OutputSettings, VideoCodec};

/// How a file is converted: which streams are copied, which encoders run, and the ffmpeg
/// arguments for them (inputs, maps and the output are added by [`convert`](super::convert)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertPlan {
    pub copy_video: bool,
    pub copy_audio: bool,
    /// The video encoder (`libx264`, `h264_nvenc`, …); `None` when copied (or no video).
    pub encoder: Option<&'static str>,
    /// The audio encoder (`aac`, `libopus`); `None` when copied (or no audio).
    pub audio_encoder: Option<&'static str>,
    /// Options before `-i` (a hardware device).
    pub input_args: Vec<String>,
    /// Codec, filter and quality options of the output.
    pub args: Vec<String>,
}

impl ConvertPlan {
    /// Whether the video encoder is a hardware one.
    pub fn uses_hardware(&self) -> bool {
        self.encoder.is_some_and(|e| !is_cpu_encoder(e))
    }
}

/// AV1 encoders by preference; `convert` uses the first this ffmpeg has.
pub(crate) const AV1_ENCODERS: [&str; 2] = ["libsvtav1", "libaom-av1"];

fn is_cpu_encoder(e: &str) -> bool {
    e.starts_with("lib")
}

/// ffprobe's codec name for a target codec.
fn video_name(c: VideoCodec) -> Option<&'static str> {
    match c {
        VideoCodec::Copy => None,
        VideoCodec::H264 => Some("h264"),
        VideoCodec::H265 => Some("hevc"),
        VideoCodec::Vp9 => Some("vp9"),
        VideoCodec::Av1 => Some("av1"),
    }
}

fn video_codec_of(name: &str) -> Option<VideoCodec> {
    Some(match name {
        "h264" => VideoCodec::H264,
        "hevc" => VideoCodec::H265,
        "vp9" => VideoCodec::Vp9,
        "av1" => VideoCodec::Av1,
        _ => return None,
    })
}

fn audio_name(c: AudioCodec) -> Option<&'static str> {
    match c {
        AudioCodec::Copy => None,
        AudioCodec::Aac => Some("aac"),
        AudioCodec::Opus => Some("opus"),
    }
}

fn audio_codec_of(name: &str) -> Option<AudioCodec> {
    Some(match name {
        "aac" => AudioCodec::Aac,
        "opus" => AudioCodec::Opus,
        _ => return None,
    })
}

/// Whether the container can hold this video codec (ffprobe name).
pub fn container_accepts_video(container: Container, codec: &str) -> bool {
    match container {
        Container::Mp4 => matches!(codec, "h264" | "hevc" | "av1" | "vp9"),
        Container::Webm => matches!(codec, "vp8" | "vp9" | "av1"),
        Container::Mkv => true,
    }
}

/// Whether the container can hold this audio codec (ffprobe name).
pub fn container_accepts_audio(container: Container, codec: &str) -> bool {
    match container {
        Container::Mp4 => matches!(codec, "aac" | "opus" | "mp3" | "ac3" | "eac3"),
        Container::Webm => matches!(codec, "opus" | "vorbis"),
        Container::Mkv => true,
    }
}

/// What ffmpeg will do with `input` for `out`, encoding video on `hw` when it must encode.
///
/// A stream is copied when the input codec is already the target (or the target is Copy) and
/// the container accepts it. Video is encoded anyway when it is taller than `max_height`
/// (scaled down) or the start is trimmed (a copy can only cut at a keyframe, seconds off);
/// audio when the volume changes. Trailing silence needs no encode: `convert` finds where it
/// starts and ends the output there (`-t`), copied streams included. A target the container
/// cannot hold (H.264 in WebM) becomes the container's own (VP9/Opus in WebM, H.264/AAC
/// elsewhere); with Copy, an encode keeps the input's codec when it can.
pub fn plan(input: &MediaFacts, out: &OutputSettings, hw: HwAccel) -> ConvertPlan {
    plan_with(input, out, hw, AV1_ENCODERS[0])
}

pub(crate) fn plan_with(
    input: &MediaFacts,
    out: &OutputSettings,
    hw: HwAccel,
    av1: &'static str,
) -> ConvertPlan {
    let container = out.container;
    let mut input_args = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let mut push = |a: &[&str]| args.extend(a.iter().map(|s| (*s).to_string()));

    // Video.
    let in_v = input.video_codec.as_deref();
    let taller = out.max_height > 0 && input.height.is_some_and(|h| h > out.max_height);
    // The target, unless it is Copy or the container cannot hold it.
    let wanted = Some(out.video_codec)
        .filter(|c| video_name(*c).is_some_and(|n| container_accepts_video(container, n)));
    let v_fits = in_v.is_some_and(|c| container_accepts_video(container, c))
        && wanted.is_none_or(|w| in_v == video_name(w));
    let copy_video = input.has_video && v_fits && !taller && out.trim_start_s == 0;
    let mut encoder = None;
    let mut target_v = None;
    if copy_video {
        push(&["-c:v", "copy"]);
        target_v = in_v.and_then(video_codec_of);
    } else if input.has_video {
        let codec = wanted
            .or_else(|| {
                in_v.filter(|c| container_accepts_video(container, c))
                    .and_then(video_codec_of)
            })
            .unwrap_or(match container {
                Container::Webm => VideoCodec::Vp9,
                Container::Mp4 | Container::Mkv => VideoCodec::H264,
            });
        target_v = Some(codec);
        let mut filters: Vec<String> = Vec::new();
        if taller {
            filters.push(format!("scale=-2:{}", out.max_height));
        }
        let hw_encoder = hardware_encoder(hw, codec);
        match (hw_encoder, hw) {
            (Some(e), HwAccel::Nvenc) => {
                encoder = Some(e);
                push(&[
                    "-c:v", e, "-preset", "p4", "-cq", "22", "-pix_fmt", "yuv420p",
                ]);
            }
            (Some(e), HwAccel::Vaapi) => {
                encoder = Some(e);
                input_args.extend(["-vaapi_device", "/dev/dri/renderD128"].map(String::from));
                filters.push("format=nv12,hwupload".into());
                push(&["-c:v", e, "-qp", "22"]);
            }
            (Some(e), _) => {
                encoder = Some(e);
                push(&["-c:v", e, "-global_quality", "22", "-pix_fmt", "nv12"]);
            }
            (None, _) => {
                let e = cpu_encoder(codec, av1);
                encoder = Some(e);
                push(&["-c:v", e]);
                match e {
                    "libx264" => push(&["-preset", "veryfast", "-crf", "22"]),
                    "libx265" => push(&[
                        "-preset",
                        "veryfast",
                        "-crf",
                        "22",
                        "-x265-params",
                        "log-level=error",
                    ]),
                    "libvpx-vp9" => push(&[
                        "-crf",
                        "31",
                        "-b:v",
                        "0",
                        "-deadline",
                        "good",
                        "-cpu-used",
                        "4",
                        "-row-mt",
                        "1",
                    ]),
                    "libsvtav1" => push(&["-preset", "8", "-crf", "32"]),
                    _ => push(&["-crf", "32", "-b:v", "0", "-cpu-used", "6", "-row-mt", "1"]),
                }
                push(&["-pix_fmt", "yuv420p"]);
            }
        }
        if !filters.is_empty() {
            push(&["-vf", &filters.join(",")]);
        }
    }
    if container == Container::Mp4 && target_v == Some(VideoCodec::H265) {
        // Apple players want the `hvc1` tag.
        push(&["-tag:v", "hvc1"]);
    }

    // Audio.
    let in_a = input.audio_codec.as_deref();
    let volume = (out.volume - 1.0).abs() > 0.001;
    let wanted = Some(out.audio_codec)
        .filter(|c| audio_name(*c).is_some_and(|n| container_accepts_audio(container, n)));
    let a_fits = in_a.is_some_and(|c| container_accepts_audio(container, c))
        && wanted.is_none_or(|w| in_a == audio_name(w));
    let copy_audio = input.has_audio && a_fits && !volume;
    let mut audio_encoder = None;
    if copy_audio {
        push(&["-c:a", "copy"]);
    } else if input.has_audio {
        let codec = wanted
            .or_else(|| {
                in_a.filter(|c| container_accepts_audio(container, c))
                    .and_then(audio_codec_of)
            })
            .unwrap_or(match container {
                Container::Webm => AudioCodec::Opus,
                Container::Mp4 | Container::Mkv => AudioCodec::Aac,
            });
        let e = if codec == AudioCodec::Opus {
            "libopus"
        } else {
            "aac"
        };
        audio_encoder = Some(e);
        push(&["-c:a", e, "-b:a", "128k"]);
        if volume {
            push(&["-af", &format!("volume={:.3}", out.volume.max(0.0))]);
        }
    }
    if !input.has_audio {
        push(&["-an"]);
    }

    ConvertPlan {
        copy_video,
        copy_audio,
        encoder,
        audio_encoder,
        input_args,
        args,
    }
}

fn cpu_encoder(codec: VideoCodec, av1: &'static str) -> &'static str {
    match codec {
        VideoCodec::H265 => "libx265",
        VideoCodec::Vp9 => "libvpx-vp9",
        VideoCodec::Av1 => av1,
        VideoCodec::H264 | VideoCodec::Copy => "libx264",
    }
}

fn hardware_encoder(hw: HwAccel, codec: VideoCodec) -> Option<&'static str> {
    Some(match (hw, codec) {
        (HwAccel::Nvenc, VideoCodec::H264) => "h264_nvenc",
        (HwAccel::Nvenc, VideoCodec::H265) => "hevc_nvenc",
        (HwAccel::Nvenc, VideoCodec::Av1) => "av1_nvenc",
        (HwAccel::Vaapi, VideoCodec::H264) => "h264_vaapi",
        (HwAccel::Vaapi, VideoCodec::H265) => "hevc_vaapi",
        (HwAccel::Vaapi, VideoCodec::Vp9) => "vp9_vaapi",
        (HwAccel::Vaapi, VideoCodec::Av1) => "av1_vaapi",
        (HwAccel::Qsv, VideoCodec::H264) => "h264_qsv",
        (HwAccel::Qsv, VideoCodec::H265) => "hevc_qsv",
        (HwAccel::Qsv, VideoCodec::Vp9) => "vp9_qsv",
        (HwAccel::Qsv, VideoCodec::Av1) => "av1_qsv",
        _ => return None,
    })
}
