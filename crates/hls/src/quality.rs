//! Variant choice: a quality spec (`best`, `worst`, `1080p60`, `720p`, `audio_only`, comma-separated
//! fallbacks tried in order) and a codec allow-list.

use crate::playlist::{CodecFamily, Variant, codec_family};

/// One alternative of a quality spec.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Choice {
    Best,
    Worst,
    AudioOnly,
    /// `720p` (any frame rate, prefer the highest bandwidth) or `720p60`.
    Height {
        height: u32,
        fps: Option<u32>,
    },
    /// Any other name, matched against the variant's quality name.
    Name(String),
}

/// A parsed quality spec such as `1080p60,720p,best`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualitySpec(Vec<Choice>);

impl Default for QualitySpec {
    fn default() -> Self {
        Self(vec![Choice::Best])
    }
}

impl std::str::FromStr for QualitySpec {
    type Err = std::convert::Infallible;
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let choices: Vec<Choice> = spec
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .map(|s| parse_choice(&s))
            .collect();
        Ok(if choices.is_empty() {
            Self::default()
        } else {
            Self(choices)
        })
    }
}

impl std::fmt::Display for QualitySpec {
    /// The spec in streamlink's syntax (`720p60,720p,best`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|c| match c {
                Choice::Best => "best".to_owned(),
                Choice::Worst => "worst".to_owned(),
                Choice::AudioOnly => "audio_only".to_owned(),
                Choice::Height {
                    height,
                    fps: Some(fps),
                } => format!("{height}p{fps}"),
                Choice::Height { height, fps: None } => format!("{height}p"),
                Choice::Name(n) => n.clone(),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

fn parse_choice(s: &str) -> Choice {
    match s {
        "best" | "source" => return Choice::Best,
        "worst" => return Choice::Worst,
        "audio_only" | "audio" => return Choice::AudioOnly,
        _ => {}
    }
    if let Some((h, fps)) = s.split_once('p')
        && let Ok(height) = h.parse::<u32>()
    {
        if fps.is_empty() {
            return Choice::Height { height, fps: None };
        }
        if let Ok(fps) = fps.parse::<u32>() {
            return Choice::Height {
                height,
                fps: Some(fps),
            };
        }
    }
    Choice::Name(s.to_owned())
}

/// Which codecs a variant may use; an empty list allows everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodecAllowList(pub Vec<CodecFamily>);

impl CodecAllowList {
    /// Parses `h264,h265` style lists; unknown names are ignored.
    pub fn parse(list: &str) -> Self {
        Self(list.split(',').filter_map(CodecFamily::from_name).collect())
    }

    pub(crate) fn allows(&self, v: &Variant) -> bool {
        self.0.is_empty()
            || v.codecs.iter().all(|c| match codec_family(c) {
                CodecFamily::Audio | CodecFamily::Other => true,
                family => self.0.contains(&family),
            })
    }
}

/// Rank for best/worst: resolution, then frame rate, then bandwidth.
fn rank(v: &Variant) -> (u64, u64, u64) {
    let pixels = v
        .resolution
        .map(|(w, h)| u64::from(w) * u64::from(h))
        .unwrap_or(0);
    let fps = v.frame_rate.map(|f| (f * 1000.0) as u64).unwrap_or(0);
    (pixels, fps, v.bandwidth)
}

/// Picks the variant for `spec` among those allowed by `codecs`; `None` when nothing matches.
pub fn choose_variant<'a>(
    variants: &'a [Variant],
    spec: &QualitySpec,
    codecs: &CodecAllowList,
) -> Option<&'a Variant> {
    let allowed: Vec<&Variant> = variants.iter().filter(|v| codecs.allows(v)).collect();
    let video = || allowed.iter().copied().filter(|v| !v.is_audio_only());
    spec.0.iter().find_map(|choice| match choice {
        Choice::Best => video()
            .max_by_key(|v| rank(v))
            .or_else(|| allowed.first().copied()),
        Choice::Worst => video()
            .min_by_key(|v| rank(v))
            .or_else(|| allowed.first().copied()),
        Choice::AudioOnly => allowed.iter().copied().find(|v| v.is_audio_only()),
        Choice::Height { height, fps } => video()
            .filter(|v| v.resolution.is_some_and(|(_, h)| h == *height))
            .filter(|v| match fps {
                None => true,
                Some(want) => v.frame_rate.map(|f| f.round() as u32).unwrap_or(30) == *want,
            })
            // `720p` means the plain 720p (30 fps) rendition when there is one, like streamlink.
            .max_by_key(|v| {
                let name_match =
                    fps.is_none() && v.quality_name().eq_ignore_ascii_case(&format!("{height}p"));
                (name_match, rank(v))
            }),
        Choice::Name(name) => allowed
            .iter()
            .copied()
            .find(|v| v.quality_name().eq_ignore_ascii_case(name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(
        name: &str,
        res: Option<(u32, u32)>,
        fps: Option<f64>,
        bw: u64,
        codecs: &[&str],
    ) -> Variant {
        Variant {
            uri: format!("{name}.m3u8"),
            bandwidth: bw,
            resolution: res,
            frame_rate: fps,
            codecs: codecs.iter().map(|s| s.to_string()).collect(),
            video_group: Some(name.to_owned()),
            name: Some(name.to_owned()),
        }
    }

    fn ladder() -> Vec<Variant> {
        vec![
            v(
                "1080p60 (source)",
                Some((1920, 1080)),
                Some(60.0),
                6_000_000,
                &["hev1.1.6.L93", "mp4a.40.2"],
            ),
            v(
                "720p60",
                Some((1280, 720)),
                Some(60.0),
                3_400_000,
                &["avc1.4D401F", "mp4a.40.2"],
            ),
            v(
                "720p",
                Some((1280, 720)),
                Some(30.0),
                2_300_000,
                &["avc1.4D401F", "mp4a.40.2"],
            ),
            v(
                "360p",
                Some((640, 360)),
                Some(30.0),
                600_000,
                &["avc1.4D401F", "mp4a.40.2"],
            ),
            v("audio_only", None, None, 160_000, &["mp4a.40.2"]),
        ]
    }

    fn pick(spec: &str, codecs: &str) -> Option<String> {
        let variants = ladder();
        let spec: QualitySpec = spec.parse().expect("infallible");
        choose_variant(&variants, &spec, &CodecAllowList::parse(codecs)).map(Variant::quality_name)
    }

    #[test]
    fn picks_by_spec() {
        assert_eq!(pick("best", "").as_deref(), Some("1080p60"));
        assert_eq!(pick("worst", "").as_deref(), Some("360p"));
        assert_eq!(pick("720p", "").as_deref(), Some("720p"));
        assert_eq!(pick("720p60", "").as_deref(), Some("720p60"));
        assert_eq!(pick("audio_only", "").as_deref(), Some("audio_only"));
        assert_eq!(pick("480p,360p", "").as_deref(), Some("360p"));
        assert_eq!(pick("480p", ""), None);
    }

    #[test]
    fn codec_allow_list_filters() {
        assert_eq!(pick("best", "h264").as_deref(), Some("720p60"));
        assert_eq!(pick("1080p60,best", "h264").as_deref(), Some("720p60"));
        assert_eq!(pick("best", "h264,h265").as_deref(), Some("1080p60"));
    }
}
