use super::planner::{GIB, gb, gib};
use super::*;
use crate::streams::model::RecordingStatus;
use crate::time::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const MB: u64 = 1_048_576;
/// Monday 2024-01-01 00:00 UTC.
const MONDAY: i64 = 1_704_067_200_000;
const NOW: Timestamp = Timestamp(MONDAY + 100 * DAY);

fn rec(id: &str, channel: &str, started_days_ago: i64, mb: u64) -> Candidate {
    let started = NOW.millis() - started_days_ago * DAY;
    Candidate {
        id: id.into(),
        channel_id: channel.into(),
        channel_login: channel.into(),
        title: format!("title {id}"),
        status: RecordingStatus::Ready,
        keep: false,
        favourite: false,
        categories: vec!["Just Chatting".into()],
        bytes: mb * MB,
        started_at: Timestamp(started),
        // Finished an hour after it started (or 10 minutes ago for today's).
        finished_at: Some(Timestamp((started + 60 * MIN).min(NOW.millis() - 10 * MIN))),
        volume: Some(0),
    }
}

struct Case {
    candidates: Vec<Candidate>,
    global: RetentionPolicy,
    channels: HashMap<String, ChannelRetention>,
    volumes: Vec<Volume>,
}

impl Case {
    fn new(candidates: Vec<Candidate>) -> Self {
        Self {
            candidates,
            global: RetentionPolicy::default(),
            channels: HashMap::new(),
            volumes: vec![Volume {
                path: "/lib".into(),
                free_bytes: 100_000 * MB,
            }],
        }
    }

    fn plan(&self) -> RetentionPlan {
        plan(&PlanInput {
            candidates: &self.candidates,
            global: &self.global,
            channels: &self.channels,
            volumes: &self.volumes,
            now: NOW,
            grace: Duration::from_secs(300),
        })
    }
}

fn deleted(p: &RetentionPlan) -> Vec<&str> {
    p.delete.iter().map(|d| d.recording_id.as_str()).collect()
}

fn kept(p: &RetentionPlan) -> Vec<(&str, &str)> {
    p.kept
        .iter()
        .map(|k| (k.recording_id.as_str(), k.reason.as_str()))
        .collect()
}

#[test]
fn the_default_policy_deletes_nothing() {
    let case = Case::new(vec![rec("a", "c1", 400, 10), rec("b", "c1", 1, 10)]);
    let p = case.plan();
    assert!(p.delete.is_empty());
    assert_eq!(p.delete_bytes, 0);
    assert_eq!(p.volumes[0].projected_free_bytes, 100_000 * MB);
}

#[test]
fn only_recordings_finished_longer_ago_than_the_grace_are_eligible() {
    let mut running = rec("running", "c1", 0, 1);
    running.status = RecordingStatus::Recording;
    running.finished_at = None;
    let mut ended = rec("ended", "c1", 9, 1);
    ended.status = RecordingStatus::Ended;
    let mut finalizing = rec("finalizing", "c1", 8, 1);
    finalizing.status = RecordingStatus::Finalizing;
    let mut fresh = rec("fresh", "c1", 7, 1);
    fresh.finished_at = Some(Timestamp(NOW.millis() - 4 * MIN));
    let mut edge = rec("edge", "c1", 6, 1);
    edge.finished_at = Some(Timestamp(NOW.millis() - 5 * MIN));
    let mut unknown = rec("unknown", "c1", 5, 1);
    unknown.finished_at = None;
    let mut failed = rec("failed", "c1", 4, 1);
    failed.status = RecordingStatus::Failed;
    let mut case = Case::new(vec![
        running, ended, finalizing, fresh, edge, unknown, failed,
    ]);
    case.global.max_count = Some(0);
    case.global.min_free_gb = Some(1_000_000.0);
    let p = case.plan();
    assert_eq!(deleted(&p), ["failed"]);
    assert_eq!(
        p.too_recent, 3,
        "fresh, edge (exactly the grace ago) and unknown"
    );
}

