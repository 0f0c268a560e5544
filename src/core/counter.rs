//! Exact counters: the math, as pure functions from old state to decision and
//! new state, with `now` handed in. The Durable Object shell loads the state,
//! calls `take_all`, and stores what comes back.
//!
//! - A window limit admits at most `limit` hits in any `window_ms` span
//!   (60 s). It counts hits in one bucket per whole second, in a ring of
//!   `window + 1` buckets: a hit is admitted when the current second and the
//!   60 before it hold fewer than `limit - n + 1` hits. Every 60-second span
//!   lies within 61 consecutive seconds, so no span ever holds more than
//!   `limit`; a freed slot comes back at most a second later than with a log
//!   of every hit. The state has the same size at 10 hits as at 10,000, and a
//!   take costs the same.
//! - A total limit admits at most `limit` hits over the counter's life.
//!
//! Also here: the stored form of a counter's state (a compact binary record).

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Window { limit: NonZeroU32, window_ms: u64 },
    Total { limit: NonZeroU32 },
}

/// One counter's state: `total` for totals; for windows, the ring of
/// per-second buckets (empty until the first hit) and the second of its
/// newest bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterState {
    pub total: u64,
    /// The second (Unix seconds) the newest bucket counts.
    pub last: u64,
    /// Hits per second, bucket `second % len`: empty, or `window + 1` long.
    pub buckets: Vec<u32>,
}

/// Buckets in the ring of a window of `window_ms`.
fn ring_len(window_ms: u64) -> u64 {
    window_ms.div_ceil(1000).max(1) + 1
}

impl CounterState {
    /// The ring brought to second `now` (never backwards: a clock that steps
    /// back counts in the newest bucket): buckets of seconds that left the
    /// window are emptied.
    fn advanced(&self, window_ms: u64, now: u64) -> (u64, Vec<u32>) {
        let len = ring_len(window_ms);
        if self.buckets.len() as u64 != len {
            return (now, vec![0; len as usize]);
        }
        let mut buckets = self.buckets.clone();
        if now > self.last {
            for second in (self.last + 1..=now).take(len as usize) {
                buckets[(second % len) as usize] = 0;
            }
            (now, buckets)
        } else {
            (self.last, buckets)
        }
    }
}

/// The hits in a ring.
fn used(buckets: &[u32]) -> u64 {
    buckets.iter().map(|&b| u64::from(b)).sum()
}

/// Why a hit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exceeded {
    /// The window is full; it frees up in `retry_after` seconds.
    Rate { retry_after: u64 },
    /// The total is used up for good.
    Quota,
}

impl Limit {
    /// The limit as a number.
    pub fn value(&self) -> u64 {
        match *self {
            Limit::Window { limit, .. } | Limit::Total { limit } => limit.get().into(),
        }
    }

    /// Admits or refuses `n` hits at `now_ms`, all or none. On admission,
    /// returns the new state.
    pub fn take(
        &self,
        state: &CounterState,
        now_ms: u64,
        n: NonZeroU32,
    ) -> Result<CounterState, Exceeded> {
        let n64 = u64::from(n.get());
        match *self {
            Limit::Window { limit, window_ms } => {
                let limit = u64::from(limit.get());
                let len = ring_len(window_ms);
                if n64 > limit {
                    // Never fits: as long as the window itself.
                    return Err(Exceeded::Rate {
                        retry_after: window_ms.div_ceil(1000).max(1),
                    });
                }
                let (last, mut buckets) = state.advanced(window_ms, now_ms / 1000);
                let in_ring = used(&buckets);
                if in_ring + n64 > limit {
                    // Free the oldest seconds until `n` more fit: second `t`
                    // leaves the ring at second `t + len`.
                    let mut freed = 0;
                    let oldest = (last + 1).saturating_sub(len);
                    let mut retry_at = last + 1;
                    for second in oldest..=last {
                        freed += u64::from(buckets[(second % len) as usize]);
                        if in_ring - freed + n64 <= limit {
                            retry_at = second + len;
                            break;
                        }
                    }
                    let wait_ms = (retry_at * 1000).saturating_sub(now_ms);
                    return Err(Exceeded::Rate {
                        retry_after: wait_ms.div_ceil(1000).max(1),
                    });
                }
                let slot = &mut buckets[(last % len) as usize];
                *slot = slot.saturating_add(n.get());
                Ok(CounterState {
                    total: state.total + n64,
                    last,
                    buckets,
                })
            }
            Limit::Total { limit } => {
                if state.total + n64 > u64::from(limit.get()) {
                    return Err(Exceeded::Quota);
                }
                Ok(CounterState {
                    total: state.total + n64,
                    ..CounterState::default()
                })
            }
        }
    }

