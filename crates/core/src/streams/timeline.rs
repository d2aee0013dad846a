//! Where a recording stands on the broadcast's clock, to measure what it lost.
//!
//! Twitch (and the local origin) stamp every segment with `EXT-X-PROGRAM-DATE-TIME`, the wall
//! clock of the broadcast. The content between the end of one written segment and the start of
//! the next is time the channel was live but not recorded, whatever the cause: the origin was
//! unreachable, its numbering restarted, a recorder restarted or Tapearr was down. Losses the
//! recorder already reported (segments it could not fetch, ads it left out) are subtracted, so
//! each lost second is stored once.

use crate::time::Timestamp;
use std::time::SystemTime;

/// Holes shorter than this are rounding between segment timestamps, not loss.
const TOLERANCE_MS: i64 = 1_000;

/// Time the broadcast went on without being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// Where the hole starts on the broadcast's clock.
    pub at: Timestamp,
    pub ms: u64,
    pub reason: String,
    /// The gap already stored (with no length yet) when the hole opened, to be completed.
    pub open_gap: Option<String>,
}

#[derive(Debug, Default)]
pub struct MediaClock {
    /// The end of the last written segment, on the broadcast's clock.
    until: Option<Timestamp>,
    /// Loss already stored since the last written segment.
    accounted_ms: u64,
    /// Why the next hole happened, when the supervisor knows (a restart, Tapearr was down),
    /// and how many more segments without a hole it stays pending.
    reason: Option<(String, u8)>,
    /// A gap stored while the hole was still open (a full disk), completed when it closes.
    open_gap: Option<String>,
    /// The origin could not be reached since the last written segment: if the broadcast ends
    /// before it answers again, the time up to the end is lost, not merely quiet.
    outage: Option<String>,
    /// When Twitch last listed the broadcast live while nothing was written after `until`
    /// (a resume, a restart): the time up to then is lost for certain if nothing follows.
    live_seen: Option<Timestamp>,
}

/// A known cause labels a hole found within this many segments (a restarted session may first
/// write segments the playlist window still held); after that it has passed without loss.
const REASON_SEGMENTS: u8 = 4;

impl MediaClock {
    /// A clock that continues after what the parts already hold.
    pub fn resumed(until: Option<Timestamp>) -> Self {
        Self {
            until,
            ..Self::default()
        }
    }

    /// Whether segment timestamps have been seen: the clock measures holes itself.
    pub fn knows_time(&self) -> bool {
        self.until.is_some()
    }

    /// Where a new recorder session should continue: after what is already written.
    pub fn recorded_until(&self) -> Option<SystemTime> {
        self.until.map(Timestamp::to_system)
    }

    /// The reason given to the next hole.
    pub fn expect_hole(&mut self, reason: impl Into<String>) {
        self.reason = Some((reason.into(), REASON_SEGMENTS));
    }

    /// The origin cannot be reached: the next hole has this reason, and so does the time up to
    /// the end if the broadcast ends first (see [`MediaClock::ended`]).
    pub fn unreachable(&mut self, reason: impl Into<String>) {
        let reason = reason.into();
        self.expect_hole(reason.clone());
        self.outage = Some(reason);
    }

    /// Twitch listed the broadcast live at `at` (it was still going on then).
    pub fn live_at(&mut self, at: Timestamp) {
        if self.until.is_some_and(|until| at > until) {
            self.live_seen = Some(at);
        }
    }

