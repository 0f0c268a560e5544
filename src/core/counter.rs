//! Exact counters: the math, as pure functions from old state to decision and
//! new state, with `now` handed in. The Durable Object shell loads the state,
//! calls `take_all`, and stores what comes back.
//!
//! - A window limit admits at most `limit` hits in any `window_ms` span. It
//!   keeps the time of each admitted hit still inside the window (a sliding
//!   log), which is exact; that is why per-minute limits are capped.
//! - A total limit admits at most `limit` hits over the counter's life.
//!
//! Also here: the messages between the worker and the Durable Object (JSON)
//! and the stored form of a counter's state (a compact binary record).

use std::collections::VecDeque;

use crate::core::json::{self, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Window { limit: u32, window_ms: u64 },
    Total { limit: u64 },
}

/// One counter's state. `hits` is used by window limits, `total` by totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterState {
    pub hits: VecDeque<u64>,
    pub total: u64,
}

/// Why a hit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// The window is full; it frees up in `retry_after` seconds.
    Rate { retry_after: u64 },
    /// The total is used up for good.
    Quota,
}

impl Limit {
    /// Admits or refuses one hit at `now_ms`. On admission, returns the new state.
    pub fn take(&self, state: &CounterState, now_ms: u64) -> Result<CounterState, Exceeded> {
        match *self {
            Limit::Window { limit, window_ms } => {
                let mut hits = state.hits.clone();
                while hits
                    .front()
                    .is_some_and(|&t| t.saturating_add(window_ms) <= now_ms)
                {
                    hits.pop_front();
                }
                if hits.len() >= limit as usize {
                    // The hit that must leave the window for one more to fit.
                    let blocking = hits[hits.len() - limit as usize];
                    let wait_ms = (blocking + window_ms).saturating_sub(now_ms);
                    return Err(Exceeded::Rate {
                        retry_after: wait_ms.div_ceil(1000).max(1),
                    });
                }
                // Keep the log sorted even if a clock steps back.
                let at = hits.back().map_or(now_ms, |&last| last.max(now_ms));
                hits.push_back(at);
                Ok(CounterState {
                    hits,
                    total: state.total + 1,
                })
            }
            Limit::Total { limit } => {
                if state.total >= limit {
                    return Err(Exceeded::Quota);
                }
                Ok(CounterState {
                    hits: VecDeque::new(),
                    total: state.total + 1,
                })
            }
        }
    }

    /// Gives back a hit admitted at `hit_ms` that did not happen after all
    /// (the store failed).
    pub fn give_back(&self, state: &CounterState, hit_ms: u64) -> CounterState {
        let mut next = state.clone();
        next.total = next.total.saturating_sub(1);
        if let Limit::Window { .. } = self
            && let Some(i) = next.hits.iter().rposition(|&t| t == hit_ms)
        {
            next.hits.remove(i);
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
                u64::from(limit).saturating_sub(used)
            }
            Limit::Total { limit } => limit.saturating_sub(state.total),
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

/// Takes one hit from every counter, or from none: if any refuses, returns
/// its index and reason and nothing changes.
pub fn take_all(
    counters: &[(Limit, CounterState)],
    now_ms: u64,
) -> Result<Vec<CounterState>, (usize, Exceeded)> {
    counters
        .iter()
        .enumerate()
        .map(|(i, (limit, state))| limit.take(state, now_ms).map_err(|e| (i, e)))
        .collect()
}

/// What the worker asks of a limiter Durable Object: one hit from each named
/// counter, all or none. Lifetime totals are kept until `keep_until` (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub counters: Vec<(String, Limit)>,
    pub keep_until: u64,
}

/// The limiter's answer to a `Take`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Every counter admitted the hit, stamped `at` (ms).
    Admitted { at: u64 },
    /// `counter` refused; nothing was counted.
    Refused { counter: String, exceeded: Exceeded },
}

/// Gives back the hits of an admitted `Take` whose request then failed (the
/// store refused the upload): each counter forgets the hit stamped `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiveBack {
    pub counters: Vec<(String, Limit)>,
    pub at: u64,
    /// As in the `Take`: lifetime totals are kept until then.
    pub keep_until: u64,
}

/// Asks a limiter for the state of some counters, changing nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peek {
    pub counters: Vec<String>,
}

/// When a counter's row can be deleted: a window once its hits have left it,
/// a total when the key it counts for has expired.
pub fn forget_at(limit: &Limit, state: &CounterState, keep_until: u64) -> u64 {
    limit.forgettable_at(state).unwrap_or(keep_until)
}

/// The wire forms of the messages above, as JSON.
impl Limit {
    fn to_json(self) -> Value {
        match self {
            Limit::Window { limit, window_ms } => json::object([(
                "window",
                json::object([("limit", limit.into()), ("window_ms", window_ms.into())]),
            )]),
            Limit::Total { limit } => {
                json::object([("total", json::object([("limit", limit.into())]))])
            }
        }
    }

