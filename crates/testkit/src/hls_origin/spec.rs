//! A builder that turns "what the test wants" into a [`ChannelConfig`] with loaded media.

use std::sync::Arc;
use std::time::Duration;

use super::channel::{AdBreak, ChannelConfig, VariantConfig};
use super::faults::Fault;
use super::media::{Container, MediaError, MediaParams, MediaSet, VideoCodec};

/// Declared variant: name, resolution, frame rate, bandwidth, codecs.
type Declared = (&'static str, (u32, u32), f64, u64, &'static str);

const H264: &str = "avc1.42c01e,mp4a.40.2";
/// What Twitch announces for Enhanced Broadcasting renditions.
pub const HEVC: &str = "hvc1.1.2.L153.B0,mp4a.40.2";
pub const AV1: &str = "av01.0.12M.10,mp4a.40.2";

#[derive(Debug, Clone)]
pub struct ChannelSpec {
    params: MediaParams,
    variants: Vec<Declared>,
    window: u64,
    ads: Vec<AdBreak>,
    faults: Vec<Fault>,
    phase: Duration,
    real_codecs: bool,
}

/// The video codec a variant's `CODECS` announces.
fn announced_codec(codecs: &str) -> VideoCodec {
    if codecs.contains("hvc1") || codecs.contains("hev1") {
        VideoCodec::Hevc
    } else if codecs.contains("av01") {
        VideoCodec::Av1
    } else {
        VideoCodec::H264
    }
}

impl ChannelSpec {
    /// One `720p` variant, a 5-segment window, no ads, no faults.
    pub fn new(params: MediaParams) -> Self {
        Self {
            params,
            variants: vec![("720p", (1280, 720), 30.0, 2_500_000, H264)],
            window: 5,
            ads: Vec::new(),
            faults: Vec::new(),
            phase: Duration::ZERO,
            real_codecs: false,
        }
    }

    /// A Twitch-like ladder (all variants serve the same bytes).
    pub fn ladder(mut self) -> Self {
        self.variants = vec![
            ("1080p60", (1920, 1080), 60.0, 6_000_000, H264),
            ("720p60", (1280, 720), 60.0, 3_400_000, H264),
            ("720p", (1280, 720), 30.0, 2_500_000, H264),
            ("360p", (640, 360), 30.0, 700_000, H264),
        ];
        self
    }

    /// An Enhanced Broadcasting ladder: HEVC and AV1 renditions up to 1440p60 next to the
    /// H.264 ones (names and `CODECS` as Twitch announces them; the bytes are the test media,
    /// H.264, unless [`Self::real_codecs`] asks for real HEVC and AV1). The fake usher offers
    /// a client only the codecs its `supported_codecs` names.
    pub fn enhanced_ladder(mut self) -> Self {
        self.variants = vec![
            ("1440p60__av1", (2560, 1440), 60.0, 9_000_000, AV1),
            ("1440p60__hevc", (2560, 1440), 60.0, 8_000_000, HEVC),
            ("1080p60__hevc", (1920, 1080), 60.0, 5_000_000, HEVC),
            ("1080p60", (1920, 1080), 60.0, 6_000_000, H264),
            ("720p60", (1280, 720), 60.0, 3_400_000, H264),
            ("360p", (640, 360), 30.0, 700_000, H264),
        ];
        self
    }

    /// Each variant serves media in the codec its `CODECS` announces (HEVC with libx265, AV1
    /// with SVT-AV1) instead of the H.264 test media, in fMP4 as Twitch sends Enhanced
    /// Broadcasting, so a recording can be checked to really be HEVC or AV1. Each codec's
    /// set is generated once (seconds) and cached like the others.
    pub fn real_codecs(mut self) -> Self {
        self.real_codecs = true;
        self.params.container = Container::Fmp4;
        self
    }

    pub fn window(mut self, segments: u64) -> Self {
        self.window = segments.max(1);
        self
    }

    pub fn ad(mut self, at: u64, segments: u64) -> Self {
        self.ads.push(AdBreak { at, segments });
        self
    }

    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    pub fn phase(mut self, phase: Duration) -> Self {
        self.phase = phase;
        self
    }

    /// The media a variant serves: the channel's, or with [`Self::real_codecs`] the same in
    /// the codec the variant announces.
    async fn media_for(
        &self,
        codecs: &str,
        default: &Arc<MediaSet>,
    ) -> Result<Arc<MediaSet>, MediaError> {
        let video = announced_codec(codecs);
        if !self.real_codecs || video == self.params.video {
            return Ok(default.clone());
        }
        let params = MediaParams {
            video,
            ..self.params.clone()
        };
        MediaSet::load_or_generate(&params).await
    }

    /// Loads (or generates once) the media and builds the config.
    pub async fn build(self) -> Result<ChannelConfig, MediaError> {
        let media = MediaSet::load_or_generate(&self.params).await?;
        let ad_media = if self.ads.is_empty() {
            None
        } else {
            Some(MediaSet::load_or_generate(&self.params.as_ad()).await?)
        };
        let mut variants = Vec::with_capacity(self.variants.len());
        for &(name, resolution, frame_rate, bandwidth, codecs) in &self.variants {
            variants.push(VariantConfig {
                name: name.to_owned(),
                resolution,
                frame_rate,
                bandwidth,
                codecs: codecs.to_owned(),
                media: self.media_for(codecs, &media).await?,
            });
        }
        Ok(ChannelConfig {
            variants,
            window: self.window,
            ads: self.ads,
            ad_media,
            faults: self.faults,
            phase: self.phase,
        })
    }
}
