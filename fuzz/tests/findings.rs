//! What the fuzz targets found in the core, each now fixed, as a plain
//! regression test that holds the core to the rule it broke: each passes on
//! today's core and fails on the core the finding was made on. Run with
//!
//!     cargo +nightly test --manifest-path fuzz/Cargo.toml
//!
//! fuzz/README.md describes each finding and the commit that fixed it. The
//! targets also check every one of these rules as an invariant, and the
//! seeds named `finding-*` replay each finding's input on every run.

use sass_edge::core::gateway::{self, KeyState, TemplateState};
use sass_edge::core::id::{KeyId, Project};
use sass_edge::core::key::{self, Claims, LEEWAY};
use sass_edge::core::origin::Allowed;
use sass_edge::core::path::FilePath;
use sass_edge::core::request::{Ask, Operation, Target, Verb};
use sass_edge::core::restriction::Client;
use sass_edge::core::route::{self, At, Call, Route};
use sass_edge::core::signing::Keyring;
use sass_edge::core::template::KeySpec;
use sass_edge::core::upload;

fn demo() -> Project {
    Project::parse("demo").unwrap()
}

/// The operation the gateway reads from a request of the object API, or
/// the refusal's code.
fn operation(method: &str, path: &str) -> (Call, Result<Operation, &'static str>) {
    let Ok(Route::Storage {
        call,
        at: At::Path(raw),
        ..
    }) = route::route(method, path)
    else {
        panic!("{method} {path} is not a call of the object API");
    };
    let ask = Ask {
        verb: call.verb(),
        target: Target::Url(raw),
        to: None,
        length: Some(5),
    };
    (call, ask.operation().map_err(|e| e.code()))
}

/// F1, found by `path_scope`, fixed in 59002ce (meta) and c047ed4 (move):
/// `PUT /demo/v5/objects/up/%6Deta` was admitted as an upload of `/up/meta`
/// (FILE_UPLOAD, under `upload.dir_scope`), and in origin mode forwarded as
/// `PUT /demo/v5/objects/up/meta`, which sass-edge's own router, and so an
/// origin that routes as it does, reads as a change of the meta of `/up`
/// (FILE_META_CHANGE, under `listing.dir_scope`). A file named `meta` or
/// `move` is now refused on the object API's PUT however its URL spells it.
#[test]
fn f1_an_upload_named_meta_or_move_is_refused_however_spelt() {
    for path in [
        "/demo/v5/objects/up/%6Deta",
        "/demo/v5/objects/up/%6d%65%74%61",
        "/demo/v5/objects/up/%6Dove",
        "/demo/v5/objects/%6Deta",
    ] {
        let (call, op) = operation("PUT", path);
        assert_eq!((call, op), (Call::Put, Err("PATH_INVALID")), "PUT {path}");
    }
    // Other calls may still name such a file (it can exist, uploaded with
    // the Filerobot upload): their forwarded form reads the same.
    let (call, op) = operation("GET", "/demo/v5/objects/up/%6Deta");
    let op = op.unwrap();
    assert_eq!(
        op,
        Operation::Fetch {
            path: FilePath::parse("/up/meta".into()).unwrap()
        }
    );
    let project = demo();
    let forwarded = Allowed {
        project: &project,
        call,
        v4: false,
        file: None,
        operation: &op,
        list: None,
        page: (None, None),
    }
    .path_and_query();
    assert_eq!(operation("GET", &forwarded), (call, Ok(op)), "{forwarded}");
}

/// F2 (low), found by `multipart`, fixed in 59002ce: `upload::boundary`
/// took an empty boundary from `multipart/form-data; boundary=` and read
/// the body with a bare `--` as its delimiter. RFC 2046 (5.1.1) wants 1 to
/// 70 characters.
#[test]
fn f2_an_empty_or_overlong_boundary_is_refused() {
    for ct in [
        "multipart/form-data; boundary=".to_string(),
        "multipart/form-data; boundary=\"\"".to_string(),
        format!("multipart/form-data; boundary={}", "b".repeat(71)),
    ] {
        assert_eq!(
            upload::boundary(&ct).map_err(|e| e.code()),
            Err("INVALID_MULTIPART"),
            "{ct}"
        );
    }
    let longest = "b".repeat(70);
    assert_eq!(
        upload::boundary(&format!("multipart/form-data; boundary={longest}")),
        Ok(longest)
    );
}

fn ring() -> Keyring {
    Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap()
}

/// Claims of a key with an upload counter that expires at `expires_at`,
/// with the key id sass-edge would give it.
fn counted_claims(expires_at: u64) -> Claims {
    let spec = KeySpec::from_key_request(serde_json::json!({"data": {
        "permissions": ["FILE_UPLOAD"], "upload": {"max": 1}
    }}))
    .unwrap();
    Claims {
        project: demo(),
        template: None,
        key_id: KeyId::issued(expires_at, [1; 12]),
        generation: 0,
        issued_at: 1_795_323_661,
        expires_at,
        lineage: Vec::new(),
        policy: spec.policy,
    }
}