    fn from_json(v: &Value) -> Option<Limit> {
        if let Some(w) = v.get("window") {
            let limit = u32::try_from(w.get("limit")?.as_u64()?).ok()?;
            let window_ms = w.get("window_ms")?.as_u64()?;
            return Some(Limit::Window { limit, window_ms });
        }
        let limit = v.get("total")?.get("limit")?.as_u64()?;
        Some(Limit::Total { limit })
    }
}

fn counters_to_json(counters: &[(String, Limit)]) -> Value {
    Value::Array(
        counters
            .iter()
            .map(|(name, limit)| Value::Array(vec![Value::from(name), limit.to_json()]))
            .collect(),
    )
}

fn counters_from_json(v: Option<&Value>) -> Option<Vec<(String, Limit)>> {
    v?.as_array()?
        .iter()
        .map(|pair| match pair.as_array()?.as_slice() {
            [name, limit] => Some((name.as_str()?.to_string(), Limit::from_json(limit)?)),
            _ => None,
        })
        .collect()
}

fn number(v: &Value, name: &str) -> Option<u64> {
    v.get(name)?.as_u64()
}

impl Take {
    pub fn to_json(&self) -> Value {
        json::object([
            ("counters", counters_to_json(&self.counters)),
            ("keep_until", self.keep_until.into()),
        ])
    }

    pub fn from_json(v: &Value) -> Option<Take> {
        Some(Take {
            counters: counters_from_json(v.get("counters"))?,
            keep_until: number(v, "keep_until")?,
        })
    }
}

impl GiveBack {
    pub fn to_json(&self) -> Value {
        json::object([
            ("counters", counters_to_json(&self.counters)),
            ("at", self.at.into()),
            ("keep_until", self.keep_until.into()),
        ])
    }

    pub fn from_json(v: &Value) -> Option<GiveBack> {
        Some(GiveBack {
            counters: counters_from_json(v.get("counters"))?,
            at: number(v, "at")?,
            keep_until: number(v, "keep_until")?,
        })
    }
}

impl Peek {
    pub fn to_json(&self) -> Value {
        json::object([("counters", self.counters.clone().into())])
    }

    pub fn from_json(v: &Value) -> Option<Peek> {
        let counters = v.get("counters")?.as_array()?;
        Some(Peek {
            counters: counters
                .iter()
                .map(|c| c.as_str().map(str::to_string))
                .collect::<Option<_>>()?,
        })
    }
}

impl Taken {
    pub fn to_json(&self) -> Value {
        match self {
            Taken::Admitted { at } => {
                json::object([("admitted", json::object([("at", (*at).into())]))])
            }
            Taken::Refused { counter, exceeded } => {
                let exceeded = match exceeded {
                    Exceeded::Rate { retry_after } => json::object([(
                        "rate",
                        json::object([("retry_after", (*retry_after).into())]),
                    )]),
                    Exceeded::Quota => Value::from("quota"),
                };
                json::object([(
                    "refused",
                    json::object([("counter", counter.into()), ("exceeded", exceeded)]),
                )])
            }
        }
    }

    pub fn from_json(v: &Value) -> Option<Taken> {
        if let Some(a) = v.get("admitted") {
            return Some(Taken::Admitted {
                at: number(a, "at")?,
            });
        }
        let r = v.get("refused")?;
        let exceeded = r.get("exceeded")?;
        let exceeded = match exceeded.get("rate") {
            Some(rate) => Exceeded::Rate {
                retry_after: number(rate, "retry_after")?,
            },
            None if exceeded.as_str() == Some("quota") => Exceeded::Quota,
            None => return None,
        };
        Some(Taken::Refused {
            counter: r.get("counter")?.as_str()?.to_string(),
            exceeded,
        })
    }
}

impl CounterState {
    pub fn to_json(&self) -> Value {
        json::object([
            (
                "hits",
                Value::from(self.hits.iter().copied().collect::<Vec<_>>()),
            ),
            ("total", self.total.into()),
        ])
    }

    pub fn from_json(v: &Value) -> Option<CounterState> {
        Some(CounterState {
            hits: v
                .get("hits")?
                .as_array()?
                .iter()
                .map(Value::as_u64)
                .collect::<Option<_>>()?,
            total: number(v, "total")?,
        })
    }

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
    use crate::core::json::json;
    use proptest::prelude::*;

    const MIN: u64 = 60_000;

    fn window(limit: u32) -> Limit {
        Limit::Window {
            limit,
            window_ms: MIN,
        }
    }

    #[test]
    fn window_admits_then_refuses_then_frees() {
        let l = window(2);
        let s = CounterState::default();
        let s = l.take(&s, 1_000).unwrap();
        let s = l.take(&s, 2_000).unwrap();
        assert_eq!(l.take(&s, 30_000), Err(Exceeded::Rate { retry_after: 31 }));
        assert_eq!(l.take(&s, 60_999), Err(Exceeded::Rate { retry_after: 1 }));
        let s = l.take(&s, 61_000).unwrap();
        assert_eq!(s.hits, [2_000, 61_000]);
        assert_eq!(l.forgettable_at(&s), Some(121_000));
    }

