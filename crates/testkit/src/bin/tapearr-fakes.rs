//! Runs the local fakes by hand (demos, benchmarks).
//!
//! `tapearr-fakes hls [--bind 127.0.0.1:0] [--channels N] [--fmp4] [--realistic] [--window N]
//!  [--ad-every N --ad-len N] [--ladder]`
//!
//! Prints `READY http://ADDR` then one master playlist URL per channel (`ch0` … `chN-1`),
//! and serves until stdin closes or Ctrl-C.
//!
//! `tapearr-fakes twitch [--bind 127.0.0.1:0] [--client-id ID --client-secret S] [--realistic]
//!  [--window N]`
//!
//! Starts an HLS origin and a fake Twitch, prints `READY http://ADDR` (the fake Twitch; helix
//! `{base}/helix/`, id `{base}/`, gql `{base}/gql`, usher `{base}/`) and then
//! `ORIGIN http://ADDR` (the HLS origin: a live channel's master playlist is
//! `{origin}/{login}/master.m3u8`), then `CHAT ws://ADDR/irc` (the IRC-over-WebSocket chat;
//! `POST {base}/_control/chat/{login}` says a message), driven through `/_control/…`, and serves until stdin
//! closes or Ctrl-C. `--realistic` gives channels that go live 2 s, 2.5 Mbps 720p segments
//! (benchmarks) instead of the tiny test ones; `--window` their live window in segments.
//!
//! `tapearr-fakes trailers [--movies N] [--series N] [--seed S] [--sonarr-v3] [--host IP]`
//!
//! Starts a fake Radarr, Sonarr (4.x, or 3.x), TMDB (videos for every id), a video origin
//! for yt-dlp's generic extractor, a Plex (token `fake-plex-token`, no sections until added)
//! and a Jellyfin (API key `fake-jellyfin-key`, no libraries until added), then prints one line
//! `READY {json}` with their URLs and keys (`radarr`, `sonarr`, `tmdb`, `videoOrigin`, `plex`
//! with its `token`, `plexTv`: a plex.tv whose account behind that token has this Plex,
//! `jellyfin` with its `apiKey`), and serves until stdin closes or Ctrl-C.
//! Each is driven through its own `/_control/…` (Plex: `sections` and `items`; Jellyfin:
//! `folders` and `items`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tapearr_testkit::hls_origin::{ChannelSpec, Container, HlsOrigin, MediaParams};
use tapearr_testkit::media_servers::FakeMediaServer;
use tapearr_testkit::twitch::{FakeTwitch, FakeTwitchConfig};
use tapearr_testkit::{radarr, sonarr, tmdb, video_origin};

/// The X-Plex-Token the trailers' fake Plex accepts.
const PLEX_TOKEN: &str = "fake-plex-token";

/// The API key the trailers' fake Jellyfin accepts.
const JELLYFIN_KEY: &str = "fake-jellyfin-key";