#[test]
fn age_deletes_what_started_before_the_cutoff() {
    let mut case = Case::new(vec![
        rec("old", "c1", 31, 1),
        rec("older", "c2", 90, 1),
        rec("young", "c1", 29, 1),
    ]);
    case.global.max_age_days = Some(30.0);
    let p = case.plan();
    assert_eq!(deleted(&p), ["older", "old"], "oldest first");
    assert!(p.delete.iter().all(|d| d.rule == RetentionRule::Age));
    assert_eq!(p.delete[0].reason, "older than 30 days");
}

#[test]
fn count_keeps_the_newest_per_channel() {
    let mut case = Case::new(vec![
        rec("a1", "a", 5, 1),
        rec("a2", "a", 4, 1),
        rec("a3", "a", 3, 1),
        rec("b1", "b", 10, 1),
        rec("b2", "b", 2, 1),
    ]);
    case.global.max_count = Some(2);
    let p = case.plan();
    assert_eq!(deleted(&p), ["a1"]);
    assert_eq!(p.delete[0].rule, RetentionRule::Count);
    assert_eq!(p.delete[0].reason, "count 3 > 2");
}

#[test]
fn size_deletes_the_oldest_until_the_rest_fits() {
    let mut case = Case::new(vec![
        rec("a1", "a", 5, 400),
        rec("a2", "a", 4, 400),
        rec("a3", "a", 3, 400),
        rec("a4", "a", 2, 400),
        rec("b1", "b", 9, 900),
    ]);
    case.global.max_total_gb = Some(1.0);
    let p = case.plan();
    // a: 1600 MiB → drop a1, a2 (800 MiB left); b: 900 MiB fits.
    assert_eq!(deleted(&p), ["a1", "a2"]);
    assert_eq!(p.delete[0].rule, RetentionRule::Size);
    assert_eq!(p.delete[0].reason, "total size 1.56 GiB > 1 GiB");
    assert_eq!(p.delete_bytes, 800 * MB);
}

#[test]
fn protected_recordings_are_kept_listed_and_not_counted() {
    let mut keep = rec("keep", "a", 50, 1);
    keep.keep = true;
    let mut art = rec("art", "a", 40, 1);
    art.categories = vec!["Just Chatting".into(), "ART".into()];
    let mut fav = rec("fav", "f", 60, 1);
    fav.favourite = true;
    // Saturday 2024-04-06 20:00 UTC, inside sat/sun 18:00–23:00.
    let mut weekend = rec("weekend", "a", 0, 1);
    weekend.started_at = Timestamp(MONDAY + (13 * 7 + 5) * DAY + 20 * 60 * MIN);
    let mut case = Case::new(vec![
        keep,
        art,
        fav,
        weekend,
        rec("plain1", "a", 30, 1),
        rec("plain2", "a", 20, 1),
    ]);
    case.global.max_count = Some(1);
    case.global.max_age_days = Some(1.0);
    case.global.keep_categories = vec!["art".into()];
    case.global.keep_windows = vec![KeepWindow {
        days: vec!["sat".into(), "sun".into()],
        from: "18:00".into(),
        to: "23:00".into(),
    }];
    let p = case.plan();
    assert_eq!(deleted(&p), ["plain1", "plain2"]);
    assert_eq!(
        kept(&p),
        [
            ("fav", "favourite channel"),
            ("keep", "kept by the user"),
            ("art", "category art"),
            (
                "weekend",
                "started in a kept window (sat,sun 18:00–23:00 UTC)"
            ),
        ]
    );

    // keep_favourites off: the favourite channel's recording goes; the user's keep still holds.
    case.global.keep_favourites = false;
    let p = case.plan();
    assert_eq!(deleted(&p), ["fav", "plain1", "plain2"]);
    assert!(kept(&p).contains(&("keep", "kept by the user")));
}