    #[test]
    fn remaining() {
        let w = window(3);
        let s = w.take(&CounterState::default(), 1_000).unwrap();
        let s = w.take(&s, 2_000).unwrap();
        assert_eq!(w.remaining(&s, 3_000), 1);
        assert_eq!(w.remaining(&s, 61_500), 2);
        assert_eq!(w.remaining(&CounterState::default(), 0), 3);
        let t = Limit::Total { limit: 5 };
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
        let l = Limit::Total { limit: 1 };
        let s = l.take(&CounterState::default(), 5).unwrap();
        assert_eq!(l.take(&s, 6), Err(Exceeded::Quota));
        let s = l.give_back(&s, 5);
        assert!(l.take(&s, 7).is_ok());
        assert_eq!(l.forgettable_at(&s), None);
    }

    #[test]
    fn give_back_frees_the_window() {
        let l = window(1);
        let s = l.take(&CounterState::default(), 10).unwrap();
        assert!(l.take(&s, 20).is_err());
        let s = l.give_back(&s, 10);
        assert!(l.take(&s, 20).is_ok());
    }

    #[test]
    fn take_all_is_all_or_nothing() {
        let counters = vec![
            (window(5), CounterState::default()),
            (
                Limit::Total { limit: 1 },
                CounterState {
                    hits: VecDeque::new(),
                    total: 1,
                },
            ),
        ];
        assert_eq!(take_all(&counters, 0), Err((1, Exceeded::Quota)));
        let ok = take_all(&counters[..1], 0).unwrap();
        assert_eq!(ok[0].total, 1);
    }

    #[test]
    fn wire_format() {
        let take = Take {
            counters: vec![("issue".into(), window(5))],
            keep_until: 9,
        };
        let text = take.to_json().text();
        assert_eq!(
            text,
            r#"{"counters":[["issue",{"window":{"limit":5,"window_ms":60000}}]],"keep_until":9}"#
        );
        assert_eq!(Take::from_json(&take.to_json()), Some(take.clone()));
        let give = GiveBack {
            counters: vec![("a".into(), Limit::Total { limit: 4 })],
            at: 5,
            keep_until: 6,
        };
        assert_eq!(GiveBack::from_json(&give.to_json()), Some(give));
        let peek = Peek {
            counters: vec!["a".into(), "b".into()],
        };
        assert_eq!(Peek::from_json(&peek.to_json()), Some(peek));
        for taken in [
            Taken::Admitted { at: 7 },
            Taken::Refused {
                counter: "issue".into(),
                exceeded: Exceeded::Rate { retry_after: 3 },
            },
            Taken::Refused {
                counter: "upload.max".into(),
                exceeded: Exceeded::Quota,
            },
        ] {
            assert_eq!(Taken::from_json(&taken.to_json()), Some(taken));
        }
        assert_eq!(
            Take::from_json(&json!({"counters": [["a"]], "keep_until": 1})),
            None
        );
        assert_eq!(
            Taken::from_json(&json!({"refused": {"counter": "a", "exceeded": "x"}})),
            None
        );
        assert_eq!(
            forget_at(&Limit::Total { limit: 1 }, &CounterState::default(), 77),
            77
        );
    }

    #[test]
    fn state_is_stored_compactly() {
        let s = Limit::Total { limit: 3 }
            .take(&CounterState::default(), 0)
            .unwrap();
        assert_eq!(s.encode(), [1, 0, 0, 0, 0, 0, 0, 0]);
        let w = window(3).take(&s, 258).unwrap();
        assert_eq!(w.encode()[8..], [2, 1, 0, 0, 0, 0, 0, 0]);
        for bad in [&[][..], &[1, 2, 3], &[0; 12]] {
            assert_eq!(CounterState::decode(bad), None);
        }
        assert_eq!(CounterState::from_json(&w.to_json()), Some(w));
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
        fn window_is_exact(limit in 1u32..6, gaps in proptest::collection::vec(0u64..30_000, 1..80)) {
            let l = window(limit);
            let mut s = CounterState::default();
            let mut now = 0;
            let mut admitted: Vec<u64> = Vec::new();
            for gap in gaps {
                now += gap;
                let in_window = admitted.iter().filter(|&&t| t + MIN > now).count();
                match l.take(&s, now) {
                    Ok(next) => {
                        prop_assert!(in_window < limit as usize);
                        s = next;
                        admitted.push(now);
                    }
                    Err(Exceeded::Rate { retry_after }) => {
                        prop_assert_eq!(in_window, limit as usize);
                        // Retrying after the advice succeeds.
                        prop_assert!(l.take(&s, now + retry_after * 1000).is_ok());
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
        fn total_is_exact(limit in 1u64..50, tries in 0usize..120) {
            let l = Limit::Total { limit };
            let mut s = CounterState::default();
            let mut admitted = 0;
            for i in 0..tries {
                if let Ok(next) = l.take(&s, i as u64) {
                    s = next;
                    admitted += 1;
                }
            }
            prop_assert_eq!(admitted as u64, (tries as u64).min(limit));
        }
    }
}