    /// Gives back `n` hits admitted at `hit_ms` that did not happen after
    /// all (the store failed).
    pub fn give_back(&self, state: &CounterState, hit_ms: u64, n: NonZeroU32) -> CounterState {
        let mut next = state.clone();
        next.total = next.total.saturating_sub(n.get().into());
        if let Limit::Window { window_ms, .. } = *self {
            let len = ring_len(window_ms);
            let second = hit_ms / 1000;
            // Only while that second's bucket is still in the ring.
            if next.buckets.len() as u64 == len && second <= next.last && second + len > next.last {
                let slot = &mut next.buckets[(second % len) as usize];
                *slot = slot.saturating_sub(n.get());
            }
        }
        next
    }

    /// How many more hits would be admitted at `now_ms`.
    pub fn remaining(&self, state: &CounterState, now_ms: u64) -> u64 {
        match *self {
            Limit::Window { limit, window_ms } => {
                let (_, buckets) = state.advanced(window_ms, now_ms / 1000);
                u64::from(limit.get()).saturating_sub(used(&buckets))
            }
            Limit::Total { limit } => u64::from(limit.get()).saturating_sub(state.total),
        }
    }

    /// When this state stops mattering to the limit, if it ever does: a
    /// window once its newest hit has left the ring.
    pub fn forgettable_at(&self, state: &CounterState) -> Option<u64> {
        match *self {
            Limit::Window { window_ms, .. } => {
                let len = ring_len(window_ms);
                let newest = (0..len.min(state.last + 1))
                    .map(|back| state.last - back)
                    .find(|&second| {
                        state
                            .buckets
                            .get((second % len) as usize)
                            .is_some_and(|&b| b > 0)
                    });
                Some(newest.map_or(0, |second| (second + len) * 1000))
            }
            Limit::Total { .. } => None,
        }
    }
}

/// Takes `n` hits from every counter, or none from any: if one refuses,
/// returns its index and reason and nothing changes.
pub fn take_all(
    counters: &[(Limit, CounterState)],
    now_ms: u64,
    n: NonZeroU32,
) -> Result<Vec<CounterState>, (usize, Exceeded)> {
    counters
        .iter()
        .enumerate()
        .map(|(i, (limit, state))| limit.take(state, now_ms, n).map_err(|e| (i, e)))
        .collect()
}

/// The least time a counter's row is kept after it was written (ms): a write
/// never schedules its own deletion at or before now, even when the clock of
/// the caller that computed `keep_until` is behind the limiter's.
pub const MIN_KEEP_MS: u64 = 60_000;

/// When a counter's row written at `now_ms` can be deleted: a window once its
/// hits have left it, a total at `keep_until` (after the key it counts for
/// can no longer be accepted); never before `now_ms + MIN_KEEP_MS`.
pub fn forget_at(limit: &Limit, state: &CounterState, keep_until: u64, now_ms: u64) -> u64 {
    limit
        .forgettable_at(state)
        .unwrap_or(keep_until)
        .max(now_ms.saturating_add(MIN_KEEP_MS))
}