#[test]
fn windows_cross_midnight_and_cover_whole_days() {
    let fri = |h: i64, m: i64| Timestamp(MONDAY + 4 * DAY + h * 60 * MIN + m * MIN);
    let late = KeepWindow {
        days: vec!["friday".into()],
        from: "22:00".into(),
        to: "02:00".into(),
    };
    assert!(late.contains(fri(22, 0)));
    assert!(late.contains(fri(23, 59)));
    assert!(
        late.contains(fri(24 + 1, 59)),
        "Saturday 01:59 belongs to Friday's window"
    );
    assert!(!late.contains(fri(24 + 2, 0)));
    assert!(!late.contains(fri(21, 59)));
    assert!(
        !late.contains(fri(1, 0)),
        "Friday 01:00 belongs to Thursday's"
    );
    let whole = KeepWindow {
        days: vec!["mon".into()],
        from: "00:00".into(),
        to: "00:00".into(),
    };
    assert!(whole.contains(Timestamp(MONDAY + 13 * 60 * MIN)));
    assert!(!whole.contains(Timestamp(MONDAY + DAY)));
    let every_day = KeepWindow {
        days: vec![],
        from: "09:00".into(),
        to: "10:00".into(),
    };
    assert!(every_day.contains(fri(9, 30)));
    assert!(!every_day.contains(fri(10, 0)));
}

#[test]
fn low_space_deletes_the_oldest_eligible_until_enough_is_free() {
    let mut keep = rec("keep", "b", 90, 100);
    keep.keep = true;
    let mut fresh = rec("fresh", "a", 0, 100);
    fresh.finished_at = Some(Timestamp(NOW.millis() - MIN));
    let mut other_fs = rec("elsewhere", "a", 80, 100);
    other_fs.volume = Some(1);
    let mut case = Case::new(vec![
        keep,
        other_fs,
        rec("a1", "a", 50, 100),
        rec("b1", "b", 40, 100),
        rec("a2", "a", 30, 100),
        rec("a3", "a", 20, 100),
        fresh,
    ]);
    case.volumes = vec![
        Volume {
            path: "/lib".into(),
            free_bytes: 850 * MB,
        },
        Volume {
            path: "/other".into(),
            free_bytes: 10_000 * MB,
        },
    ];
    case.global.min_free_gb = Some(1.0);
    let p = case.plan();
    // 850 + 100 + 100 = 1050 MiB ≥ 1024 MiB after two; the kept and the fresh are never taken,
    // nor what lies on a file system with room.
    assert_eq!(deleted(&p), ["a1", "b1"]);
    assert!(p.delete.iter().all(|d| d.rule == RetentionRule::LowSpace));
    assert_eq!(p.delete[0].reason, "free space 0.83 GiB < 1 GiB");
    assert_eq!(p.volumes[0].projected_free_bytes, 1050 * MB);
    assert_eq!(p.volumes[0].min_free_bytes, Some(1024 * MB));
    assert_eq!(p.volumes[1].projected_free_bytes, 10_000 * MB);

    // Not enough to delete: everything eligible goes, and the plan says it is still short.
    case.volumes[0].free_bytes = 10 * MB;
    let p = case.plan();
    assert_eq!(deleted(&p), ["a1", "b1", "a2", "a3"]);
    assert_eq!(p.volumes[0].projected_free_bytes, 410 * MB);
}

#[test]
fn low_space_counts_what_the_limits_already_delete() {
    let mut case = Case::new(vec![
        rec("old", "a", 100, 300),
        rec("a1", "a", 50, 100),
        rec("a2", "a", 40, 100),
    ]);
    case.volumes[0].free_bytes = 800 * MB;
    case.global.min_free_gb = Some(1.0);
    case.global.max_age_days = Some(60.0);
    let p = case.plan();
    // The age rule frees 300 MiB: 1100 ≥ 1024, nothing more for low space.
    assert_eq!(deleted(&p), ["old"]);
    assert_eq!(p.delete[0].rule, RetentionRule::Age);
    assert_eq!(p.volumes[0].projected_free_bytes, 1100 * MB);
}

