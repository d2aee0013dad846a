//! Fault injection. Segment faults are keyed by timeline index (the segment's position since the
//! channel started, which is also its sequence number unless a `Reset` renumbered it) and fire a
//! bounded number of times, so a test knows exactly what a recorder had to survive.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// `times` value for a fault that never stops firing.
pub const ALWAYS: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The segment answers `status` (404, 503, ...) to its first `times` requests.
    SegmentStatus { seg: u64, status: u16, times: u32 },
    /// The first `times` requests wait `delay` before any response (a timeout for the client).
    SegmentDelay {
        seg: u64,
        delay: Duration,
        times: u32,
    },
    /// The first `times` bodies trickle out in small chunks over `total`.
    SlowBody {
        seg: u64,
        total: Duration,
        times: u32,
    },
    /// The first `times` bodies stop halfway although `Content-Length` promised more.
    Truncated { seg: u64, times: u32 },
    /// Once segment `after` is published, the next `times` playlist requests answer `status`.
    PlaylistStatus { after: u64, status: u16, times: u32 },
    /// The playlist stops advancing at `at` for `segments` segment durations, then goes on.
    Stall { at: u64, segments: u64 },
    /// The origin is down (every request answers 503) while the edge is in `at..at + segments`;
    /// the broadcast goes on meanwhile, so that content is lost.
    Outage { at: u64, segments: u64 },
    /// From timeline index `at`, sequence numbers restart at 0 (an encoder restart).
    Reset { at: u64 },
    /// The stream ends after `at` segments: `EXT-X-ENDLIST`.
    End { at: u64 },
}

/// How a single request should misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    Status(u16),
    Delay(Duration),
    Slow(Duration),
    Truncate,
}

#[derive(Debug)]
pub struct FaultBook {
    entries: Vec<(Fault, AtomicU32)>,
}

impl FaultBook {
    pub fn new(faults: &[Fault]) -> Self {
        let entries = faults
            .iter()
            .filter_map(|f| {
                let times = match f {
                    Fault::SegmentStatus { times, .. }
                    | Fault::SegmentDelay { times, .. }
                    | Fault::SlowBody { times, .. }
                    | Fault::Truncated { times, .. }
                    | Fault::PlaylistStatus { times, .. } => *times,
                    _ => return None,
                };
                Some((f.clone(), AtomicU32::new(times)))
            })
            .collect();
        Self { entries }
    }

    fn consume(counter: &AtomicU32) -> bool {
        counter
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| match left {
                0 => None,
                ALWAYS => Some(ALWAYS),
                n => Some(n - 1),
            })
            .is_ok()
    }

    /// The misbehaviour for this request of segment `index`, if a fault still has shots left.
    pub fn for_segment(&self, index: u64) -> Option<Misbehaviour> {
        self.entries.iter().find_map(|(fault, left)| {
            let m = match *fault {
                Fault::SegmentStatus { seg, status, .. } if seg == index => {
                    Misbehaviour::Status(status)
                }
                Fault::SegmentDelay { seg, delay, .. } if seg == index => {
                    Misbehaviour::Delay(delay)
                }
                Fault::SlowBody { seg, total, .. } if seg == index => Misbehaviour::Slow(total),
                Fault::Truncated { seg, .. } if seg == index => Misbehaviour::Truncate,
                _ => return None,
            };
            Self::consume(left).then_some(m)
        })
    }

    /// The status to answer a playlist request with, once the edge passed the fault's point.
    pub fn for_playlist(&self, edge: u64) -> Option<u16> {
        self.entries.iter().find_map(|(fault, left)| match *fault {
            Fault::PlaylistStatus { after, status, .. } if edge > after => {
                Self::consume(left).then_some(status)
            }
            _ => None,
        })
    }
}
