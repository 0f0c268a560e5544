//! Micro-benchmarks of the pure core, natively: `cargo bench`.
//!
//! - `verify_and_admit_upload`: what the gateway computes for every upload
//!   made with a SASS key before any I/O: `check_key` (format, HMAC-SHA256,
//!   claims, expiry, project) then `admit` (template state, IP, country,
//!   permission, path, scope, size, counter plan). Target: at most 4 µs.
//! - `verify_and_admit_upload_cached`: the same for a key used before, whose
//!   claims come from the cache of verified keys the shell keeps per isolate.
//! - `check_key_only` and `admit_upload_only`: its two halves; inside
//!   `check_key`, `parse_claims_json` (the serde_json read of the claims) and
//!   `verify_tag_only` (the HMAC).
//! - `sign_key`: issuing a key, from claims to the signed key. Target: at most
//!   10 µs.
//! - `window_take_with_{10,5000}_hits`: a per-minute counter's take as the
//!   limiter runs it (decode, take, encode), with 10 and with 5,000 hits in
//!   the window: the same cost.
//!
//! The key is a realistic one: a template's key with three permissions, upload
//! limits and a scope, and IP and country restrictions, so every check runs.
//! Results go to target/criterion/; scripts/bench.sh copies them into
//! BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use std::num::NonZeroU32;

use criterion::{Criterion, criterion_group, criterion_main};

use sass_edge::core::counter::{CounterState, Limit};
use sass_edge::core::gateway::{KeyState, TemplateState, admit, check_key, check_key_cached};
use sass_edge::core::id::{KeyId, Project, TemplateId};
use sass_edge::core::key::{Claims, KeyCache, sign};
use sass_edge::core::request::{Ask, Target, Verb};
use sass_edge::core::restriction::Client;
use sass_edge::core::signing::Keyring;
use sass_edge::core::template::KeySpec;

/// A key that is not revoked, issued from an active template.
const ACTIVE: KeyState = KeyState {
    revoked: false,
    template: TemplateState::Active,
};

const NOW: u64 = 1_795_323_661;
/// Two signing keys, as during a rotation: the first signs, both verify.
const SIGNING_KEYS: &str =
    "k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8,k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";

fn claims() -> Claims {
    let request = serde_json::from_str(
        r#"{ "data": {
        "permissions": ["OBJECTS_LIST", "OBJECTS_FETCH", "FILE_UPLOAD"],
        "upload": {
            "limit_per_min": 20,
            "max": 100,
            "dir_scope": ["/uploads/*"],
            "max_file_size": 10485760
        },
        "restrictions": {
            "whitelist_ip_ranges": ["192.0.2.0/24", "2001:db8::/32"],
            "whitelist_countries": ["FR", "DE"]
        },
        "key_validity": { "expiration_duration": 1200 }
    }}"#,
    )
    .expect("JSON");
    let spec = KeySpec::from_key_request(request).expect("a valid key spec");
    Claims {
        project: Project::parse("demo").expect("a project"),
        template: TemplateId::parse("SECU_DE0000000000000000000000000000DE"),
        key_id: KeyId::issued(NOW + spec.expiration(), [7; 12]),
        generation: 0,
        issued_at: NOW,
        expires_at: NOW + spec.expiration(),
        lineage: Vec::new(),
        policy: spec.policy,
    }
}

fn benches(c: &mut Criterion) {
    let ring = Keyring::parse(SIGNING_KEYS).expect("valid signing keys");
    let demo = Project::parse("demo").expect("a project");
    let claims = claims();
    let key = sign(&claims, ring.signer());
    let ask = Ask {
        verb: Verb::Upload,
        target: Target::Url("/uploads/2026/photo%20one.jpg".into()),
        to: None,
        length: Some(123_456),
    };
    let client = Client {
        origin: None,
        ip: Some("192.0.2.10".parse().expect("an IP")),
        country: Some("FR".into()),
    };
    // Both must succeed, or the benchmark would time an early refusal.
    let checked = check_key(&key, &ring, &demo, NOW).expect("the key verifies");
    let admission = admit(&checked, ACTIVE, &ask, &client).expect("admitted");
    assert_eq!(admission.counted.expect("counted").1.counters.len(), 2);

    c.bench_function("verify_and_admit_upload", |b| {
        b.iter(|| {
            let claims = check_key(black_box(&key), &ring, &demo, black_box(NOW)).unwrap();
            admit(&claims, ACTIVE, black_box(&ask), black_box(&client)).unwrap()
        })
    });
    // A key used again: its claims come from the isolate's cache of verified
    // keys (the shell's path), only the expiry and project are checked again.
    let mut cache = KeyCache::default();
    c.bench_function("verify_and_admit_upload_cached", |b| {
        b.iter(|| {
            let claims =
                check_key_cached(&mut cache, black_box(&key), &ring, &demo, black_box(NOW))
                    .unwrap();
            admit(&claims, ACTIVE, black_box(&ask), black_box(&client)).unwrap()
        })
    });
    // The two halves, to see where the time goes.
    c.bench_function("check_key_only", |b| {
        b.iter(|| check_key(black_box(&key), &ring, &demo, black_box(NOW)).unwrap())
    });
    c.bench_function("admit_upload_only", |b| {
        b.iter(|| {
            admit(
                black_box(&checked),
                ACTIVE,
                black_box(&ask),
                black_box(&client),
            )
            .unwrap()
        })
    });
    // Inside check_key: reading the claims' JSON text into the typed claims.
    let claims_text = serde_json::to_string(&claims).expect("claims");
    c.bench_function("parse_claims_json", |b| {
        b.iter(|| serde_json::from_str::<Claims>(black_box(&claims_text)).unwrap())
    });
    // Inside check_key: the HMAC-SHA256 of the signed part, checked.
    let signed = &key[..key.len() - 45];
    let tag = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &key[key.len() - 43..],
    )
    .expect("a tag");
    c.bench_function("verify_tag_only", |b| {
        b.iter(|| {
            assert!(
                ring.signer()
                    .verify(black_box(signed.as_bytes()), black_box(&tag))
            )
        })
    });
    c.bench_function("sign_key", |b| {
        b.iter(|| sign(black_box(&claims), ring.signer()))
    });
    // A per-minute take, with 10 and with 5,000 hits already in the window:
    // the ring costs the same (decode, take, encode, as the limiter does).
    let window = Limit::Window {
        limit: NonZeroU32::new(10_000).expect("a limit"),
        window_ms: 60_000,
    };
    for held in [10u64, 5_000] {
        let mut state = CounterState::default();
        for i in 0..held {
            state = window
                .take(&state, 1_000 + i * 50_000 / held, NonZeroU32::MIN)
                .expect("room");
        }
        let stored = state.encode();
        c.bench_function(&format!("window_take_with_{held}_hits"), |b| {
            b.iter(|| {
                let state = CounterState::decode(black_box(&stored)).expect("a state");
                let next = window
                    .take(&state, black_box(55_000), NonZeroU32::MIN)
                    .expect("room");
                black_box(next.encode())
            })
        });
    }
}

criterion_group! {
    name = core;
    // Short runs: the whole `cargo bench` takes seconds once built.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .without_plots();
    targets = benches
}
criterion_main!(core);
