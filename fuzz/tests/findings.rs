//! What the fuzz targets found in the core, each as a plain unit test that
//! holds the core to the rule it breaks. They are `#[ignore]`d while the
//! finding is open, so that `cargo test` stays green; run them with
//!
//!     cargo test --manifest-path fuzz/Cargo.toml --test findings -- --ignored
//!
//! and each fails, showing the finding. Once the core is fixed, drop the
//! `#[ignore]` (and the finding's skip in the target, see
//! `sass_edge_fuzz::skip_known`). fuzz/README.md describes each one.

use sass_edge::core::id::Project;
use sass_edge::core::origin::{self, Allowed};
use sass_edge::core::path::{Dir, FilePath};
use sass_edge::core::request::{Ask, Operation, Target};
use sass_edge::core::route::{self, At, Call, Route};
use sass_edge::core::upload;

fn demo() -> Project {
    Project::parse("demo").unwrap()
}

/// The operation the gateway reads from a request of the object API.
fn operation(method: &str, path: &str) -> (Call, Operation) {
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
    (call, ask.operation().unwrap())
}

/// F1, found by `path_scope`: `PUT /demo/v5/objects/up/%6Deta` (Content-Length
/// 5) is an upload of the file `/up/meta`: FILE_UPLOAD, checked against
/// `upload.dir_scope`. In origin mode it is forwarded as
/// `PUT /demo/v5/objects/up/meta`, which sass-edge's own router, and so an
/// origin that routes as it does, reads as a change of the meta of `/up`
/// (FILE_META_CHANGE on another file, under `listing.dir_scope`). The
/// canonical request does not mean what the gateway checked.
#[test]
#[ignore = "F1: open"]
fn f1_an_upload_named_meta_is_forwarded_as_a_meta_change() {
    let (call, op) = operation("PUT", "/demo/v5/objects/up/%6Deta");
    assert_eq!(call, Call::Put);
    assert_eq!(
        op,
        Operation::Upload {
            path: FilePath::parse("/up/meta".into()).unwrap(),
            length: 5
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
    let (again, op_again) = operation("PUT", &forwarded);
    assert_eq!(
        (again, &op_again),
        (call, &op),
        "the origin is sent PUT {forwarded}, which reads as {again:?} {op_again:?}"
    );
}

/// S1 (strict mode of `path_scope`; the README does not forbid it): a `;`
/// passes the path rules, so `/up;x` is a directory and `/up;x/a.txt` a file
/// in it. Scopes still hold (`/up/*` does not allow `/up;x`), R2 keys are
/// plain strings, and the origin gets `%3B`; but some servers read `;` as the
/// start of path parameters (`/up/..;/private` on Tomcat).
#[test]
#[ignore = "S1: stricter than the README; a design decision, not a bug"]
fn s1_a_semicolon_is_a_path_character() {
    let (_, op) = operation("GET", "/demo/v5/objects/up/..;/private/a.txt");
    assert!(
        !matches!(&op, Operation::Fetch { path } if path.as_str().contains(';')),
        "{op:?}"
    );
}

/// S2 (strict mode of `path_scope`; by design, the README says "decoded
/// once"): `%252e%252e` decodes once to a segment `%2e%2e`, which is not
/// `..`, so `/up/%2e%2e/private/a.txt` is admitted under `/up/*`. It is
/// forwarded exactly (`%252e%252e`) and X-Sass-Path says `%2e%2e`; an origin
/// that decodes twice would read `/up/../private/a.txt`.
#[test]
#[ignore = "S2: stricter than the README; a design decision, not a bug"]
fn s2_an_escaped_escape_survives_one_decoding() {
    let (_, op) = operation("GET", "/demo/v5/objects/up/%252e%252e/private/a.txt");
    let Operation::Fetch { path } = &op else {
        panic!("{op:?}")
    };
    assert_eq!(
        path.parent(),
        Dir::parse("/up/%2e%2e/private".into()).unwrap()
    );
    let twice = origin::encode_path(path);
    assert!(
        !path.as_str().to_ascii_lowercase().contains("%2e"),
        "{path} (sent as {twice}) holds an escape a second decoding turns into '.'"
    );
}

/// F2 (low), found by `multipart`: `upload::boundary` takes an empty
/// boundary, `multipart/form-data; boundary=` (the quoted `boundary=""` is
/// refused). RFC 2046
/// (5.1.1) wants 1 to 70 characters. The body is then read with a bare `--`
/// as its delimiter: any line of a file that starts with `--` ends the part.
/// It is the client's own body, so no one else's data is at stake, but the
/// request should be 400 INVALID_MULTIPART, as for a missing boundary.
#[test]
#[ignore = "F2: open"]
fn f2_an_empty_boundary_is_taken() {
    assert_eq!(
        upload::boundary("multipart/form-data; boundary=").map_err(|e| e.code()),
        Err("INVALID_MULTIPART")
    );
}

/// F2 as it is today (not ignored, so it fails once F2 is fixed: then
/// delete it): an empty boundary is used, with `--` as the delimiter.
#[test]
fn f2_what_an_empty_boundary_reads_today() {
    let body = "--\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\"a.txt\"\r\n\r\nhello\r\n----\r\n";
    let mut sink = Keep::default();
    let got = futures_executor::block_on(upload::read_multipart(
        futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(body))]),
        "",
        &Dir::parse("/up".into()).unwrap(),
        100,
        &mut sink,
    ));
    let files = got.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].staged, b"hello");
    assert_eq!(
        upload::boundary("multipart/form-data; boundary=\"\"").map_err(|e| e.code()),
        Err("INVALID_MULTIPART"),
        "the quoted empty boundary is refused already"
    );
}