impl CounterState {
    /// The stored form, little-endian: the total (8 bytes); for a window
    /// also the newest second (8 bytes) and each bucket (4 bytes). At most
    /// 260 bytes, whatever the rate.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 4 * self.buckets.len());
        out.extend_from_slice(&self.total.to_le_bytes());
        if !self.buckets.is_empty() {
            out.extend_from_slice(&self.last.to_le_bytes());
            for b in &self.buckets {
                out.extend_from_slice(&b.to_le_bytes());
            }
        }
        out
    }

    /// Reads what `encode` wrote; `None` for anything else.
    pub fn decode(bytes: &[u8]) -> Option<CounterState> {
        let (total, rest) = bytes.split_first_chunk::<8>()?;
        let total = u64::from_le_bytes(*total);
        if rest.is_empty() {
            return Some(CounterState {
                total,
                ..CounterState::default()
            });
        }
        let (last, buckets) = rest.split_first_chunk::<8>()?;
        if buckets.is_empty() || buckets.len() % 4 != 0 {
            return None;
        }
        Some(CounterState {
            total,
            last: u64::from_le_bytes(*last),
            buckets: buckets
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: u64 = 60_000;
    const ONE: NonZeroU32 = NonZeroU32::MIN;

    fn n(hits: u32) -> NonZeroU32 {
        NonZeroU32::new(hits).unwrap()
    }

    fn window(limit: u32) -> Limit {
        Limit::Window {
            limit: NonZeroU32::new(limit).unwrap(),
            window_ms: MIN,
        }
    }

    fn total(limit: u32) -> Limit {
        Limit::Total {
            limit: NonZeroU32::new(limit).unwrap(),
        }
    }

    fn with_total(total: u64) -> CounterState {
        CounterState {
            total,
            ..CounterState::default()
        }
    }

    #[test]
    fn several_hits_at_once() {
        let t = total(3);
        let s = t.take(&CounterState::default(), 0, n(2)).unwrap();
        assert_eq!(s.total, 2);
        assert_eq!(t.take(&s, 0, n(2)), Err(Exceeded::Quota), "all or none");
        assert_eq!(t.take(&s, 0, ONE).unwrap().total, 3);
        assert_eq!(t.give_back(&s, 0, n(2)).total, 0);
        let w = window(3);
        let s = w.take(&CounterState::default(), 1_000, n(2)).unwrap();
        assert_eq!(used(&s.buckets), 2);
        assert_eq!(
            w.take(&s, 2_000, n(2)),
            Err(Exceeded::Rate { retry_after: 60 })
        );
        assert!(w.take(&s, 2_000, ONE).is_ok());
        assert_eq!(
            w.take(&CounterState::default(), 0, n(4)),
            Err(Exceeded::Rate { retry_after: 60 })
        );
        assert_eq!(used(&w.give_back(&s, 1_000, n(2)).buckets), 0);
    }

    #[test]
    fn window_admits_then_refuses_then_frees() {
        let l = window(2);
        let s = CounterState::default();
        let s = l.take(&s, 1_000, ONE).unwrap();
        let s = l.take(&s, 2_000, ONE).unwrap();
        // Second 1 leaves the ring (now + the 60 seconds before) at second 62.
        assert_eq!(
            l.take(&s, 30_000, ONE),
            Err(Exceeded::Rate { retry_after: 32 })
        );
        assert_eq!(
            l.take(&s, 61_999, ONE),
            Err(Exceeded::Rate { retry_after: 1 })
        );
        let s = l.take(&s, 62_000, ONE).unwrap();
        assert_eq!(s.last, 62);
        assert_eq!(used(&s.buckets), 2);
        assert_eq!(l.forgettable_at(&s), Some(123_000));
    }

    #[test]
    fn the_state_has_one_size_whatever_the_rate() {
        let l = window(10_000);
        let mut s = CounterState::default();
        for i in 0..5_000u64 {
            s = l.take(&s, 1_000 + i * 10, ONE).unwrap();
        }
        let busy = s.encode().len();
        let quiet = l
            .take(&CounterState::default(), 0, ONE)
            .unwrap()
            .encode()
            .len();
        assert_eq!(busy, quiet);
        assert_eq!(busy, 8 + 8 + 4 * 61);
        assert_eq!(l.remaining(&s, 51_000), 5_000);
    }

    #[test]
    fn a_clock_that_steps_back_counts_in_the_newest_second() {
        let l = window(2);
        let s = l.take(&CounterState::default(), 10_000, ONE).unwrap();
        let s = l.take(&s, 5_000, ONE).unwrap();
        assert_eq!(s.last, 10);
        assert!(l.take(&s, 9_000, ONE).is_err());
    }

    #[test]
    fn remaining() {
        let w = window(3);
        let s = w.take(&CounterState::default(), 1_000, ONE).unwrap();
        let s = w.take(&s, 2_000, ONE).unwrap();
        assert_eq!(w.remaining(&s, 3_000), 1);
        assert_eq!(w.remaining(&s, 62_500), 2);
        assert_eq!(w.remaining(&s, 63_000), 3);
        assert_eq!(w.remaining(&CounterState::default(), 0), 3);
        let t = total(5);
        assert_eq!(t.remaining(&with_total(2), 0), 3);
        assert_eq!(t.remaining(&with_total(9), 0), 0);
    }

    #[test]
    fn totals() {
        let l = total(1);
        let s = l.take(&CounterState::default(), 5, ONE).unwrap();
        assert_eq!(l.take(&s, 6, ONE), Err(Exceeded::Quota));
        let s = l.give_back(&s, 5, ONE);
        assert!(l.take(&s, 7, ONE).is_ok());
        assert_eq!(l.forgettable_at(&s), None);
    }

    #[test]
    fn give_back_frees_the_window() {
        let l = window(1);
        let s = l.take(&CounterState::default(), 10, ONE).unwrap();
        assert!(l.take(&s, 20, ONE).is_err());
        let s = l.give_back(&s, 10, ONE);
        assert!(l.take(&s, 20, ONE).is_ok());
        // A hit that already left the ring gives nothing back.
        let old = l.take(&CounterState::default(), 0, ONE).unwrap();
        let later = l.take(&old, 70_000, ONE).unwrap();
        assert_eq!(l.give_back(&later, 0, ONE).buckets, later.buckets);
    }

    #[test]
    fn take_all_is_all_or_nothing() {
        let counters = vec![
            (window(5), CounterState::default()),
            (total(1), with_total(1)),
        ];
        assert_eq!(take_all(&counters, 0, ONE), Err((1, Exceeded::Quota)));
        let ok = take_all(&counters[..1], 0, ONE).unwrap();
        assert_eq!(ok[0].total, 1);
    }

    #[test]
    fn forgetting() {
        let empty = CounterState::default();
        assert_eq!(forget_at(&total(1), &empty, 500_000, 0), 500_000);
        let s = window(1).take(&empty, 5, ONE).unwrap();
        assert_eq!(forget_at(&window(1), &s, 77, 5), 61_000);
        // Never at or before the time of writing, whatever the caller said.
        assert_eq!(forget_at(&total(1), &empty, 77, 1_000), 1_000 + MIN_KEEP_MS);
        assert_eq!(forget_at(&window(1), &empty, 0, 9), 9 + MIN_KEEP_MS);
    }

    #[test]
    fn state_is_stored_compactly() {
        let s = total(3).take(&CounterState::default(), 0, ONE).unwrap();
        assert_eq!(s.encode(), [1, 0, 0, 0, 0, 0, 0, 0]);
        let w = window(3).take(&s, 258_000, ONE).unwrap();
        let bytes = w.encode();
        assert_eq!(
            bytes[..16],
            [2, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(CounterState::decode(&bytes), Some(w));
        for bad in [&[][..], &[1, 2, 3], &[0; 12], &[0; 16], &[0; 18]] {
            assert_eq!(CounterState::decode(bad), None, "{bad:?}");
        }
    }

    proptest! {
        /// A row is never forgotten at or before the moment it is written.
        #[test]
        fn a_write_never_schedules_its_own_deletion(
            keep_until in 0u64..10_000_000,
            now in 0u64..10_000_000,
            limit in 1u32..5,
            windowed: bool,
        ) {
            let limit = NonZeroU32::new(limit).unwrap();
            let l = if windowed {
                Limit::Window { limit, window_ms: 60_000 }
            } else {
                Limit::Total { limit }
            };
            let s = l.take(&CounterState::default(), now, ONE).unwrap();
            prop_assert!(forget_at(&l, &s, keep_until, now) > now);
        }

        /// The stored form reads back as what was written.
        #[test]
        fn state_round_trips(total: u64, last: u64, buckets in proptest::collection::vec(any::<u32>(), 0..70)) {
            let s = CounterState { total, last: if buckets.is_empty() { 0 } else { last }, buckets };
            prop_assert_eq!(CounterState::decode(&s.encode()), Some(s));
        }

        /// Whatever the arrival times (to the millisecond, with the clock
        /// stepping back now and then), no 60-second span holds more than
        /// `limit` admitted hits; a hit is refused exactly when the current
        /// second and the 60 before it hold too many; and retrying after the
        /// advice succeeds.
        #[test]
        fn window_is_exact(
            limit in 1u32..6,
            steps in proptest::collection::vec((0u64..30_000, 1u32..4, 0u64..3), 1..80),
        ) {
            let l = window(limit);
            let mut s = CounterState::default();
            let mut now = 0;
            // (second counted in, ms) of every admitted hit.
            let mut admitted: Vec<(u64, u64)> = Vec::new();
            for (gap, hits, back) in steps {
                now += gap;
                // Now and then the clock steps back a little.
                let at = if back == 0 { now.saturating_sub(1_500) } else { now };
                let newest = admitted.last().map_or(0, |&(sec, _)| sec);
                let second = (at / 1000).max(newest);
                let in_ring = admitted.iter().filter(|&&(sec, _)| sec + 61 > second).count();
                match l.take(&s, at, n(hits)) {
                    Ok(next) => {
                        prop_assert!(in_ring + hits as usize <= limit as usize);
                        s = next;
                        // A clock that stepped back counts at the newest time.
                        let counted = at.max(admitted.last().map_or(0, |&(_, ms)| ms));
                        admitted.extend(std::iter::repeat_n((second, counted), hits as usize));
                    }
                    Err(Exceeded::Rate { retry_after }) => {
                        prop_assert!(in_ring + hits as usize > limit as usize);
                        if hits <= limit {
                            prop_assert!(l.take(&s, at + retry_after * 1000, n(hits)).is_ok());
                        }
                    }
                    Err(Exceeded::Quota) => prop_assert!(false, "a window never says quota"),
                }
            }
            // By the limiter's clock (held from going back): no 60-second
            // span holds more than `limit`.
            let mut real: Vec<u64> = admitted.iter().map(|&(_, ms)| ms).collect();
            real.sort_unstable();
            for (i, &t) in real.iter().enumerate() {
                let span = real[i..].iter().take_while(|&&u| u < t + MIN).count();
                prop_assert!(span <= limit as usize, "{} hits in the 60 s from {}", span, t);
            }
        }

        /// A total admits exactly `limit` hits, however many are tried.
        #[test]
        fn total_is_exact(limit in 1u32..50, tries in 0usize..120) {
            let l = total(limit);
            let mut s = CounterState::default();
            let mut admitted = 0;
            for i in 0..tries {
                if let Ok(next) = l.take(&s, i as u64, ONE) {
                    s = next;
                    admitted += 1;
                }
            }
            prop_assert_eq!(admitted as u64, (tries as u64).min(u64::from(limit)));
        }
    }
}