struct Args {
    bind: String,
    channels: u32,
    container: Container,
    realistic: bool,
    window: u64,
    ad_every: u64,
    ad_len: u64,
    ladder: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        bind: "127.0.0.1:0".into(),
        channels: 1,
        container: Container::Ts,
        realistic: false,
        window: 5,
        ad_every: 0,
        ad_len: 3,
        ladder: false,
    };
    let mut it = std::env::args().skip(1);
    match it.next().as_deref() {
        Some("hls") => {}
        other => {
            return Err(format!(
                "unknown fake {other:?}; available: hls, twitch, trailers"
            ));
        }
    }
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("bad number {v}: {e}"));
        match flag.as_str() {
            "--bind" => a.bind = value()?,
            "--channels" => a.channels = num(value()?)? as u32,
            "--window" => a.window = num(value()?)?,
            "--ad-every" => a.ad_every = num(value()?)?,
            "--ad-len" => a.ad_len = num(value()?)?,
            "--fmp4" => a.container = Container::Fmp4,
            "--realistic" => a.realistic = true,
            "--ladder" => a.ladder = true,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

struct TwitchArgs {
    cfg: FakeTwitchConfig,
    realistic: bool,
    window: u64,
}

fn parse_twitch_args() -> Result<TwitchArgs, String> {
    let mut a = TwitchArgs {
        cfg: FakeTwitchConfig::default(),
        realistic: false,
        window: 5,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bind" => a.cfg.bind = value()?,
            "--client-id" => a.cfg.client_id = value()?,
            "--client-secret" => a.cfg.client_secret = value()?,
            "--realistic" => a.realistic = true,
            "--window" => {
                let v = value()?;
                a.window = v.parse().map_err(|e| format!("bad number {v}: {e}"))?;
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

async fn run_twitch() -> ExitCode {
    let TwitchArgs {
        cfg,
        realistic,
        window,
    } = match parse_twitch_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tapearr-fakes: {e}");
            return ExitCode::from(2);
        }
    };
    let origin = match HlsOrigin::start().await {
        Ok(o) => Arc::new(o),
        Err(e) => {
            eprintln!("tapearr-fakes: hls origin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bind = cfg.bind.clone();
    let twitch = match FakeTwitch::start_with(origin, cfg).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tapearr-fakes: bind {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let params = if realistic {
        MediaParams::realistic(Container::Ts)
    } else {
        MediaParams::test(Container::Ts)
    };
    twitch.set_channel_spec(ChannelSpec::new(params).window(window));
    println!("READY {}", twitch.url());
    println!("ORIGIN http://{}", twitch.origin().addr());
    println!("CHAT {}", twitch.chat_url());
    serve_until_done().await;
    ExitCode::SUCCESS
}

struct TrailersArgs {
    movies: usize,
    series: usize,
    seed: u64,
    sonarr_v3: bool,
    host: String,
}

fn parse_trailers_args() -> Result<TrailersArgs, String> {
    let mut a = TrailersArgs {
        movies: 50,
        series: 10,
        seed: 7,
        sonarr_v3: false,
        host: "127.0.0.1".into(),
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("bad number {v}: {e}"));
        match flag.as_str() {
            "--movies" => a.movies = num(value()?)? as usize,
            "--series" => a.series = num(value()?)? as usize,
            "--seed" => a.seed = num(value()?)?,
            "--sonarr-v3" => a.sonarr_v3 = true,
            "--host" => a.host = value()?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

async fn run_trailers() -> ExitCode {
    let a = match parse_trailers_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tapearr-fakes: {e}");
            return ExitCode::from(2);
        }
    };
    let bind = format!("{}:0", a.host);
    let started = async {
        let tmdb = tmdb::FakeTmdb::start_with(tmdb::TmdbConfig {
            bind: bind.clone(),
            ..tmdb::TmdbConfig::default()
        })
        .await?;
        tmdb.generate_unknown(Some(a.seed));
        let radarr = radarr::FakeRadarr::start_with(tapearr_testkit::arr::ArrConfig {
            bind: bind.clone(),
            image_base: tmdb.image_base(),
            ..radarr::default_config()
        })
        .await?;
        radarr.generate(a.movies, a.seed);
        let base = if a.sonarr_v3 {
            sonarr::config_v3()
        } else {
            sonarr::default_config()
        };
        let sonarr = sonarr::FakeSonarr::start_with(tapearr_testkit::arr::ArrConfig {
            bind: bind.clone(),
            image_base: tmdb.image_base(),
            ..base
        })
        .await?;
        sonarr.generate(a.series, a.seed);
        let origin = video_origin::VideoOrigin::bind(&[bind.as_str()]).await?;
        let plex = FakeMediaServer::plex_on(&bind, PLEX_TOKEN, &[]).await?;
        // plex.tv for "Sign in with Plex": the account behind PLEX_TOKEN has this one server.
        let plex_tv = tapearr_testkit::plex_tv::FakePlexTv::start_on(&bind).await?;
        plex_tv.set_servers(
            PLEX_TOKEN,
            vec![tapearr_testkit::plex_tv::PlexServerEntry {
                name: "Fake Plex".into(),
                client_identifier: "fake-plex-server".into(),
                connections: vec![(plex.url(), true)],
            }],
        );
        let jellyfin = FakeMediaServer::jellyfin_on(&bind, JELLYFIN_KEY, false).await?;
        std::io::Result::Ok((tmdb, radarr, sonarr, origin, plex, plex_tv, jellyfin))
    };
    let (tmdb, radarr, sonarr, origin, plex, plex_tv, jellyfin) = match started.await {
        Ok(all) => all,
        Err(e) => {
            eprintln!("tapearr-fakes: bind {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ready = serde_json::json!({
        "radarr": {"url": radarr.url(), "apiKey": radarr.api_key(), "movies": radarr.len()},
        "sonarr": {"url": sonarr.url(), "apiKey": sonarr.api_key(), "series": sonarr.len(),
                   "version": sonarr.config().version},
        "tmdb": {"url": tmdb.url(), "apiKey": tmdb.api_key(), "readToken": tmdb.read_token(),
                 "imageBase": tmdb.image_base()},
        "videoOrigin": {"url": origin.url(), "watchTemplate": origin.watch_template()},
        "plex": {"url": plex.url(), "token": PLEX_TOKEN},
        "plexTv": {"url": plex_tv.url()},
        "jellyfin": {"url": jellyfin.url(), "apiKey": JELLYFIN_KEY},
    });
    println!("READY {ready}");
    serve_until_done().await;
    ExitCode::SUCCESS
}

/// Serve until stdin closes (the harness exits) or Ctrl-C.
async fn serve_until_done() {
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    tokio::select! {
        _ = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("twitch") => return run_twitch().await,
        Some("trailers") => return run_trailers().await,
        _ => {}
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tapearr-fakes: {e}");
            return ExitCode::from(2);
        }
    };
    let params = if args.realistic {
        MediaParams::realistic(args.container)
    } else {
        MediaParams::test(args.container)
    };
    let origin = match HlsOrigin::bind(&args.bind).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tapearr-fakes: bind {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let seg_ms = u64::from(params.segment_ms);
    println!("READY http://{}", origin.addr());
    for i in 0..args.channels {
        let mut spec = ChannelSpec::new(params.clone())
            .window(args.window)
            // Spread channels over one segment duration so they do not publish in lockstep.
            .phase(Duration::from_millis(
                u64::from(i) * seg_ms / u64::from(args.channels.max(1)),
            ));
        if args.ladder {
            spec = spec.ladder();
        }
        if let Some(breaks) = (86_400_000 / seg_ms).checked_div(args.ad_every) {
            // A day's worth of breaks is plenty for a demo.
            for k in 1..=breaks {
                spec = spec.ad(k * args.ad_every, args.ad_len);
            }
        }
        match spec.build().await {
            Ok(config) => origin.add_channel(&format!("ch{i}"), config),
            Err(e) => {
                eprintln!("tapearr-fakes: {e}");
                return ExitCode::FAILURE;
            }
        }
        println!("{}", origin.master_url(&format!("ch{i}")));
    }
    serve_until_done().await;
    ExitCode::SUCCESS
}