/// F3 (low), found by `key`: a correctly signed key with a counter and an
/// `expires_at` above `u64::MAX / 1000 - 30` verified, then overflowed in
/// `gateway::admit`, which computed the counters' deadline as
/// `(expires_at + LEEWAY) * 1000` unchecked (a panic with overflow checks, a
/// deadline wrapped into the past in the release build). Two fixes now hold:
/// a key id carries its key's expiry in 32 bits and verification refuses a
/// key whose id does not carry it (6fd3827), so such a key no longer
/// verifies; and the deadline saturates (59002ce). Only a holder of a
/// signing secret could make such a key.
#[test]
fn f3_a_far_expiry_neither_verifies_nor_overflows_the_counters_deadline() {
    let far = counted_claims(u64::MAX / 1000);
    let signed = key::sign(&far, ring().signer());
    assert_eq!(
        key::verify(&signed, &ring(), 1_795_323_661).map_err(|e| e.code()),
        Err("KEY_INVALID"),
        "a key id cannot carry an expiry past 2106"
    );
    // The farthest expiry a key can have: its counters outlive it.
    let farthest = counted_claims(u64::from(u32::MAX));
    let verified = key::verify(
        &key::sign(&farthest, ring().signer()),
        &ring(),
        1_795_323_661,
    )
    .unwrap();
    let ask = Ask {
        verb: Verb::UploadFiles,
        target: Target::Plain("/up".into()),
        to: None,
        length: None,
    };
    let state = KeyState {
        revoked: false,
        template: TemplateState::None,
    };
    let (_, take) = gateway::admit(&verified, state, &ask, &Client::default())
        .unwrap()
        .counted
        .unwrap();
    assert!(take.keep_until >= (farthest.expires_at + LEEWAY + 1) * 1000);
}

/// S1, found by `path_scope` in its former strict mode, fixed in b0462c6:
/// `;` was a path character, so `/up/..;/private/a.txt` was a file in the
/// folder `/up/..;/private`: within `/up/*` for sass-edge, `/private/a.txt`
/// for a server that strips path parameters (Tomcat). A `;` in a path is
/// now refused.
#[test]
fn s1_a_semicolon_in_a_path_is_refused() {
    for path in [
        "/demo/v5/objects/up/..;/private/a.txt",
        "/demo/v5/objects/up;x/a.txt",
        "/demo/v5/objects/up/%3B/a.txt",
    ] {
        assert_eq!(operation("GET", path).1, Err("PATH_INVALID"), "{path}");
    }
}

/// S2, found by `path_scope` in its former strict mode, fixed in b0462c6:
/// `%252e%252e` decoded once to a segment `%2e%2e`, not `..`, so
/// `/up/%252e%252e/private/a.txt` was admitted under `/up/*`; an origin
/// that decodes twice reads `/up/../private/a.txt`. An escape left after
/// the one decoding is now refused, as are characters that NFKC turns into
/// `.`, `/`, `\`, `;` or `%`.
#[test]
fn s2_an_escape_or_look_alike_left_after_decoding_is_refused() {
    for path in [
        "/demo/v5/objects/up/%252e%252e/private/a.txt",
        "/demo/v5/objects/up/%252Fx",
        "/demo/v5/objects/up/%25414",
        // U+FF0E FULLWIDTH FULL STOP, twice: `..` once normalised.
        "/demo/v5/objects/up/%EF%BC%8E%EF%BC%8E/private/a.txt",
    ] {
        assert_eq!(operation("GET", path).1, Err("PATH_INVALID"), "{path}");
    }
    // A % that is no escape stays a character.
    assert!(
        operation("GET", "/demo/v5/objects/up/100%25 done")
            .1
            .is_ok()
    );
}

/// F4, found by `path_scope`, fixed in src/core/path.rs (NORMALISED_AWAY,
/// on this branch): the path rules refuse characters that NFKC turns into
/// `.`, `/`, `\`, `;` or `%`, from a list of 12 (fullwidth and small forms,
/// dot leaders) that missed 32: `℁` (`a/s`: a slash, so
/// `PUT /demo/v5/objects/℁/up/meta` was admitted), `︰` (`..`), the Greek
/// question mark (`;`, even under NFC), `⒈` (`1.`) and others. Every
/// character of Unicode, checked against ICU4X's NFKC: a non-ASCII one is
/// refused exactly when it is a control character or a look-alike.
#[test]
fn f4_every_nfkc_look_alike_is_refused() {
    use sass_edge::core::path::normalised_error;
    use sass_edge_fuzz::model::nfkc_look_alike;

    let mut wrong = Vec::new();
    for c in (0x80..=0x10FFFF).filter_map(char::from_u32) {
        let refused = normalised_error(&format!("/a{c}b")).is_some();
        if refused != (c.is_control() || nfkc_look_alike(c)) {
            wrong.push(format!("U+{:04X} refused: {refused}", c as u32));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join(", "));
    for path in [
        "/demo/v5/objects/%E2%84%81/up/a.txt",
        "/demo/v5/objects/up/%EF%B8%B0/a.txt",
    ] {
        assert_eq!(operation("GET", path).1, Err("PATH_INVALID"), "{path}");
    }
}