#[test]
fn rules_combine_each_item_with_the_first_rule_that_takes_it() {
    let mut case = Case::new(vec![
        rec("ancient", "a", 400, 10),
        rec("a1", "a", 50, 500),
        rec("a2", "a", 40, 500),
        rec("a3", "a", 30, 500),
        rec("a4", "a", 20, 500),
        rec("a5", "a", 10, 500),
        rec("b1", "b", 35, 50),
        rec("b2", "b", 5, 50),
    ]);
    case.global.max_age_days = Some(365.0);
    case.global.max_count = Some(4);
    case.global.max_total_gb = Some(1.5);
    case.global.min_free_gb = Some(100.0);
    case.volumes[0].free_bytes = 100 * 1024 * MB - 60 * MB;
    let p = case.plan();
    let rules: Vec<(&str, RetentionRule)> = p
        .delete
        .iter()
        .map(|d| (d.recording_id.as_str(), d.rule))
        .collect();
    assert_eq!(
        rules,
        [
            ("ancient", RetentionRule::Age),
            ("a1", RetentionRule::Count),
            ("a2", RetentionRule::Size),
            // 100 GiB − 60 MiB free + 1010 MiB freed ≥ 100 GiB: low space takes nothing more.
        ]
    );
    let again = case.plan();
    assert_eq!(p, again, "the same inputs give the same plan");
}

