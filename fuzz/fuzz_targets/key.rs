//! The key parser and verifier (`core::key`), six modes by the first byte:
//!
//! 0. the rest, as text, is a key: it verifies only if it is authentic
//!    (an HMAC computed here, apart from the core, matches its tag), and
//!    the cache and the gateway answer as `verify` does;
//! 1. the committed vectors, edited by the rest (replace, insert, delete,
//!    cut): the same, so an edited key verifies only if it is still exactly
//!    an authentic one;
//! 2. the rest is the claims JSON, base64url-encoded and correctly signed
//!    with the vectors' secret: the claims decoding behind the MAC is
//!    reached;
//! 3. the rest, as text, is the claims part itself, correctly signed: the
//!    base64 decoding behind the MAC is reached too;
//! 4. the rest drives structured claims (a generated policy and lineage),
//!    signed, the key id mostly made as sass-edge makes it;
//! 5. the rest is JSON; an object gets the key id that carries its
//!    `expires_at` (when it has one that fits), then is signed: arbitrary
//!    claims that get past the key id's check.
//!
//! For signed keys (2 to 5): `verify` either succeeds with exactly the
//! claims the payload decodes to, which re-encode and verify again to the
//! same claims (and the encoding is a fixed point), or refuses with
//! KEY_INVALID (claims that do not decode, or whose key id does not carry
//! their expiry, at any time) or KEY_EXPIRED (claims that decode, past
//! expiry plus leeway, and only then). A verified key is usable: the
//! gateway's counters outlive it, and a key attenuated from it verifies and
//! counts against it. Never a panic.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use sass_edge::core::attenuate::attenuate;
use sass_edge::core::gateway::{self, KeyState, TemplateState};
use sass_edge::core::id::{KeyId, Project};
use sass_edge::core::introspection::{self, KeyInfo};
use sass_edge::core::key::{self, Claims, KeyCache, LEEWAY, PREFIX, Verified};
use sass_edge::core::lineage::{Ancestor, Counted};
use sass_edge::core::request::{Ask, Target, Verb};
use sass_edge::core::restriction::Client;
use sass_edge_fuzz::{
    KEY_VECTOR, KEY_VECTOR_SORTED, NOW, demo, generate, model, nonce, ring, secret, stat,
};
use serde_json::{Value, json};

/// The times every key is checked at.
const TIMES: [u64; 5] = [
    0,
    NOW,
    NOW + 1200 + LEEWAY,
    NOW + 1200 + LEEWAY + 1,
    u64::MAX,
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 6 {
        0 => unsigned(&String::from_utf8_lossy(rest)),
        1 => edited(rest),
        2 => signed(&URL_SAFE_NO_PAD.encode(rest)),
        3 => signed(&String::from_utf8_lossy(rest)),
        4 => structured(rest),
        _ => with_its_key_id(rest),
    }
});

/// A key that nobody signed here: it verifies only if authentic.
fn unsigned(text: &str) {
    for candidate in [
        text.to_string(),
        format!("{PREFIX}k1__{text}"),
        format!("{PREFIX}k1__{text}__{}", "A".repeat(43)),
    ] {
        check_any(&candidate);
    }
}

