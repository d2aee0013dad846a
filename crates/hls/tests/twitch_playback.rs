//! The native recorder against the fake Twitch as it behaves today: playback tokens that
//! expire mid-broadcast (usher and the media playlists answer 403), and Enhanced Broadcasting
//! ladders with HEVC/AV1 renditions offered only to clients that say they support them.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Recorded, decode_errors, fast_options, record_request_to_end};
use futures_util::future::BoxFuture;
use tapearr_hls::{
    OutputPlan, RecordRequest, Recorder, RecorderEvent, Source, SourceRenewal,
    quality::CodecAllowList,
};
use tapearr_integrations::twitch::PlaybackClient;
use tapearr_testkit::forward_proxy::ForwardProxy;
use tapearr_testkit::hls_origin::{ChannelSpec, Container, Fault, HlsOrigin, MediaParams};
use tapearr_testkit::twitch::FakeTwitch;
use url::Url;

async fn twitch(login: &str, spec: ChannelSpec) -> FakeTwitch {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let origin = Arc::new(HlsOrigin::start().await.expect("origin"));
    let twitch = FakeTwitch::start(origin).await.expect("fake twitch");
    twitch.set_channel_spec(spec);
    twitch.add_user(login, login);
    twitch
}

/// Asks GQL for a new playback token and usher URL, as Tapearr's streams side does.
#[derive(Debug, Clone)]
struct Gql {
    client: PlaybackClient,
    login: String,
    codecs: Vec<&'static str>,
    /// Pass on when the token expires (`false`: like a token without `expires`, only a 403
    /// tells).
    tell_expiry: bool,
}

impl Gql {
    fn new(t: &FakeTwitch, login: &str, codecs: &[&'static str]) -> Self {
        let url = |u: String| Url::parse(&u).expect("url");
        Self {
            client: PlaybackClient::new(
                reqwest::Client::new(),
                url(t.gql_url()),
                url(t.usher_url()),
            ),
            login: login.to_owned(),
            codecs: codecs.to_vec(),
            tell_expiry: true,
        }
    }

    async fn source(&self) -> Result<Source, String> {
        match self
            .client
            .master_playlist(&self.login, None, &self.codecs)
            .await
        {
            Ok(Some(p)) => Ok(Source {
                url: p.url,
                expires_at: p.expires_at.filter(|_| self.tell_expiry),
            }),
            Ok(None) => Err("offline".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn request(&self, dir: &std::path::Path, quality: &str) -> RecordRequest {
        let source = self.source().await.expect("a playback token");
        let mut req = RecordRequest::new(source.url, OutputPlan::new(dir, "rec"));
        req.source_expires_at = source.expires_at;
        req.renewal = Some(Arc::new(self.clone()));
        req.quality = quality.parse().expect("spec");
        req.codecs = CodecAllowList::parse(&self.codecs.join(","));
        req
    }
}

impl SourceRenewal for Gql {
    fn renew(&self) -> BoxFuture<'static, Result<Source, String>> {
        let me = self.clone();
        Box::pin(async move { me.source().await })
    }
}

fn renewals(rec: &Recorded) -> usize {
    rec.events
        .iter()
        .filter(|e| matches!(e, RecorderEvent::SourceRenewed))
        .count()
}

/// Tokens live 2 s and the recorder is not told when (a token without `expires`): every
/// expiry is a 403 on the media playlist, renewed at once, and the broadcast still lands in
/// one part with every segment, in the same HEVC rendition.
#[tokio::test]
async fn an_expired_token_is_renewed_on_the_403_and_the_same_rendition_goes_on() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts))
        .enhanced_ladder()
        .fault(Fault::End { at: 12 });
    let t = twitch("marathon", spec).await;
    t.set_playback_token_ttl(Duration::from_secs(2));
    t.go_live("marathon", "long", "Just Chatting")
        .await
        .expect("live");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gql = Gql::new(&t, "marathon", &["h264", "h265"]);
    gql.tell_expiry = false;
    let opts = fast_options();
    let rec = record_request_to_end(gql.request(dir.path(), "best").await, opts).await;

    assert!(
        matches!(&rec.events[0], RecorderEvent::Started { variant: Some(v), playlist_url, .. }
            if v == "1440p60" && playlist_url.contains("/1440p60__hevc/")),
        "{:?}",
        rec.events[0]
    );
    assert_eq!(rec.written_sequences(), (2..12).collect::<Vec<_>>());
    let stats = rec.stats();
    assert_eq!(
        (stats.segments_missed, stats.parts.len()),
        (0, 1),
        "{stats:?}"
    );
    let renewed = renewals(&rec);
    assert!(renewed >= 2, "{renewed} renewals: {:?}", rec.events);
    assert_eq!(stats.source_renewals, renewed as u64);
    // Each renewal followed a refusal of the expired token.
    let seen = t.playback_stats();
    assert!(seen.expired_refusals >= renewed as u64, "{seen:?}");
    assert_eq!(decode_errors(&rec.only_part()), "");
}

/// Renewed ahead of expiry (half the 4 s life), nothing is ever refused.
#[tokio::test]
async fn a_token_renewed_ahead_of_expiry_is_never_refused() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts)).fault(Fault::End { at: 10 });
    let t = twitch("ahead", spec).await;
    t.set_playback_token_ttl(Duration::from_secs(4));
    t.go_live("ahead", "t", "g").await.expect("live");
    let dir = tempfile::tempdir().expect("tempdir");
    let gql = Gql::new(&t, "ahead", &["h264"]);
    let rec = record_request_to_end(gql.request(dir.path(), "best").await, fast_options()).await;
    assert_eq!(rec.written_sequences(), (2..10).collect::<Vec<_>>());
    assert!(renewals(&rec) >= 2, "{:?}", rec.events);
    assert_eq!(t.playback_stats().expired_refusals, 0);
}

