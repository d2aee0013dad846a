//! B9 chaos (`make chaos`; a bounded run is part of `make test`): several channels live on the
//! fake Twitch and a trailer run in progress while the server is SIGKILLed again and again at
//! moments a seeded dice picks (recording, finalize, a running yt-dlp/ffmpeg), a tool is
//! killed under the server, and one channel's origin vanishes for a while. Afterwards every
//! broadcast is one ready MP4 matching its parts, nothing is duplicated or left temporary, no
//! job is stuck. Also: the library filesystem full mid-recording, and PostgreSQL restarted
//! mid-job. Knobs: CHAOS_SEED, CHAOS_KILLS, CHAOS_SECONDS, CHAOS_CHANNELS, CHAOS_MOVIES (bench/chaos.mk).

mod common;
#[path = "common/chaos.rs"]
mod kit;

use common::twitch_world::{self, World, detail, wait_active, wait_detail};
use common::{Client, JobStatus, Server, backends, eventually, link_tools};
use kit::{Knobs, millis};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tapearr_api::routes::trailers::JobQueued;
use tapearr_core::events::model::EventRecord;
use tapearr_core::streams::model::{Recording, RecordingStatus};
use tapearr_core::trailers::model::{DownloadStatus, Profile};
use tapearr_core::trailers::{MediaDetail, MediaPage};
use tapearr_testkit::hls_origin::{ChannelSpec, Container, Fault, MediaParams};
use tapearr_testkit::radarr::{FakeRadarr, Movie};
use tapearr_testkit::tmdb::FakeTmdb;
use tapearr_testkit::video_origin::{VideoCodec, VideoOrigin, VideoSpec};

/// From the last restart to a settled library (finalize of every recording, the trailer run).
const SETTLE: Duration = Duration::from_secs(240);