/// The vectors, edited: (op, position, byte) triples.
fn edited(edits: &[u8]) {
    for vector in [KEY_VECTOR.trim(), KEY_VECTOR_SORTED.trim()] {
        let mut bytes = vector.as_bytes().to_vec();
        for e in edits.chunks(3) {
            let [op, pos, b] = [e[0], *e.get(1).unwrap_or(&0), *e.get(2).unwrap_or(&0)];
            // Positions count from the end half of the time: the tag and
            // the claims' end are where the interesting edits are.
            let len = bytes.len().max(1);
            let i = if op & 0x80 == 0 {
                pos as usize % len
            } else {
                len - 1 - (pos as usize % len)
            };
            match op % 4 {
                0 if !bytes.is_empty() => bytes[i] = b,
                1 => bytes.insert(i.min(bytes.len()), b),
                2 if !bytes.is_empty() => {
                    bytes.remove(i);
                }
                _ => bytes.truncate(i),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        check_any(&text);
        if text != vector {
            // Not the vector: it may verify only as another authentic key,
            // which an edit cannot make.
            assert!(
                key::verify(&text, ring(), NOW).is_err(),
                "an edited key verifies: {text}"
            );
        }
    }
}

/// Any key: `verify`, the cache and the gateway agree, and whatever
/// verifies is authentic by the independent HMAC.
fn check_any(text: &str) {
    let mut cache = KeyCache::default();
    for now in TIMES {
        let direct = key::verify(text, ring(), now);
        let cached = cache.verify(text, ring(), now);
        assert_eq!(
            direct.as_ref().map(|v| (**v).clone()).map_err(|e| e.code()),
            cached.as_ref().map(|v| (**v).clone()).map_err(|e| e.code()),
            "the cache and verify disagree on {text:?} at {now}"
        );
        if now == NOW {
            stat(&format!(
                "verify {}",
                direct.as_ref().map_or_else(|e| e.code(), |_| "ok")
            ));
        }
        match &direct {
            Ok(claims) => {
                assert!(
                    model::authentic(text, "k1", &secret()),
                    "a key that is not authentic verifies: {text:?}"
                );
                round_trip(claims, now);
                usable(claims, now);
            }
            Err(e) => assert!(
                matches!(e.code(), "KEY_INVALID" | "KEY_EXPIRED"),
                "untyped refusal {e:?} of {text:?}"
            ),
        }
        let project = direct
            .as_ref()
            .map_or_else(|_| demo(), |c| c.project.clone());
        let gate = gateway::check_key(text, ring(), &project, now);
        assert_eq!(
            gate.map(|v| (*v).clone()).map_err(|e| e.code()),
            direct.map(|v| (*v).clone()).map_err(|e| e.code()),
            "the gateway and verify disagree on {text:?}"
        );
    }
}

/// Signs `payload` (the claims part, as is) with `k1` and checks the
/// verification at every time.
fn signed(payload: &str) {
    let body = format!("{PREFIX}k1__{payload}");
    let tag = URL_SAFE_NO_PAD.encode(ring().signer().tag(body.as_bytes()));
    let text = format!("{body}__{tag}");
    assert!(model::authentic(&text, "k1", &secret()));
    check_any(&text);
    // What the claims decode to, read apart from `verify`'s own path: the
    // payload must be base64url of a JSON object of claims.
    let decoded: Option<Claims> = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok());
    let too_long = text.len() > key::MAX_KEY_LEN;
    if !too_long {
        stat(match &decoded {
            None => "signed: claims do not decode",
            Some(c) if c.key_id.expires_at() != c.expires_at => "signed: key id without expiry",
            Some(_) => "signed: claims decode",
        });
    }
    for now in TIMES {
        let got = key::verify(&text, ring(), now);
        match (&decoded, &got) {
            _ if too_long => assert_eq!(got.map(|_| ()).unwrap_err().code(), "KEY_INVALID"),
            (None, _) => assert_eq!(
                got.as_ref().map(|_| ()).map_err(|e| e.code()),
                Err("KEY_INVALID"),
                "signed claims that do not decode: {payload:?}"
            ),
            // A key id carries its key's expiry (its first 4 bytes): one that
            // does not is refused, whatever the time.
            (Some(c), _) if c.key_id.expires_at() != c.expires_at => assert_eq!(
                got.as_ref().map(|_| ()).map_err(|e| e.message()),
                Err(
                    "the key's id does not carry its expiry (a key of an earlier version)"
                        .to_string()
                ),
                "a key whose id says {} expires at {}",
                c.key_id.expires_at(),
                c.expires_at
            ),
            (Some(c), Ok(v)) => {
                assert_eq!(c, &**v, "verify read other claims than the payload holds");
                assert!(
                    now <= c.expires_at.saturating_add(LEEWAY),
                    "expired key admitted"
                );
            }
            (Some(c), Err(e)) => {
                assert_eq!(e.code(), "KEY_EXPIRED", "decodable claims refused: {e:?}");
                assert!(
                    now > c.expires_at.saturating_add(LEEWAY),
                    "live key refused"
                );
            }
        }
    }
}

/// Claims from a generated policy, the key's own fields drawn too.
fn structured(raw: &[u8]) {
    let mut u = Unstructured::new(raw);
    let Ok(policy) = generate::Policy::arbitrary(&mut u) else {
        return;
    };
    let head = <(u8, u8, u64, u64, u8)>::arbitrary(&mut u).unwrap_or_default();
    let lineage = <Vec<(u8, u8, u8)>>::arbitrary(&mut u).unwrap_or_default();
    let mut members = policy.members();
    members.remove("key_validity");
    let mut claims = serde_json::Map::new();
    let project = ["demo", "a1", "Demo", "", "demo/x"][head.0 as usize % 5];
    claims.insert("project".into(), json!(project));
    if head.1 & 1 == 1 {
        claims.insert(
            "template".into(),
            json!("SECU_3268740E1C82464B9BC350D868F966CB"),
        );
    }
    // Mostly a time near the vectors', sometimes any 32- or 64-bit one.
    let expires_at = match head.4 % 4 {
        0 | 1 => NOW + head.3 % 2000,
        2 => head.3 % (1 << 32),
        _ => head.3,
    };
    // The id as sass-edge makes it, mostly; else one of an earlier version
    // (no expiry in it), one for another expiry, or no key id at all.
    let key_id = match (head.1 >> 1) % 8 {
        0 => "07".repeat(16),
        1 => KeyId::issued(expires_at.wrapping_add(1), nonce(7)).to_string(),
        2 => "0G".repeat(16),
        _ => KeyId::issued(expires_at, nonce(7)).to_string(),
    };
    claims.insert("key_id".into(), json!(key_id));
    if head.1 & 0x10 != 0 {
        claims.insert("generation".into(), json!(head.2 >> 32));
    }
    claims.insert("issued_at".into(), json!(head.2 % (1 << 40)));
    claims.insert("expires_at".into(), json!(expires_at));
    // Ancestors: an id alone, or an id with the limits it counts (some of
    // them zero, which no key carries).
    let ancestors: Vec<Value> = lineage
        .iter()
        .take(6)
        .map(|&(n, limits, value)| {
            let id = KeyId::issued(expires_at, nonce(n)).to_string();
            if limits == 0 {
                return json!(id);
            }
            let mut a = serde_json::Map::new();
            a.insert("key_id".into(), json!(id));
            for (bit, name) in [
                "upload_limit_per_min",
                "upload_limit_per_source_ip",
                "upload_max",
                "listing_max",
            ]
            .iter()
            .enumerate()
            {
                if limits & (1 << bit) != 0 {
                    a.insert((*name).into(), json!(value));
                }
            }
            if limits & 0x80 != 0 {
                a.insert("other".into(), json!(1));
            }
            Value::Object(a)
        })
        .collect();
    if !ancestors.is_empty() {
        claims.insert("lineage".into(), Value::Array(ancestors));
    }
    claims.extend(members);
    let json = serde_json::to_vec(&Value::Object(claims)).expect("a JSON value");
    signed(&URL_SAFE_NO_PAD.encode(json));
}

/// Arbitrary JSON claims, given the key id that carries their `expires_at`
/// (when it is a number a key id can carry), then signed: the key id's check
/// passes, and what decides is the claims' decoding.
fn with_its_key_id(raw: &[u8]) {
    let Ok(mut value) = serde_json::from_slice::<Value>(raw) else {
        return signed(&URL_SAFE_NO_PAD.encode(raw));
    };
    if let Value::Object(claims) = &mut value
        && let Some(expires_at) = claims.get("expires_at").and_then(Value::as_u64)
    {
        let id = KeyId::issued(expires_at, nonce(raw.len() as u8));
        claims.insert("key_id".into(), json!(id.as_str()));
    }
    let json = serde_json::to_vec(&value).expect("a JSON value");
    signed(&URL_SAFE_NO_PAD.encode(json));
}

/// Verified claims re-encode: signed again they verify to the same claims,
/// and signing those gives the same key (the encoding is a fixed point).
fn round_trip(claims: &Claims, now: u64) {
    let again = key::sign(claims, ring().signer());
    let back = key::verify(&again, ring(), now)
        .unwrap_or_else(|e| panic!("re-signed claims refused: {e:?}\n{claims:?}"));
    assert_eq!(&*back, claims, "claims changed through sign and verify");
    assert_eq!(
        key::sign(&back, ring().signer()),
        again,
        "not a fixed point"
    );
    let value = serde_json::to_value(claims).expect("claims are JSON");
    assert_eq!(
        &serde_json::from_value::<Claims>(value).expect("written claims read back"),
        claims
    );
    // Another project is refused as such.
    let other = Project::parse("zz9").expect("a project");
    if claims.project != other {
        assert_eq!(
            gateway::check_key(&again, ring(), &other, now)
                .unwrap_err()
                .code(),
            "PROJECT_MISMATCH"
        );
    }
}

/// A key that verifies can be used: the gateway's later steps, its counters,
/// introspection, the key check and attenuation take it without a panic; its
/// counters are kept at least until it expires (F3, fixed: the deadline
/// overflowed for a far expiry); a key attenuated from it verifies, carries
/// its expiry in its id, and counts against it and its ancestors.
fn usable(key: &Verified, now: u64) {
    let client = Client::default();
    let state = KeyState {
        revoked: false,
        template: TemplateState::Active,
    };
    assert_eq!(key.key_id.expires_at(), key.expires_at);
    for (verb, target, length) in [
        (Verb::UploadFiles, "/up", None),
        (Verb::Upload, "/up/a.txt", Some(1)),
        (Verb::List, "/", None),
    ] {
        let ask = Ask {
            verb,
            target: Target::Plain(target.into()),
            to: None,
            length,
        };
        if let Ok(admission) = gateway::admit(key, state, &ask, &client)
            && let Some((_, take)) = admission.counted
        {
            assert!(
                take.keep_until / 1000 >= key.expires_at,
                "counters dropped before the key expires: {} ms for {}",
                take.keep_until,
                key.expires_at
            );
        }
    }
    let _ = introspection::counters(key, &client);
    let _ = KeyInfo::of(key);
    match attenuate(key, json!({}), now, nonce(77)) {
        Ok(child) => {
            assert_eq!(
                child.policy, key.policy,
                "an empty request changed the policy"
            );
            assert_eq!(child.expires_at, key.expires_at);
            assert_eq!(child.key_id.expires_at(), child.expires_at);
            assert_eq!(
                (&child.project, &child.template, child.generation),
                (&key.project, &key.template, key.generation)
            );
            let mut lineage = key.lineage.clone();
            lineage.push(Ancestor {
                key_id: key.key_id.clone(),
                limits: Counted::of(&key.policy),
            });
            assert_eq!(child.lineage, lineage);
            let signed = key::sign(&child, ring().signer());
            let child = key::verify(&signed, ring(), now)
                .unwrap_or_else(|e| panic!("an attenuated key does not verify: {e:?}"));
            // Every count the child takes is also taken from each ancestor,
            // its parent included.
            assert_eq!(
                gateway::listing_counters(&child).len(),
                gateway::listing_counters(key).len()
                    + usize::from(key.policy.listing.max.is_some()),
                "the child's listing counters"
            );
        }
        Err(e) => assert!(
            e.code() == "KEY_TOO_BROAD" && key.lineage.len() >= 4,
            "an empty attenuation request refused: {e:?}"
        ),
    }
}