    /// The broadcast ended (noticed at `now`) before another segment was written. With its
    /// origin unreachable, everything from the last segment to the end is lost; after a
    /// restart, at least the time up to when Twitch still listed it live. Otherwise (quiet,
    /// gone, ENDLIST) the last segment was its end and nothing is lost.
    pub fn ended(&mut self, now: Timestamp) -> Option<Lost> {
        let until = self.until?;
        let pending = self.reason.take().map(|(r, _)| r);
        let (cause, end) = match (self.outage.take(), self.live_seen.take()) {
            (Some(cause), _) => (cause, now),
            (None, Some(seen)) => (pending.unwrap_or_else(|| "no media".into()), seen),
            (None, None) => return None,
        };
        let accounted = i64::try_from(std::mem::take(&mut self.accounted_ms)).unwrap_or(0);
        let hole = end.millis() - until.millis() - accounted;
        (hole > TOLERANCE_MS).then(|| Lost {
            at: until,
            ms: hole as u64,
            reason: format!("{cause}; the broadcast ended before recording went on"),
            open_gap: self.open_gap.take(),
        })
    }

    /// The hole is stored already (so the user sees it while it lasts) under this gap id.
    pub fn hole_stored(&mut self, gap_id: String) {
        self.open_gap = Some(gap_id);
    }

    /// The gap stored while the hole was open, if any, for a hole measured by other means.
    pub fn take_open_gap(&mut self) -> Option<String> {
        self.open_gap.take()
    }

    /// A loss stored by other means (segments the recorder reported missing, an ad left out).
    pub fn account(&mut self, ms: u64) {
        self.accounted_ms += ms;
    }