#[test]
fn channel_overrides_replace_inherit_and_clear() {
    let global = RetentionPolicy {
        max_count: Some(1),
        max_age_days: Some(10.0),
        keep_categories: vec!["Art".into()],
        min_free_gb: Some(5.0),
        ..RetentionPolicy::default()
    };
    let o: ChannelRetention =
        serde_json::from_str(r#"{"max_count": null, "keep_categories": []}"#).expect("json");
    let merged = global.merged(Some(&o));
    assert_eq!(merged.max_count, None, "null clears the limit");
    assert_eq!(merged.max_age_days, Some(10.0), "left out: inherited");
    assert!(merged.keep_categories.is_empty(), "set: replaced");
    assert_eq!(merged.min_free_gb, Some(5.0), "global only");
    assert_eq!(global.merged(None), global);

    let mut case = Case::new(vec![
        rec("a1", "a", 5, 1),
        rec("a2", "a", 4, 1),
        rec("b1", "b", 5, 1),
        rec("b2", "b", 4, 1),
    ]);
    case.global = global;
    case.channels.insert("b".into(), o);
    assert_eq!(deleted(&case.plan()), ["a1"]);
}

#[test]
fn channel_overrides_round_trip_and_refuse_the_global_only_field() {
    let o: ChannelRetention =
        serde_json::from_str(r#"{"max_count": null, "max_age_days": 3}"#).expect("json");
    assert_eq!(o.max_count, Some(None));
    assert_eq!(o.max_age_days, Some(Some(3.0)));
    assert_eq!(o.max_total_gb, None);
    let json = serde_json::to_string(&o).expect("json");
    assert_eq!(json, r#"{"max_count":null,"max_age_days":3.0}"#);
    assert_eq!(
        serde_json::from_str::<ChannelRetention>(&json).expect("again"),
        o
    );
    let err =
        serde_json::from_str::<ChannelRetention>(r#"{"min_free_gb": 1}"#).expect_err("global only");
    assert!(err.to_string().contains("min_free_gb"), "{err}");
}

#[test]
fn validation_explains_what_is_wrong() {
    let bad = |p: RetentionPolicy| p.validated().expect_err("invalid").to_string();
    let msg = bad(RetentionPolicy {
        max_total_gb: Some(-1.0),
        ..RetentionPolicy::default()
    });
    assert!(
        msg.contains("max_total_gb must be a number of GiB, 0 or more"),
        "{msg}"
    );
    let msg = bad(RetentionPolicy {
        max_age_days: Some(f64::NAN),
        ..RetentionPolicy::default()
    });
    assert!(msg.contains("max_age_days"), "{msg}");
    let msg = bad(RetentionPolicy {
        min_free_gb: Some(f64::INFINITY),
        ..RetentionPolicy::default()
    });
    assert!(msg.contains("min_free_gb"), "{msg}");
    let window = |days: &[&str], from: &str, to: &str| RetentionPolicy {
        keep_windows: vec![KeepWindow {
            days: days.iter().map(|d| d.to_string()).collect(),
            from: from.into(),
            to: to.into(),
        }],
        ..RetentionPolicy::default()
    };
    let msg = bad(window(&["sat", "funday"], "18:00", "23:00"));
    assert!(
        msg.contains("keep_windows[0].days: unknown day \"funday\""),
        "{msg}"
    );
    let msg = bad(window(&[], "25:00", "23:00"));
    assert!(
        msg.contains("keep_windows[0].from: \"25:00\" is not a time"),
        "{msg}"
    );
    let msg = bad(window(&[], "18:00", "7pm"));
    assert!(msg.contains("keep_windows[0].to"), "{msg}");
    let msg = bad(RetentionPolicy {
        keep_categories: vec![" ".into()],
        ..RetentionPolicy::default()
    });
    assert!(msg.contains("keep_categories"), "{msg}");

    let tidy = RetentionPolicy {
        keep_categories: vec![" Art ".into(), "art".into(), "Music".into()],
        ..window(&["Saturday", "SUN"], "18:00", "23:00")
    }
    .validated()
    .expect("valid");
    assert_eq!(tidy.keep_categories, ["Art", "Music"]);
    assert_eq!(tidy.keep_windows[0].days, ["sat", "sun"]);

    let o = ChannelRetention {
        max_total_gb: Some(Some(-2.0)),
        ..ChannelRetention::default()
    };
    assert!(o.validated().is_err());
    assert!(
        serde_json::from_str::<RetentionPolicy>(r#"{"max_count": -1}"#).is_err(),
        "a negative count is not a count"
    );
    assert!(
        serde_json::from_str::<RetentionPolicy>(r#"{"max_cuont": 1}"#).is_err(),
        "typos are refused, not ignored"
    );
}

#[test]
fn an_empty_body_is_the_default_policy() {
    let p: RetentionPolicy = serde_json::from_str("{}").expect("json");
    assert_eq!(p, RetentionPolicy::default());
    assert!(p.keep_favourites, "favourites are kept unless switched off");
}

#[test]
fn small_sizes_read_sensibly() {
    assert_eq!(gib(0), "0.0000");
    assert_eq!(gib(5 * MB), "0.0049");
    assert_eq!(gib(3 * 1024 * MB + 200 * MB), "3.20");
    assert_eq!(gib(120 * 1024 * MB), "120.0");
    assert_eq!(gb((0.01 * GIB) as u64), "0.01");
    assert_eq!(gb(10 * 1024 * MB), "10");
}

#[test]
fn a_limit_of_zero_needs_confirm_and_the_confirmation_is_not_kept() {
    for zero in [
        RetentionPolicy {
            max_count: Some(0),
            ..RetentionPolicy::default()
        },
        RetentionPolicy {
            max_total_gb: Some(0.0),
            ..RetentionPolicy::default()
        },
        RetentionPolicy {
            max_age_days: Some(0.0),
            ..RetentionPolicy::default()
        },
    ] {
        let msg = zero
            .clone()
            .validated()
            .expect_err("refused unconfirmed")
            .to_string();
        assert!(msg.contains("confirm"), "{msg}");
        let ok = RetentionPolicy {
            confirm: true,
            ..zero
        }
        .validated()
        .expect("confirmed");
        assert!(!ok.confirm);
        assert!(
            !serde_json::to_string(&ok)
                .expect("json")
                .contains("confirm")
        );
    }
    let channel = ChannelRetention {
        max_count: Some(Some(0)),
        ..ChannelRetention::default()
    };
    assert!(channel.clone().validated().is_err());
    assert!(
        ChannelRetention {
            confirm: true,
            ..channel
        }
        .validated()
        .is_ok()
    );
    // Removing a limit (null) or a small one is no deletion of everything.
    assert!(
        RetentionPolicy {
            max_count: Some(1),
            max_age_days: Some(0.5),
            ..RetentionPolicy::default()
        }
        .validated()
        .is_ok()
    );
}