/// The chosen rendition, for a codec setting and a quality.
async fn chosen(t: &FakeTwitch, codecs: &[&'static str], quality: &str) -> (String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let req = Gql::new(t, "enhanced", codecs)
        .request(dir.path(), quality)
        .await;
    let recorder = tapearr_hls::NativeRecorder::with_options(fast_options()).expect("client");
    let mut handle = recorder.start(req);
    let first = handle.next_event().await;
    handle.stop();
    let _ = handle.wait().await;
    match first {
        Some(RecorderEvent::Started {
            playlist_url,
            variant: Some(v),
            ..
        }) => {
            let path = Url::parse(&playlist_url).expect("url").path().to_owned();
            (v, path)
        }
        other => panic!("{codecs:?} {quality}: {other:?}"),
    }
}

#[tokio::test]
async fn the_codec_setting_decides_which_renditions_are_offered_and_recorded() {
    let t = twitch(
        "enhanced",
        ChannelSpec::new(MediaParams::test(Container::Ts)).enhanced_ladder(),
    )
    .await;
    t.go_live("enhanced", "t", "g").await.expect("live");

    // H.264 only: usher never lists HEVC or AV1, and the best is the 1080p60 H.264 one.
    let source = Gql::new(&t, "enhanced", &["h264"])
        .source()
        .await
        .expect("token");
    let master = reqwest::get(&source.url)
        .await
        .expect("usher")
        .text()
        .await
        .expect("body");
    assert!(
        !master.contains("hvc1") && !master.contains("av01"),
        "{master}"
    );
    assert!(master.contains("avc1"), "{master}");
    let hevc_refused = chosen(&t, &["h264"], "1440p60,best").await;
    assert_eq!(
        hevc_refused,
        (
            "1080p60".into(),
            "/weaver/enhanced/1080p60/index.m3u8".into()
        )
    );

    // HEVC allowed: 1440p60 in HEVC.
    assert_eq!(
        chosen(&t, &["h264", "h265"], "1440p60").await,
        (
            "1440p60".into(),
            "/weaver/enhanced/1440p60__hevc/index.m3u8".into()
        )
    );
    // AV1 allowed too: the best 1440p60 rendition is the AV1 one.
    assert_eq!(
        chosen(&t, &["av1", "h265", "h264"], "best").await,
        (
            "1440p60".into(),
            "/weaver/enhanced/1440p60__av1/index.m3u8".into()
        )
    );
}

fn through(proxy: &ForwardProxy) -> reqwest::Client {
    reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(proxy.url()).expect("proxy url"))
        .build()
        .expect("client")
}

/// Usher and the media playlists go through the proxy; segments are fetched directly.
#[tokio::test]
async fn playlists_go_through_the_proxy_and_segments_stay_direct() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts)).fault(Fault::End { at: 8 });
    let t = twitch("proxied", spec).await;
    t.go_live("proxied", "t", "g").await.expect("live");
    let proxy = ForwardProxy::start().await.expect("proxy");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut req = Gql::new(&t, "proxied", &["h264"])
        .request(dir.path(), "best")
        .await;
    req.playlist_client = Some(through(&proxy));
    let rec = record_request_to_end(req, fast_options()).await;

    assert_eq!(rec.written_sequences(), (2..8).collect::<Vec<_>>());
    let forwarded = proxy.forwarded();
    assert!(
        forwarded
            .iter()
            .any(|u| u.contains("/api/v2/channel/hls/proxied.m3u8"))
            && forwarded.iter().any(|u| u.contains("/weaver/proxied/")),
        "{forwarded:?}"
    );
    assert!(
        forwarded.iter().all(|u| u.ends_with(".m3u8")),
        "a segment went through the proxy: {forwarded:?}"
    );
    assert!(
        !rec.events
            .iter()
            .any(|e| matches!(e, RecorderEvent::ProxyAbandoned))
    );
}

/// The proxy dies mid-broadcast: playlists are fetched directly from then on and no segment
/// is lost.
#[tokio::test]
async fn a_proxy_that_dies_mid_broadcast_falls_back_to_direct() {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts)).fault(Fault::End { at: 9 });
    let t = twitch("fallback", spec).await;
    t.go_live("fallback", "t", "g").await.expect("live");
    let proxy = ForwardProxy::start().await.expect("proxy");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut req = Gql::new(&t, "fallback", &["h264"])
        .request(dir.path(), "best")
        .await;
    req.playlist_client = Some(through(&proxy));
    let recorder = tapearr_hls::NativeRecorder::with_options(fast_options()).expect("client");
    let mut handle = recorder.start(req);
    let mut events = Vec::new();
    let collect = async {
        while let Some(e) = handle.next_event().await {
            if matches!(e, RecorderEvent::SegmentWritten { .. }) {
                proxy.set_failing(true);
            }
            events.push(e);
        }
    };
    tokio::time::timeout(Duration::from_secs(60), collect)
        .await
        .expect("recording ends");
    let rec = Recorded {
        events,
        outcome: handle.wait().await,
    };
    assert_eq!(rec.written_sequences(), (2..9).collect::<Vec<_>>());
    assert_eq!(rec.stats().segments_missed, 0);
    let abandoned = rec
        .events
        .iter()
        .filter(|e| matches!(e, RecorderEvent::ProxyAbandoned))
        .count();
    assert_eq!(abandoned, 1, "{:?}", rec.events);
    assert!(!proxy.forwarded().is_empty());
}