    /// A segment was written; returns the hole before it, if it is one.
    pub fn segment(&mut self, program_date_time: Option<SystemTime>, seconds: f64) -> Option<Lost> {
        let start = Timestamp::from_system(program_date_time?);
        let end = Timestamp(start.millis() + (seconds.max(0.0) * 1000.0).round() as i64);
        let previous = self.until.replace(end);
        self.outage = None;
        self.live_seen = None;
        let accounted = std::mem::take(&mut self.accounted_ms);
        let hole = previous
            .map(|until| start.millis() - until.millis() - i64::try_from(accounted).unwrap_or(0));
        let Some((until, hole)) = previous.zip(hole).filter(|(_, h)| *h > TOLERANCE_MS) else {
            if let Some((_, left)) = &mut self.reason {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    self.reason = None;
                }
            }
            return None;
        };
        let reason = self.reason.take().map(|(r, _)| r);
        Some(Lost {
            open_gap: self.open_gap.take(),
            at: until,
            ms: hole as u64,
            reason: reason.unwrap_or_else(|| {
                format!(
                    "no media for {:.0} s: the stream stalled or its origin was unreachable",
                    hole as f64 / 1000.0
                )
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(ms: u64) -> Option<SystemTime> {
        Some(UNIX_EPOCH + Duration::from_millis(ms))
    }

    #[test]
    fn contiguous_segments_lose_nothing() {
        let mut c = MediaClock::default();
        for i in 0..5 {
            assert_eq!(c.segment(at(10_000 + i * 2_000), 2.0), None);
        }
        // Timestamps rounded to the millisecond, or a segment a little short, are not loss.
        assert_eq!(c.segment(at(20_300), 2.0), None);
        assert_eq!(c.recorded_until(), at(22_300));
    }

    #[test]
    fn a_hole_is_lost_time_with_its_reason_once() {
        let mut c = MediaClock::resumed(Some(Timestamp(10_000)));
        c.expect_hole("Tapearr restarted");
        let lost = c.segment(at(25_000), 2.0).expect("a hole");
        assert_eq!(
            lost,
            Lost {
                at: Timestamp(10_000),
                ms: 15_000,
                reason: "Tapearr restarted".into(),
                open_gap: None,
            }
        );
        // Without a known cause the reason says what was seen.
        let lost = c.segment(at(40_000), 2.0).expect("a hole");
        assert_eq!(lost.ms, 13_000);
        assert!(
            lost.reason.starts_with("no media for 13 s"),
            "{}",
            lost.reason
        );
    }

    #[test]
    fn a_known_cause_labels_a_hole_soon_after_it_or_none() {
        let mut c = MediaClock::resumed(Some(Timestamp(0)));
        c.expect_hole("recorder restarted: stalled");
        // The window still held the next segments: no hole yet, the cause stays pending.
        assert_eq!(c.segment(at(0), 2.0), None);
        let lost = c.segment(at(8_000), 2.0).expect("a hole");
        assert_eq!(lost.reason, "recorder restarted: stalled");
        // A cause that passed without loss does not label a later, unrelated hole.
        c.expect_hole("recorder restarted: died");
        for i in 0..u64::from(REASON_SEGMENTS) {
            assert_eq!(c.segment(at(10_000 + i * 2_000), 2.0), None);
        }
        let lost = c.segment(at(30_000), 2.0).expect("a hole");
        assert!(lost.reason.starts_with("no media for"), "{}", lost.reason);
    }

    #[test]
    fn losses_reported_by_the_recorder_are_not_counted_twice() {
        let mut c = MediaClock::default();
        assert_eq!(c.segment(at(0), 2.0), None);
        // Two segments could not be fetched (stored as a gap by the supervisor), an ad of 4 s.
        c.account(4_000);
        c.account(4_000);
        assert_eq!(c.segment(at(10_000), 2.0), None);
        c.account(2_000);
        assert_eq!(c.segment(at(17_000), 2.0).map(|l| l.ms), Some(3_000));
    }

    #[test]
    fn an_end_while_the_origin_is_unreachable_loses_the_rest() {
        let mut clock = MediaClock::default();
        assert_eq!(clock.segment(at(0), 2.0), None);
        clock.unreachable("playlist unavailable: HTTP status 503");
        let lost = clock.ended(Timestamp(9_000)).expect("the end is lost");
        assert_eq!((lost.at, lost.ms), (Timestamp(2_000), 7_000));
        assert!(
            lost.reason
                .starts_with("playlist unavailable: HTTP status 503"),
            "{lost:?}"
        );
        assert!(
            lost.reason.contains("ended before recording went on"),
            "{lost:?}"
        );
        assert_eq!(clock.ended(Timestamp(9_000)), None, "stored once");
    }

    #[test]
    fn an_end_after_the_origin_answered_again_or_never_failed_loses_nothing() {
        let mut clock = MediaClock::default();
        assert_eq!(clock.segment(at(0), 2.0), None);
        assert_eq!(clock.ended(Timestamp(30_000)), None, "a quiet end");
        clock.unreachable("playlist unavailable");
        let back = clock.segment(at(6_000), 2.0).expect("the outage is a hole");
        assert_eq!(back.ms, 4_000);
        assert_eq!(clock.ended(Timestamp(30_000)), None, "the origin came back");
    }

    #[test]
    fn an_end_after_a_restart_loses_the_time_twitch_still_listed_it_live() {
        let mut clock = MediaClock::resumed(Some(Timestamp(2_000)));
        clock.expect_hole("Tapearr restarted");
        clock.live_at(Timestamp(1_000));
        assert_eq!(
            clock.ended(Timestamp(20_000)),
            None,
            "seen live before the last segment"
        );
        clock.expect_hole("Tapearr restarted");
        clock.live_at(Timestamp(7_000));
        let lost = clock
            .ended(Timestamp(20_000))
            .expect("lost up to the sighting");
        assert_eq!((lost.at, lost.ms), (Timestamp(2_000), 5_000));
        assert!(lost.reason.starts_with("Tapearr restarted;"), "{lost:?}");
        let mut clock = MediaClock::resumed(Some(Timestamp(2_000)));
        clock.live_at(Timestamp(7_000));
        assert_eq!(clock.segment(at(3_000), 2.0).map(|l| l.ms), None);
        assert_eq!(
            clock.ended(Timestamp(20_000)),
            None,
            "recording went on after it"
        );
    }

    #[test]
    fn without_timestamps_the_clock_knows_nothing() {
        let mut c = MediaClock::default();
        assert_eq!(c.segment(None, 2.0), None);
        assert!(!c.knows_time());
        assert_eq!(c.recorded_until(), None);
    }
}