type Env = Vec<(&'static str, String)>;

/// The trailer side of the world: a fake Radarr whose movies each know a trailer on the local
/// video site, slow enough that a run is still downloading or converting when a kill comes.
struct TrailerWorld {
    radarr: FakeRadarr,
    tmdb: FakeTmdb,
    origin: VideoOrigin,
    /// (title, year) of each movie.
    movies: Vec<(String, i32)>,
}

impl TrailerWorld {
    async fn start(library: &Path, n: usize) -> TrailerWorld {
        let tmdb = FakeTmdb::start().await.expect("tmdb");
        let radarr = FakeRadarr::start_with(tapearr_testkit::arr::ArrConfig {
            image_base: tmdb.image_base(),
            ..tapearr_testkit::radarr::default_config()
        })
        .await
        .expect("radarr");
        let origin = VideoOrigin::start().await.expect("video origin");
        let mut movies = Vec::new();
        for i in 0..n {
            let (title, year) = (format!("Chaos Movie {i}"), 2000 + i as i32);
            let dir = movie_dir(library, &title, year);
            std::fs::create_dir_all(&dir).expect("movie folder");
            std::fs::write(dir.join(format!("{title} ({year}).mkv")), b"not a movie")
                .expect("movie file");
            let id = format!("chaos{i:03}");
            radarr.add_movie(
                Movie::new(2_300_000 + i as i32, &title, year)
                    .path(&dir.display().to_string())
                    .with_file(1_000_000)
                    .trailer(&id),
            );
            // Throttled so each download takes seconds; every third one is VP9, so the
            // profile's H.264 output needs a real ffmpeg encode.
            let spec = VideoSpec::new(&format!("{title} ({year}) Official Trailer"))
                .seconds(3)
                .throttle(25_000);
            let spec = if i % 3 == 0 {
                spec.codec(VideoCodec::Vp9)
            } else {
                spec
            };
            origin.set_video(&id, spec);
            movies.push((title, year));
        }
        origin.prepare().await.expect("origin media");
        TrailerWorld {
            radarr,
            tmdb,
            origin,
            movies,
        }
    }

    fn env(&self) -> Env {
        vec![
            ("TAPEARR_TMDB__API_URL", format!("{}/3", self.tmdb.url())),
            ("TAPEARR_TMDB__API_KEY", self.tmdb.api_key().to_string()),
            ("TAPEARR_TRAILERS__WATCH_URL", self.origin.watch_template()),
            (
                "TAPEARR_TRAILERS__SEARCH_TARGET",
                format!("{}/feed?q={{query}}&n={{n}}", self.origin.url()),
            ),
            ("TAPEARR_TRAILERS__HOST_INTERVAL_SECS", "0".into()),
            ("TAPEARR_TRAILERS__HOST_JITTER_SECS", "0".into()),
        ]
    }
}

fn movie_dir(library: &Path, title: &str, year: i32) -> PathBuf {
    library.join("movies").join(format!("{title} ({year})"))
}

/// The origin's trailers are seconds long: the default profile's window is widened.
async fn accept_short_trailers(api: &mut Client) {
    let profiles: Vec<Profile> = api.get_json("/api/v1/trailers/profiles").await;
    let mut default = profiles
        .into_iter()
        .find(|p| p.enabled)
        .expect("an enabled default profile");
    default.search.min_duration_s = 1;
    // The profile as it is, but for the window (its id and times are not part of an input).
    let r = api
        .send_typed(
            reqwest::Method::PUT,
            &format!("/api/v1/trailers/profiles/{}", default.id),
            &default,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn start_trailer_run(api: &mut Client, t: &TrailerWorld) {
    let r = api
        .post(
            "/api/v1/trailers/connections",
            json!({"name": "Radarr", "kind": "radarr", "url": t.radarr.url(),
                   "api_key": t.radarr.api_key()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The connection's first sync is queued by the create; the run syncs what it needs.
    let r = api.post("/api/v1/trailers/run", json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
}

/// The default media, or one whose origin answers 503 for ~12 s after segment 8 and comes
/// back with its media sequence restarted (a restarted edge).
fn channel_spec(vanishing: bool) -> ChannelSpec {
    let spec = ChannelSpec::new(MediaParams::test(Container::Ts)).window(5);
    if vanishing {
        spec.fault(Fault::PlaylistStatus {
            after: 8,
            status: 503,
            times: 12,
        })
        .fault(Fault::Reset { at: 20 })
    } else {
        spec
    }
}

/// The broadcasts of the story, and what is live now.
struct Channels {
    logins: Vec<String>,
    ids: Vec<String>,
    live: Vec<bool>,
    broadcasts: BTreeMap<String, usize>,
    /// When each broadcast went live and offline, by login, in order.
    spans: HashMap<String, Vec<(Instant, Option<Instant>)>>,
}

impl Channels {
    async fn go_live(&mut self, w: &World, i: usize, vanishing: bool) {
        w.twitch.set_channel_spec(channel_spec(vanishing));
        let n = self.broadcasts.entry(self.logins[i].clone()).or_default();
        *n += 1;
        let title = format!("Chaos broadcast {n}");
        w.twitch
            .go_live(&self.logins[i], &title, "Just Chatting")
            .await
            .expect("go live");
        w.twitch.set_channel_spec(channel_spec(false));
        self.live[i] = true;
        let spans = self.spans.entry(self.logins[i].clone()).or_default();
        spans.push((Instant::now(), None));
    }

    fn go_offline(&mut self, w: &World, i: usize) {
        w.twitch.go_offline(&self.logins[i]).expect("go offline");
        self.live[i] = false;
        if let Some(last) = self
            .spans
            .get_mut(&self.logins[i])
            .and_then(|s| s.last_mut())
        {
            last.1 = Some(Instant::now());
        }
    }

    fn new() -> Channels {
        Channels {
            logins: Vec::new(),
            ids: Vec::new(),
            live: Vec::new(),
            broadcasts: BTreeMap::new(),
            spans: HashMap::new(),
        }
    }

    async fn add(&mut self, w: &World, api: &mut Client, login: String) {
        w.twitch.add_user(&login, &login);
        self.ids
            .push(twitch_world::add(api, &login).await.channel.id);
        self.logins.push(login);
        self.live.push(false);
    }

    /// Lost time is visible: each broadcast's MP4 plus its recorded gaps covers the time it
    /// was live (less the few seconds it takes to notice the start and the end).
    async fn assert_time_accounted(&self, b: &str, api: &mut Client) {
        let recs = kit::all_recordings(api).await;
        for (i, login) in self.logins.iter().enumerate() {
            let mut mine: Vec<&Recording> = recs
                .iter()
                .filter(|r| r.channel_id == self.ids[i])
                .collect();
            mine.sort_by_key(|r| r.started_at);
            let spans = self.spans.get(login).cloned().unwrap_or_default();
            for (r, (live, offline)) in mine.iter().zip(spans) {
                let Some(offline) = offline else { continue };
                let wall = (offline - live).as_secs_f64();
                let id = &r.id;
                let detail = detail(api, id).await;
                let gaps = detail.gaps.iter().map(|g| g.ms).sum::<u64>() as f64 / 1000.0;
                let mp4 = r.library.duration_ms.unwrap_or(0) as f64 / 1000.0;
                assert!(
                    mp4 + gaps >= wall - LATENCY_S,
                    "{b}: {login} {id}: live {wall:.1} s, but the MP4 holds {mp4:.1} s and the \
                     gaps {gaps:.1} s: {:.1} s lost without a trace; gaps: {:?}",
                    wall - mp4 - gaps,
                    detail.gaps
                );
            }
        }
    }
}

/// Seconds between going live or offline and the server noticing (1 s polls, a playlist
/// round or two).
const LATENCY_S: f64 = 6.0;

/// The running server and how to start it again on the same data dir.
struct Life<'a> {
    server: Option<Server>,
    data: &'a Path,
    db: Option<&'a str>,
    env: Env,
    key: String,
    kills: usize,
    /// Tools of a killed server still running once the next server listens.
    orphans: Vec<kit::Tool>,
}

impl Life<'_> {
    fn server(&self) -> &Server {
        self.server.as_ref().expect("a running server")
    }

    fn client(&self) -> Client {
        Client::with_key(self.server(), &self.key)
    }

    /// SIGKILL, a short random outage, the same server again.
    async fn kill_and_restart(&mut self, rng: &mut StdRng, why: &str) {
        let server = self.server.take().expect("a running server");
        let pid = server.pid();
        let tools = kit::tools_of(pid);
        server.kill9();
        self.kills += 1;
        println!(
            "chaos: kill {} ({why}); its tools then: {tools:?}",
            self.kills
        );
        // The outage itself is part of the chaos: a deliberate, random wait.
        tokio::time::sleep(millis(rng, 0, 1500)).await;
        self.server = Some(twitch_world::start(self.data, self.db, self.env.clone()));
        // The killed server's tools must be gone once the next one listens (it kills them
        // before any work resumes): an orphaned remux would write the same temporary MP4 as the
        // next server's, an orphaned yt-dlp into a work folder the next one reuses. (Killed
        // ones go at once; 2 s leaves room to be reaped.) Noted here, asserted at the end, so
        // the library checks still report what they find.
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let left: Vec<kit::Tool> = tools
                .iter()
                .filter(|t| kit::alive(t.pid))
                .cloned()
                .collect();
            if left.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                println!("chaos: tools outlived the killed server {pid}: {left:?}");
                self.orphans.extend(left);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits (up to `within`) until the server runs a media tool.
async fn wait_tool(server: &Server, within: Duration) -> Option<kit::Tool> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(t) = kit::tools_of(server.pid()).into_iter().next() {
            return Some(t);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Finalize has started (or is done) once the recorder noticed the end.
fn finalizing_or_ready(r: &Recording) -> bool {
    matches!(
        r.status,
        RecordingStatus::Finalizing | RecordingStatus::Ready
    )
}

/// Waits until every live channel has its recording (again, after a restart).
async fn wait_live_recordings(client: &mut Client, ch: &Channels) -> Vec<String> {
    let mut recs = Vec::new();
    for (i, id) in ch.ids.iter().enumerate() {
        if ch.live[i] {
            recs.push(wait_active(client, id).await.id);
        }
    }
    recs
}

/// What a kill interrupts.
#[derive(Debug, Clone, Copy)]
enum Moment {
    Recording,
    Finalize,
    Trailer,
    ToolKill,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_sigkill_leaves_every_broadcast_one_ready_mp4_and_nothing_else() {
    let knobs = Knobs::from_env();
    println!(
        "chaos seed {} (rerun with CHAOS_SEED={}), {} kills, {} s, {} channels, {} movies",
        knobs.seed, knobs.seed, knobs.kills, knobs.seconds, knobs.channels, knobs.movies
    );
    for backend in backends("chaos").await {
        let b = backend.name;
        let started = Instant::now();
        let mut rng = knobs.rng();
        let w = twitch_world::world().await;
        let t = TrailerWorld::start(w.library.path(), knobs.movies).await;
        let root = w.library.path().canonicalize().expect("library root");
        let data = tempfile::tempdir().expect("data");
        link_tools(data.path());
        let env = twitch_world::env(&w, &t.env());
        let server = twitch_world::start(data.path(), backend.database_url.as_deref(), env.clone());
        let (mut api, key) = Client::admin(&server).await;
        let mut ch = Channels::new();
        for i in 0..knobs.channels {
            ch.add(&w, &mut api, format!("chaos_{i}")).await;
        }
        let shadow = kit::PartsShadow::start(&root);
        accept_short_trailers(&mut api).await;
        start_trailer_run(&mut api, &t).await;
        for i in 0..knobs.channels {
            // Channel 0's origin vanishes for a while in its first broadcast.
            ch.go_live(&w, i, i == 0).await;
        }
        let mut life = Life {
            server: Some(server),
            data: data.path(),
            db: backend.database_url.as_deref(),
            env,
            key,
            kills: 0,
            orphans: Vec::new(),
        };
        let mut tool_kills = 0;
        let mut killed_tools: Vec<String> = Vec::new();
        // The story first (killed while the recorders' counters are unflushed), then
        // each other kind of moment once in a random order, then whatever the dice say.
        let mut script = vec![Moment::Finalize, Moment::Trailer, Moment::ToolKill];
        script.shuffle(&mut rng);
        script.insert(0, Moment::Recording);
        script.reverse();
        let long_enough = Duration::from_secs(knobs.seconds);
        while life.kills < knobs.kills || started.elapsed() < long_enough {
            let mut api = life.client();
            wait_live_recordings(&mut api, &ch).await;
            let moment = script.pop().unwrap_or(match rng.gen_range(0..10) {
                0..=2 => Moment::Recording,
                3..=5 => Moment::Finalize,
                6..=8 => Moment::Trailer,
                _ => Moment::ToolKill,
            });
            println!("chaos: {:?} next, at {:?}", moment, started.elapsed());
            // The random sleeps below are the dice choosing the instant of a kill once its
            // moment is reached (a state awaited through the API or /proc), not waits for state.
            match moment {
                Moment::Recording => {
                    // Now and then an ended channel starts a new broadcast.
                    if let Some(i) = (0..knobs.channels).find(|i| !ch.live[*i])
                        && rng.gen_bool(0.5)
                    {
                        ch.go_live(&w, i, false).await;
                        wait_active(&api, &ch.ids[i]).await;
                    }
                    tokio::time::sleep(millis(&mut rng, 500, 5000)).await;
                    life.kill_and_restart(&mut rng, "recording").await;
                }
                Moment::Finalize => {
                    let live: Vec<usize> = (0..knobs.channels).filter(|i| ch.live[*i]).collect();
                    let Some(&i) = live.get(rng.gen_range(0..live.len().max(1))) else {
                        // Nothing live: start a broadcast, to end it at a later moment.
                        let i = rng.gen_range(0..knobs.channels);
                        ch.go_live(&w, i, false).await;
                        continue;
                    };
                    let rec = wait_active(&api, &ch.ids[i]).await.id;
                    ch.go_offline(&w, i);
                    // Finalize starts once the recorder noticed the end.
                    eventually(Duration::from_secs(60), "finalize to start", || async {
                        finalizing_or_ready(&detail(&api, &rec).await.recording).then_some(())
                    })
                    .await;
                    tokio::time::sleep(millis(&mut rng, 0, 1200)).await;
                    life.kill_and_restart(&mut rng, "finalize").await;
                }
                Moment::Trailer | Moment::ToolKill => {
                    let Some(tool) = wait_tool(life.server(), Duration::from_secs(15)).await else {
                        // The run is over: a recording moment instead.
                        tokio::time::sleep(millis(&mut rng, 500, 3000)).await;
                        life.kill_and_restart(&mut rng, "recording (no tool running)")
                            .await;
                        continue;
                    };
                    tokio::time::sleep(millis(&mut rng, 0, 600)).await;
                    if matches!(moment, Moment::ToolKill) && tool_kills < 2 {
                        tool_kills += 1;
                        println!("chaos: SIGKILL to the server's {tool:?}");
                        killed_tools.push(tool.cmdline.clone());
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(tool.pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    } else {
                        life.kill_and_restart(&mut rng, &format!("while running {tool:?}"))
                            .await;
                    }
                }
            }
        }

        // Settle: every channel ends, the last server finishes everything.
        let mut api = life.client();
        wait_live_recordings(&mut api, &ch).await;
        for i in 0..knobs.channels {
            if ch.live[i] {
                tokio::time::sleep(millis(&mut rng, 0, 1500)).await;
                ch.go_offline(&w, i);
            }
        }
        kit::wait_settled(&api, SETTLE, b).await;
        eventually(SETTLE, "the trailer runs to finish", || {
            let api = api.clone();
            async move {
                let runs = kit::all_jobs(&api, "&kind=trailers.run").await;
                let done = !runs.is_empty()
                    && runs.iter().all(|j| {
                        matches!(
                            j.status,
                            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
                        )
                    });
                done.then_some(runs)
            }
        })
        .await;
        // A run killed on each of its attempts ends `failed` (the queue's poison-pill guard):
        // the user runs it again. That run, undisturbed, must complete what is missing and
        // touch nothing already placed.
        let r = api.post("/api/v1/trailers/run", json!({})).await;
        assert_eq!(r.status, 202, "{b}: {}", r.body);
        let job = r.json::<JobQueued>().job_id;
        let done = api.wait_job(&job, SETTLE).await;
        assert_eq!(
            done.status,
            JobStatus::Succeeded,
            "{b}: the run after the chaos: {done:?}"
        );
        let parts = shadow.finish();
        println!(
            "{b}: parts held (s): {parts:?}; broadcasts {:?}",
            ch.broadcasts
        );
        kit::assert_settled_library(b, &api, &root, &ch.broadcasts, Some(&parts), true).await;
        assert_trailers_placed_once(b, &mut api, &root, &t, &killed_tools).await;
        ch.assert_time_accounted(b, &mut api).await;
        println!(
            "{b}: {} server kills, {tool_kills} tool kills, seed {}, {:?}",
            life.kills,
            knobs.seed,
            started.elapsed()
        );
        assert!(
            life.orphans.is_empty(),
            "{b}: tools outlived their killed server: {:?}",
            life.orphans
        );
        if let Some(server) = life.server.take() {
            server.terminate();
        }
    }
}

/// Each movie: one trailer file, the profile's name, a video ffprobe reads, one record
/// `downloaded`, however often the server died under its download. A movie whose own tool was
/// killed may instead have failed (and waits for its backoff), with nothing left on disk.
async fn assert_trailers_placed_once(
    b: &str,
    api: &mut Client,
    root: &Path,
    t: &TrailerWorld,
    killed_tools: &[String],
) {
    let media: MediaPage = api.get_json("/api/v1/trailers/media?limit=500").await;
    let by_title: HashMap<String, String> = media
        .items
        .into_iter()
        .map(|m| (m.item.title, m.item.id))
        .collect();
    for (i, (title, year)) in t.movies.iter().enumerate() {
        let id = by_title
            .get(title)
            .unwrap_or_else(|| panic!("{b}: {title} synced"));
        let video_id = format!("chaos{i:03}");
        let tool_killed = killed_tools
            .iter()
            .any(|c| c.contains(&video_id) || c.contains(id));
        let detail: MediaDetail = api.get_json(&format!("/api/v1/trailers/media/{id}")).await;
        let downloads = &detail.downloads;
        assert_eq!(downloads.len(), 1, "{b}: {title}: one record: {detail:?}");
        let dir = movie_dir(root, title, *year);
        let (files, _) = kit::walk(&dir);
        let trailers: Vec<&PathBuf> = files
            .iter()
            .filter(|p| !p.ends_with(format!("{title} ({year}).mkv")))
            .collect();
        if tool_killed && downloads[0].status == DownloadStatus::Failed {
            assert!(
                trailers.is_empty(),
                "{b}: {title}: a failed download left {trailers:?}"
            );
            continue;
        }
        assert_eq!(
            downloads[0].status,
            DownloadStatus::Downloaded,
            "{b}: {title}: {detail:?}"
        );
        let expected = dir.join(format!("{title} ({year})-trailer.mp4"));
        assert_eq!(
            trailers,
            vec![&expected],
            "{b}: {title}: one trailer beside the movie"
        );
        assert!(
            kit::probe_seconds(&expected).is_some_and(|s| s > 1.0),
            "{b}: {} is a whole video",
            expected.display()
        );
    }
}

/// A mounted size-limited tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` when this machine refuses the mount (not root, no CAP_SYS_ADMIN).
    fn mount(mb: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("mount point");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        if !out.status.success() {
            println!(
                "SKIPPED: cannot mount a {mb} MB tmpfs: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn free_bytes(&self) -> u64 {
        let st = nix::sys::statvfs::statvfs(self.path()).expect("statvfs");
        st.blocks_available() * st.fragment_size()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The library on a 40 MB filesystem that two recordings fill: the server stays up, the lost
/// time is a gap saying "No space left", `system.disk_low` is raised at once; once space is
/// freed the recordings finalize by themselves into MP4s that decode without an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_library_disk_is_reported_and_recordings_still_end_ready() {
    let Some(disk) = SmallDisk::mount(40) else {
        return;
    };
    for backend in backends("chaos_disk").await {
        let b = backend.name;
        let world = twitch_world::world().await;
        let root = disk.path().join(b);
        std::fs::create_dir_all(&root).expect("library on the small disk");
        let env = twitch_world::env(&world, &[])
            .into_iter()
            .map(|(k, v)| {
                if k == "TAPEARR_LIBRARY_ROOTS" {
                    (k, root.display().to_string())
                } else {
                    (k, v)
                }
            })
            .collect::<Env>();
        let data = tempfile::tempdir().expect("data");
        let server = twitch_world::start(data.path(), backend.database_url.as_deref(), env);
        let (mut api, _) = Client::admin(&server).await;
        let mut ch = Channels::new();
        for i in 0..2 {
            ch.add(&world, &mut api, format!("full_{b}_{i}")).await;
        }
        for i in 0..2 {
            ch.go_live(&world, i, false).await;
        }
        let recs = wait_live_recordings(&mut api, &ch).await;
        // Leave ~0.8 MB: the two recordings (~60 kB/s together) fill it in about ten seconds.
        let filler = root.join("filler.bin");
        let fill = disk.free_bytes().saturating_sub(800_000);
        let file = std::fs::File::create(&filler).expect("filler");
        file.set_len(0).expect("filler");
        {
            use std::io::Write;
            let mut f = std::io::BufWriter::new(file);
            let chunk = vec![0u8; 1 << 20];
            let mut left = fill;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                f.write_all(&chunk[..n]).expect("fill the disk");
                left -= n as u64;
            }
            f.flush().expect("fill the disk");
        }
        let full_at = tokio::time::Instant::now();
        let gap = eventually(Duration::from_secs(60), "a 'No space left' gap", || {
            let api = api.clone();
            let recs = recs.clone();
            async move {
                for id in &recs {
                    let r = detail(&api, id).await;
                    if let Some(g) = r
                        .gaps
                        .into_iter()
                        .find(|g| g.reason.contains("No space left"))
                    {
                        return Some(g);
                    }
                }
                None
            }
        })
        .await;
        println!("{b}: gap after {:?}: {gap:?}", full_at.elapsed());
        // Promptly: not at the next periodic disk check (every 10 minutes).
        eventually(Duration::from_secs(15), "system.disk_low", || {
            let mut api = api.clone();
            async move {
                let events: Vec<EventRecord> =
                    api.get_json("/api/v1/events?type=system.disk_low").await;
                (!events.is_empty()).then_some(())
            }
        })
        .await;
        let ready = api.get("/readyz").await;
        assert!(
            ready.status.is_success(),
            "{b}: the server is up: {}",
            ready.body
        );

        // The broadcasts end while the disk is still full; finalize waits for space.
        for i in 0..2 {
            ch.go_offline(&world, i);
        }
        for id in &recs {
            wait_detail(&api, id, "the recording to end", |r| {
                r.recording.status != RecordingStatus::Recording
            })
            .await;
        }
        std::fs::remove_file(&filler).expect("free the space");
        let settled = kit::wait_settled(&api, SETTLE, b).await;
        println!("{b}: settled:\n{}", kit::summary(&settled));
        kit::assert_settled_library(b, &api, &root, &ch.broadcasts, None, true).await;
        ch.assert_time_accounted(b, &mut api).await;
        server.terminate();
    }
}

/// Whether this process runs as root (its effective uid, from /proc).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// A private PostgreSQL cluster for the restart story: restarting the shared one would break
/// every other test using it at that moment.
struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    /// The newest installed server binaries (Debian's /usr/lib/postgresql/N/bin).
    fn bin() -> Option<PathBuf> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("pg_ctl").exists() && p.join("initdb").exists())
            .collect();
        versions.sort_by_key(|p| {
            p.parent()
                .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
                .unwrap_or(0)
        });
        versions.pop()
    }

    /// Runs a server binary as the `postgres` user when we are root (initdb refuses root).
    fn run(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let program = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            std::process::Command::new(&program)
        };
        cmd.args(args).output().expect("run a PostgreSQL tool")
    }

    fn start() -> Option<PrivatePostgres> {
        let bin = Self::bin()?;
        let dir = tempfile::tempdir().expect("cluster dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        if is_root() {
            let _ = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status();
        }
        let pg = PrivatePostgres { bin, dir, port };
        let data = pg.data();
        let init = pg.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        pg.ctl("start");
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn ctl(&self, action: &str) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &opts,
                "-w",
                "-m",
                "fast",
                action,
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl {action}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

/// PostgreSQL restarted while three channels record and one finalizes: the server rides it
/// out and ends in the same state as an undisturbed run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_job_changes_nothing_in_the_end() {
    if std::env::var("TAPEARR_TEST_PG_URL").is_err() {
        println!("SKIPPED: TAPEARR_TEST_PG_URL is not set (PostgreSQL tests are off)");
        return;
    }
    let Some(pg) = PrivatePostgres::start() else {
        println!("SKIPPED: no PostgreSQL server binaries under /usr/lib/postgresql");
        return;
    };
    let knobs = Knobs::from_env();
    let mut rng = knobs.rng();
    println!(
        "chaos seed {} (rerun with CHAOS_SEED={})",
        knobs.seed, knobs.seed
    );
    let w = twitch_world::world().await;
    let root = w.library.path().canonicalize().expect("library root");
    let data = tempfile::tempdir().expect("data");
    let url = pg.url();
    let server = twitch_world::start(data.path(), Some(&url), twitch_world::env(&w, &[]));
    let (mut api, _) = Client::admin(&server).await;
    let mut ch = Channels::new();
    for i in 0..3 {
        ch.add(&w, &mut api, format!("pg_restart_{i}")).await;
    }
    let shadow = kit::PartsShadow::start(&root);
    for i in 0..3 {
        ch.go_live(&w, i, false).await;
    }
    let recs = wait_live_recordings(&mut api, &ch).await;
    for rec in &recs {
        wait_detail(&api, rec, "some media", |r| r.recording.media_ms >= 3000).await;
    }
    // One broadcast ends, so its finalize job runs while the database goes away.
    ch.go_offline(&w, 0);
    wait_detail(&api, &recs[0], "finalize to start", |r| {
        finalizing_or_ready(&r.recording)
    })
    .await;
    tokio::time::sleep(millis(&mut rng, 0, 800)).await;
    pg.ctl("restart");
    println!("PostgreSQL restarted");
    // Both recordings go on; then they end too.
    for (i, rec) in recs.iter().enumerate().skip(1) {
        let before = detail(&api, rec).await.recording.media_ms;
        wait_detail(&api, rec, "media after the restart", |r| {
            r.recording.media_ms >= before + 3000
        })
        .await;
        ch.go_offline(&w, i);
    }
    kit::wait_settled(&api, SETTLE, "postgres restart").await;
    let parts = shadow.finish();
    kit::assert_settled_library(
        "postgres restart",
        &api,
        &root,
        &ch.broadcasts,
        Some(&parts),
        true,
    )
    .await;
    ch.assert_time_accounted("postgres restart", &mut api).await;
    server.terminate();
}
