//! Introspection (`GET /{project}/v5/key/introspect`): what a key is, how
//! long it has left, and what remains of each of its counters.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::counter::{CounterState, Limit};
use crate::gateway::own_counters;
use crate::key::{Claims, Verified};
use crate::limiter::Counter;
use crate::restriction::Client;

/// The answer to Filerobot's key check (`GET /{project}/v4/key/info?key=`),
/// which the widget reads its permissions from.
#[derive(Debug, Serialize)]
pub struct KeyInfo {
    pub is_validate: bool,
    pub is_user_info_included: bool,
    pub permissions: Vec<&'static str>,
}

impl KeyInfo {
    pub fn of(key: &Verified) -> KeyInfo {
        KeyInfo {
            is_validate: true,
            is_user_info_included: false,
            permissions: key.policy.permissions.set().names(),
        }
    }
}

/// Every counter of the key, as seen by `client` (the per-IP counter is the
/// caller's own).
pub fn counters(key: &Verified, client: &Client) -> Vec<(Counter, Limit)> {
    own_counters(key, client)
}

/// One counter's limit and what is left of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Remaining {
    pub limit: u64,
    pub remaining: u64,
}

/// The answer's fields.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub claims: &'a Claims,
    pub expires_at: u64,
    pub seconds_left: u64,
    /// By template field, e.g. `upload.max`.
    pub counters: BTreeMap<&'static str, Remaining>,
}

/// The report on `key` at `now_ms`, given the state of each of `counters`
/// (in the same order).
pub fn report<'a>(
    key: &'a Verified,
    counters: &[(Counter, Limit)],
    states: &[CounterState],
    now_ms: u64,
) -> Report<'a> {
    Report {
        claims: key,
        expires_at: key.expires_at,
        seconds_left: key.seconds_left(now_ms / 1000),
        counters: counters
            .iter()
            .zip(states)
            .map(|((counter, limit), state)| {
                let remaining = Remaining {
                    limit: limit.value(),
                    remaining: limit.remaining(state, now_ms),
                };
                (counter.field(), remaining)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::check_key;
    use crate::id::{KeyId, Project};
    use crate::key::sign;
    use crate::signing::Keyring;
    use crate::template::KeySpec;
    use serde_json::json;

    #[test]
    fn reports_what_remains() {
        let ring = Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        let spec = KeySpec::from_key_request(json!({"data": {
            "upload": {"max": 10, "limit_per_source_ip": 3, "limit_per_min": 2},
            "listing": {"max": 5}
        }}))
        .unwrap();
        let claims = Claims {
            project: Project::parse("demo").unwrap(),
            template: None,
            key_id: KeyId::issued(2_000, [1; 12]),
            generation: 0,
            issued_at: 1_000,
            expires_at: 2_000,
            lineage: Vec::new(),
            policy: spec.policy,
        };
        let key = check_key(&sign(&claims, ring.signer()), &ring, &claims.project, 1_000).unwrap();
        let client = Client {
            ip: "192.0.2.1".parse().ok(),
            ..Client::default()
        };
        let counters = counters(&key, &client);
        assert_eq!(counters.len(), 4);
        let used = CounterState {
            total: 4,
            ..CounterState::default()
        };
        let states = vec![CounterState::default(), used.clone(), used.clone(), used];
        let report = report(&key, &counters, &states, 1_500_000);
        assert_eq!(report.seconds_left, 500);
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(
            v["counters"]["upload.max"],
            json!({"limit": 10, "remaining": 6})
        );
        assert_eq!(
            v["counters"]["upload.limit_per_source_ip"],
            json!({"limit": 3, "remaining": 0})
        );
        assert_eq!(
            v["counters"]["upload.limit_per_min"],
            json!({"limit": 2, "remaining": 2})
        );
        assert_eq!(
            v["counters"]["listing.max"],
            json!({"limit": 5, "remaining": 1})
        );
        assert_eq!(v["claims"]["project"], "demo");
    }
}