#[derive(Default)]
struct Keep(Vec<u8>);

impl upload::Sink for Keep {
    type Staged = Vec<u8>;
    async fn open(
        &mut self,
        _: &str,
        _: &FilePath,
        _: &str,
    ) -> Result<(), sass_edge::core::refusal::Refusal> {
        self.0.clear();
        Ok(())
    }
    async fn write(
        &mut self,
        chunk: bytes::Bytes,
    ) -> Result<(), sass_edge::core::refusal::Refusal> {
        self.0.extend_from_slice(&chunk);
        Ok(())
    }
    async fn close(&mut self) -> Result<Vec<u8>, sass_edge::core::refusal::Refusal> {
        Ok(std::mem::take(&mut self.0))
    }
}

/// F3 (low), found by `key`: `gateway::admit` computes the counters'
/// `keep_until` as `(expires_at + LEEWAY) * 1000` unchecked
/// (src/core/gateway.rs, `admit`). A key whose `expires_at` is above
/// `u64::MAX / 1000 - 30` and that has a counter verifies (it has not
/// expired), then overflows there: a panic with overflow checks (debug,
/// tests), and in the release build (no overflow checks) a `keep_until` that
/// wrapped into the past, so the key's counters may be dropped at once.
/// sass-edge never signs such a key (expiry is now plus at most 7 days), so
/// only someone holding a signing secret can make one.
#[test]
#[ignore = "F3: open"]
fn f3_a_far_expiry_overflows_the_counters_deadline() {
    use sass_edge::core::gateway::{self, KeyState, TemplateState};
    use sass_edge::core::key::{self, Claims};
    use sass_edge::core::restriction::Client;
    use sass_edge::core::signing::Keyring;
    use sass_edge::core::template::KeySpec;

    let ring = Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
    let spec = KeySpec::from_key_request(serde_json::json!({"data": {
        "permissions": ["FILE_UPLOAD"], "upload": {"max": 1}
    }}))
    .unwrap();
    let claims = Claims {
        project: demo(),
        template: None,
        key_id: sass_edge::core::id::KeyId::new([1; 16]),
        issued_at: 1_795_323_661,
        expires_at: u64::MAX / 1000,
        lineage: Vec::new(),
        policy: spec.policy,
    };
    let verified = key::verify(&key::sign(&claims, ring.signer()), &ring, 1_795_323_661).unwrap();
    let ask = Ask {
        verb: sass_edge::core::request::Verb::UploadFiles,
        target: Target::Plain("/up".into()),
        to: None,
        length: None,
    };
    let state = KeyState {
        revoked: false,
        template: TemplateState::None,
    };
    let admitted = gateway::admit(&verified, state, &ask, &Client::default()).unwrap();
    let (_, take) = admitted.counted.unwrap();
    assert!(take.keep_until / 1000 >= claims.expires_at);
}
