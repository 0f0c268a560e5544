//! Exact counters: the math, as pure functions from old state to decision and
//! new state, with `now` handed in. The Durable Object shell loads the state,
//! calls `take_all`, and stores what comes back.
//!
//! - A window limit admits at most `limit` hits in any `window_ms` span. It
//!   keeps the time of each admitted hit still inside the window (a sliding
//!   log), which is exact; that is why per-minute limits are capped.
//! - A total limit admits at most `limit` hits over the counter's life.
//!
//! Also here: the stored form of a counter's state (a compact binary record).

use std::collections::VecDeque;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Window { limit: NonZeroU32, window_ms: u64 },
    Total { limit: NonZeroU32 },
}

/// One counter's state. `hits` is used by window limits, `total` by totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterState {
    pub hits: VecDeque<u64>,
    pub total: u64,
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
                let limit = limit.get() as usize;
                let n = n.get() as usize;
                if n > limit {
                    // Never fits: as long as the window itself.
                    return Err(Exceeded::Rate {
                        retry_after: window_ms.div_ceil(1000).max(1),
                    });
                }
                let mut hits = state.hits.clone();
                while hits
                    .front()
                    .is_some_and(|&t| t.saturating_add(window_ms) <= now_ms)
                {
                    hits.pop_front();
                }
                if hits.len() + n > limit {
                    // The last hit that must leave the window for `n` more to fit.
                    let blocking = hits[hits.len() + n - limit - 1];
                    let wait_ms = (blocking + window_ms).saturating_sub(now_ms);
                    return Err(Exceeded::Rate {
                        retry_after: wait_ms.div_ceil(1000).max(1),
                    });
                }
                // Keep the log sorted even if a clock steps back.
                let at = hits.back().map_or(now_ms, |&last| last.max(now_ms));
                hits.extend(std::iter::repeat_n(at, n));
                Ok(CounterState {
                    hits,
                    total: state.total + n64,
                })
            }
            Limit::Total { limit } => {
                if state.total + n64 > u64::from(limit.get()) {
                    return Err(Exceeded::Quota);
                }
                Ok(CounterState {
                    hits: VecDeque::new(),
                    total: state.total + n64,
                })
            }
        }
    }

    /// Gives back `n` hits admitted at `hit_ms` that did not happen after
    /// all (the store failed).
    pub fn give_back(&self, state: &CounterState, hit_ms: u64, n: NonZeroU32) -> CounterState {
        let mut next = state.clone();
        next.total = next.total.saturating_sub(n.get().into());
        if let Limit::Window { .. } = self {
            for _ in 0..n.get() {
                if let Some(i) = next.hits.iter().rposition(|&t| t == hit_ms) {
                    next.hits.remove(i);
                }
            }
        }
        next
    }

    /// How many more hits would be admitted at `now_ms`.
    pub fn remaining(&self, state: &CounterState, now_ms: u64) -> u64 {
        match *self {
            Limit::Window { limit, window_ms } => {
                let used = state
                    .hits
                    .iter()
                    .filter(|&&t| t + window_ms > now_ms)
                    .count() as u64;
                u64::from(limit.get()).saturating_sub(used)
            }
            Limit::Total { limit } => u64::from(limit.get()).saturating_sub(state.total),
        }
    }

    /// When this state stops mattering to the limit, if it ever does: a
    /// window's log once its last hit has left the window.
    pub fn forgettable_at(&self, state: &CounterState) -> Option<u64> {
        match *self {
            Limit::Window { window_ms, .. } => {
                Some(state.hits.back().map_or(0, |&t| t + window_ms))
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
    /// The stored form: the total, then each hit, as 8-byte little-endian
    /// numbers. A log of thousands of hits reads and writes in microseconds.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 * (1 + self.hits.len()));
        out.extend_from_slice(&self.total.to_le_bytes());
        for hit in &self.hits {
            out.extend_from_slice(&hit.to_le_bytes());
        }
        out
    }

    /// Reads what `encode` wrote; `None` for anything else.
    pub fn decode(bytes: &[u8]) -> Option<CounterState> {
        let (total, hits) = bytes.split_first_chunk::<8>()?;
        if hits.len() % 8 != 0 {
            return None;
        }
        Some(CounterState {
            total: u64::from_le_bytes(*total),
            hits: hits
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
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
        assert_eq!(s.hits, [1_000, 1_000]);
        assert_eq!(
            w.take(&s, 2_000, n(2)),
            Err(Exceeded::Rate { retry_after: 59 })
        );
        assert!(w.take(&s, 2_000, ONE).is_ok());
        assert_eq!(
            w.take(&CounterState::default(), 0, n(4)),
            Err(Exceeded::Rate { retry_after: 60 })
        );
        assert_eq!(w.give_back(&s, 1_000, n(2)).hits.len(), 0);
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

    #[test]
    fn window_admits_then_refuses_then_frees() {
        let l = window(2);
        let s = CounterState::default();
        let s = l.take(&s, 1_000, ONE).unwrap();
        let s = l.take(&s, 2_000, ONE).unwrap();
        assert_eq!(
            l.take(&s, 30_000, ONE),
            Err(Exceeded::Rate { retry_after: 31 })
        );
        assert_eq!(
            l.take(&s, 60_999, ONE),
            Err(Exceeded::Rate { retry_after: 1 })
        );
        let s = l.take(&s, 61_000, ONE).unwrap();
        assert_eq!(s.hits, [2_000, 61_000]);
        assert_eq!(l.forgettable_at(&s), Some(121_000));
    }

    #[test]
    fn remaining() {
        let w = window(3);
        let s = w.take(&CounterState::default(), 1_000, ONE).unwrap();
        let s = w.take(&s, 2_000, ONE).unwrap();
        assert_eq!(w.remaining(&s, 3_000), 1);
        assert_eq!(w.remaining(&s, 61_500), 2);
        assert_eq!(w.remaining(&CounterState::default(), 0), 3);
        let t = total(5);
        assert_eq!(
            t.remaining(
                &CounterState {
                    hits: VecDeque::new(),
                    total: 2
                },
                0
            ),
            3
        );
        assert_eq!(
            t.remaining(
                &CounterState {
                    hits: VecDeque::new(),
                    total: 9
                },
                0
            ),
            0
        );
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
    }

    #[test]
    fn take_all_is_all_or_nothing() {
        let counters = vec![
            (window(5), CounterState::default()),
            (
                total(1),
                CounterState {
                    hits: VecDeque::new(),
                    total: 1,
                },
            ),
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
        assert_eq!(forget_at(&window(1), &s, 77, 5), 60_005);
        // Never at or before the time of writing, whatever the caller said.
        assert_eq!(forget_at(&total(1), &empty, 77, 1_000), 1_000 + MIN_KEEP_MS);
        assert_eq!(forget_at(&window(1), &empty, 0, 9), 9 + MIN_KEEP_MS);
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
    }

    #[test]
    fn state_is_stored_compactly() {
        let s = total(3).take(&CounterState::default(), 0, ONE).unwrap();
        assert_eq!(s.encode(), [1, 0, 0, 0, 0, 0, 0, 0]);
        let w = window(3).take(&s, 258, ONE).unwrap();
        assert_eq!(w.encode()[8..], [2, 1, 0, 0, 0, 0, 0, 0]);
        for bad in [&[][..], &[1, 2, 3], &[0; 12]] {
            assert_eq!(CounterState::decode(bad), None);
        }
    }

    proptest! {
        /// The stored form reads back as what was written.
        #[test]
        fn state_round_trips(total: u64, hits: Vec<u64>) {
            let s = CounterState { hits: hits.into(), total };
            prop_assert_eq!(CounterState::decode(&s.encode()), Some(s));
        }

        /// Whatever the arrival times, no 60-second span holds more than
        /// `limit` admitted hits, and every refusal happened when the window
        /// really held `limit` hits.
        #[test]
        fn window_is_exact(limit in 1u32..6, steps in proptest::collection::vec((0u64..30_000, 1u32..4), 1..80)) {
            let l = window(limit);
            let mut s = CounterState::default();
            let mut now = 0;
            let mut admitted: Vec<u64> = Vec::new();
            for (gap, hits) in steps {
                now += gap;
                let in_window = admitted.iter().filter(|&&t| t + MIN > now).count();
                match l.take(&s, now, n(hits)) {
                    Ok(next) => {
                        prop_assert!(in_window + hits as usize <= limit as usize);
                        s = next;
                        admitted.extend(std::iter::repeat_n(now, hits as usize));
                    }
                    Err(Exceeded::Rate { retry_after }) => {
                        prop_assert!(in_window + hits as usize > limit as usize);
                        // Retrying after the advice succeeds, when it can ever fit.
                        if hits <= limit {
                            prop_assert!(l.take(&s, now + retry_after * 1000, n(hits)).is_ok());
                        }
                    }
                    Err(Exceeded::Quota) => prop_assert!(false, "a window never says quota"),
                }
            }
            for (i, &t) in admitted.iter().enumerate() {
                let span = admitted[i..].iter().take_while(|&&u| u < t + MIN).count();
                prop_assert!(span <= limit as usize);
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
