//! Templates, merge patches and attenuation (`core::template`,
//! `core::body::merge_patch`, `core::policy::broader_than`,
//! `core::attenuate`). The first byte picks the input's form:
//!
//! - even: the rest is JSON documents separated by NUL bytes (JSON text
//!   never holds a raw NUL): a template, a merge patch, then attenuation
//!   requests' `data`, each applied to the key the previous one made;
//! - odd: the rest drives generated templates, patches and requests.
//!
//! Invariants:
//! - a template parsed, stored (`to_json`) and read back (`from_stored`,
//!   also through its JSON text) is equal, and writes the same JSON again;
//!   its filled form, without the server's fields, parses to the same body;
//!   the compact policy a key carries reads back to the same policy; a key
//!   issued from it carries exactly its policy and validity;
//! - a patch keeps the id and creation time, leaves the fields it does not
//!   name as they were, and applied twice changes nothing more; it moves
//!   the generation exactly when it narrows the template, so that a key
//!   issued before it is still accepted (TemplateState::Active) only if the
//!   key is within the template as patched, policy and validity;
//!   `merge_patch` agrees with RFC 7386 as written here, and is idempotent;
//! - an attenuated key is never broader than its parent, nor than any
//!   ancestor: by `broader_than` and by an independent field-by-field check
//!   (permissions a subset, scopes within, limits at most, IP ranges,
//!   countries and origins narrower or equal, expiry no later); fields the
//!   request leaves out are inherited; the lineage grows by the parent and
//!   the limits it counts; the child's id carries its expiry, and it
//!   verifies once signed;
//! - whenever `broader_than` says a policy is within another, the
//!   independent check agrees;
//! - every refusal is typed (INVALID_JSON, INVALID_FIELD, KEY_TOO_BROAD).

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use sass_edge::core::attenuate::attenuate;
use sass_edge::core::body::{self, merge_patch, typed};
use sass_edge::core::gateway::TemplateState;
use sass_edge::core::id::TemplateId;
use sass_edge::core::issuance;
use sass_edge::core::key::{Claims, LEEWAY, Verified};
use sass_edge::core::lineage::{Ancestor, Counted};
use sass_edge::core::policy::Policy;
use sass_edge::core::refusal::Refusal;
use sass_edge::core::template::{Template, TemplateBody};
use sass_edge_fuzz::model::{Range, ScopeText};
use sass_edge_fuzz::{NOW, demo, generate, nonce, stat, verified};
use serde_json::{Map, Value, json};

/// The fields a template's stored JSON has, and those the server sets.
const POLICY_FIELDS: [&str; 5] = [
    "permissions",
    "upload",
    "restrictions",
    "listing",
    "allowed_origins",
];
const HEAD_FIELDS: [&str; 4] = [
    "description",
    "active",
    "key_validity",
    "issue_limit_per_min",
];
const SERVER_FIELDS: [&str; 6] = [
    "id",
    "created_at",
    "updated_at",
    "created_at_unix",
    "updated_at_unix",
    "generation",
];

#[derive(Arbitrary, Debug)]
struct Generated {
    template: generate::Template,
    patch: Option<generate::Template>,
    requests: Vec<generate::Policy>,
    /// Seconds after issue at which each request is made.
    at: u32,
    /// A policy checked against the template's with `broader_than` alone.
    other: generate::Policy,
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let mut docs = rest.split(|&b| b == 0);
        let Some(template) = docs.next().and_then(read) else {
            return;
        };
        let patch = docs.next().and_then(read);
        let requests: Vec<Value> = docs.take(4).filter_map(read).collect();
        check(template, patch, &requests, None, u32::from(mode));
    } else {
        let Ok(g) = Generated::arbitrary(&mut Unstructured::new(rest)) else {
            return;
        };
        let patch = g.patch.as_ref().map(|p| {
            // A patch may reset what it names with null.
            let mut v = p.value();
            if let Value::Object(m) = &mut v {
                m.remove("id");
            }
            v
        });
        let requests: Vec<Value> = g
            .requests
            .iter()
            .take(4)
            .map(|r| Value::Object(r.members()))
            .collect();
        let other = Value::Object(g.other.members());
        check(g.template.value(), patch, &requests, Some(other), g.at);
    }
});

/// A document as the API reads one (duplicate keys refused), or `None`.
fn read(bytes: &[u8]) -> Option<Value> {
    match body::parse(bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            assert_eq!(e.code(), "INVALID_JSON");
            None
        }
    }
}

fn typed_refusal(e: &Refusal, what: &str) {
    assert!(
        matches!(e.code(), "INVALID_JSON" | "INVALID_FIELD" | "KEY_TOO_BROAD"),
        "{what}: untyped refusal {e:?}"
    );
}

fn check(doc: Value, patch: Option<Value>, requests: &[Value], other: Option<Value>, at: u32) {
    merge_patch_is_rfc7386(&doc, patch.as_ref().unwrap_or(&Value::Null));
    let body = match TemplateBody::from_json(doc) {
        Ok(b) => b,
        Err(e) => {
            stat("template refused");
            return typed_refusal(&e, "template");
        }
    };
    stat("template parsed");
    let template = Template::create(TemplateId::new([3; 16]), body, NOW);
    round_trips(&template);
    if let Some(patch) = &patch {
        patches(&template, patch);
    }
    let policy = &template.body.spec.policy;
    if let Some(other) = other {
        match typed::<Policy>(other, "") {
            Ok(o) => {
                if o.broader_than(policy).is_none() {
                    within(&o, policy).unwrap_or_else(|why| {
                        panic!("broader_than passes a broader policy: {why}\n{o:?}\nvs {policy:?}")
                    });
                }
            }
            Err(e) => typed_refusal(&e, "policy"),
        }
    }
    // Attenuation, in a chain from a key issued from the template.
    let root = issuance::claims(
        &demo(),
        Some(&template),
        &template.body.spec,
        nonce(100),
        NOW,
    );
    let mut parent = verified(&root, NOW);
    let life = root.expires_at - root.issued_at + LEEWAY + 1;
    for (i, data) in requests.iter().enumerate() {
        let now = NOW + u64::from(at) % life;
        if now > parent.expires_at + LEEWAY {
            return;
        }
        let request = json!({ "data": data });
        let child = match attenuate(&parent, request, now, nonce(i as u8)) {
            Ok(c) => c,
            Err(e) => {
                stat(&format!("attenuation {i} refused {}", e.code()));
                return typed_refusal(&e, "attenuation");
            }
        };
        stat(&format!("attenuation {i} made"));
        narrower(&child, &parent, data);
        within(&child.policy, &root.policy).unwrap_or_else(|why| {
            panic!("a grandchild is broader than its ancestor: {why}");
        });
        assert!(child.expires_at <= root.expires_at);
        parent = verified(&child, now);
    }
}

/// Parsed, stored and read back, a template is the same.
fn round_trips(t: &Template) {
    let stored = t.to_json();
    let back = Template::from_stored(stored.clone())
        .unwrap_or_else(|e| panic!("a stored template does not read back: {e:?}\n{stored}"));
    assert_eq!(&back, t, "stored and read back: {stored}");
    assert_eq!(back.to_json(), stored, "not written the same again");
    let text = serde_json::to_vec(&stored).expect("JSON");
    let parsed = body::parse(&text).expect("the stored text parses");
    assert_eq!(&Template::from_stored(parsed).expect("reads"), t);
    let mut filled = stored.as_object().expect("an object").clone();
    for name in SERVER_FIELDS {
        assert!(filled.remove(name).is_some(), "{name} missing");
    }
    assert_eq!(
        TemplateBody::from_json(Value::Object(filled.clone()))
            .unwrap_or_else(|e| panic!("the filled form does not parse: {e:?}")),
        t.body
    );
    let mut names: Vec<&str> = filled.keys().map(String::as_str).collect();
    names.sort();
    let mut expected: Vec<&str> = POLICY_FIELDS.iter().chain(&HEAD_FIELDS).copied().collect();
    expected.sort();
    assert_eq!(names, expected, "the filled form's fields");
    // The compact form a key carries.
    let policy = &t.body.spec.policy;
    let compact = serde_json::to_value(policy).expect("JSON");
    assert_eq!(
        &typed::<Policy>(compact.clone(), "")
            .unwrap_or_else(|e| panic!("{compact} does not read back: {e:?}")),
        policy
    );
    // A key issued from it carries exactly its policy and validity.
    let claims = issuance::claims(&demo(), Some(t), &t.body.spec, nonce(9), NOW);
    let key = verified(&claims, NOW);
    assert_eq!(&key.policy, policy);
    assert_eq!(key.expires_at - key.issued_at, t.body.spec.expiration());
    assert_eq!(key.template.as_ref(), Some(&t.id));
    assert_eq!(key.generation, t.generation);
    assert_eq!(key.key_id.expires_at(), key.expires_at);
}

fn patches(t: &Template, patch: &Value) {
    let patched = match t.patch(patch, NOW + 5) {
        Ok(p) => p,
        Err(e) => {
            stat("patch refused");
            return typed_refusal(&e, "patch");
        }
    };
    stat("patch applied");
    assert_eq!((&patched.id, patched.created_at), (&t.id, t.created_at));
    assert_eq!(patched.updated_at, NOW + 5);
    // The generation moves by one exactly when the patch narrows: then the
    // keys issued before are refused (TEMPLATE_CHANGED).
    let (old, new) = (&t.body.spec, &patched.body.spec);
    let key = verified(
        &issuance::claims(&demo(), Some(t), old, nonce(10), NOW),
        NOW,
    );
    match TemplateState::of(&key, Some(&patched)) {
        TemplateState::Active => {
            within(&key.policy, &new.policy).unwrap_or_else(|why| {
                panic!("a key still accepted is broader than its template as patched: {why}\npatch: {patch}")
            });
            assert!(
                key.expires_at - key.issued_at <= new.expiration(),
                "a key still accepted outlives its template's validity: {patch}"
            );
            assert_eq!(patched.generation, t.generation);
        }
        TemplateState::Changed => assert_eq!(patched.generation, t.generation + 1),
        TemplateState::Inactive => assert!(!patched.body.active),
        TemplateState::None => panic!("a key from a template is not from one"),
    }
    let (before, after) = (t.to_json(), patched.to_json());
    let named = patch
        .as_object()
        .expect("a patch that applied is an object");
    for name in POLICY_FIELDS.iter().chain(&HEAD_FIELDS) {
        if !named.contains_key(*name) {
            assert_eq!(before[name], after[name], "{name} changed by {patch}");
        }
    }
    let twice = patched
        .patch(patch, NOW + 6)
        .unwrap_or_else(|e| panic!("a patch that applied once is refused again: {e:?}"));
    assert_eq!(
        twice.body, patched.body,
        "patching twice changed more: {patch}"
    );
    let none = t
        .patch(&json!({}), NOW + 7)
        .expect("an empty patch applies");
    assert_eq!(none.body, t.body);
}

/// RFC 7386, section 2, as pseudo-code there.
fn reference_merge(target: &Value, patch: &Value) -> Value {
    let Value::Object(patch) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => Map::new(),
    };
    for (k, v) in patch {
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = reference_merge(out.get(k).unwrap_or(&Value::Null), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

fn merge_patch_is_rfc7386(target: &Value, patch: &Value) {
    let mut once = target.clone();
    merge_patch(&mut once, patch);
    assert_eq!(
        once,
        reference_merge(target, patch),
        "merge_patch({target}, {patch})"
    );
    let mut twice = once.clone();
    merge_patch(&mut twice, patch);
    assert_eq!(twice, once, "merge patch is not idempotent: {patch}");
}

/// The child is within its parent, inherits what the request leaves out,
/// and descends from it.
fn narrower(child: &Claims, parent: &Verified, data: &Value) {
    if let Some((field, why)) = child.policy.broader_than(&parent.policy) {
        panic!("an attenuated key is broader in {field}: {why}");
    }
    within(&child.policy, &parent.policy)
        .unwrap_or_else(|why| panic!("an attenuated key is broader: {why}\ndata: {data}"));
    assert!(
        child.expires_at <= parent.expires_at,
        "an attenuated key outlives its parent: {data}"
    );
    assert_eq!(child.project, parent.project);
    assert_eq!(child.template, parent.template);
    let mut lineage = parent.lineage.clone();
    lineage.push(Ancestor {
        key_id: parent.key_id.clone(),
        limits: Counted::of(&parent.policy),
    });
    assert_eq!(child.lineage, lineage);
    assert_eq!(child.generation, parent.generation);
    assert_eq!(
        child.key_id.expires_at(),
        child.expires_at,
        "the child's id does not carry its expiry"
    );
    // `{"data": null}` asks for nothing, as `{}` does.
    let none = Map::new();
    let given = data.as_object().unwrap_or(&none);
    let (c, p) = (&child.policy, &parent.policy);
    if !given.contains_key("permissions") {
        assert_eq!(c.permissions, p.permissions, "not inherited: {data}");
    }
    if !given.contains_key("upload") {
        assert_eq!(c.upload, p.upload, "not inherited: {data}");
    }
    if !given.contains_key("restrictions") {
        assert_eq!(c.restrictions, p.restrictions, "not inherited: {data}");
    }
    if !given.contains_key("listing") {
        assert_eq!(c.listing, p.listing, "not inherited: {data}");
    }
    if !given.contains_key("allowed_origins") {
        assert_eq!(
            c.allowed_origins, p.allowed_origins,
            "not inherited: {data}"
        );
    }
    if !given.contains_key("key_validity") {
        assert_eq!(child.expires_at, parent.expires_at, "not inherited: {data}");
    }
}

/// Whether `c` allows nothing that `p` does not, field by field, from the
/// values themselves (strings and numbers), not through the core's checks.
fn within(c: &Policy, p: &Policy) -> Result<(), String> {
    let (cn, pn) = (c.permissions.set().names(), p.permissions.set().names());
    if let Some(extra) = cn.iter().find(|n| !pn.contains(n)) {
        return Err(format!("permission {extra}"));
    }
    scopes_within(
        "upload.dir_scope",
        &c.upload.dir_scope.to_texts(),
        &p.upload.dir_scope.to_texts(),
    )?;
    scopes_within(
        "listing.dir_scope",
        &c.listing.dir_scope.to_texts(),
        &p.listing.dir_scope.to_texts(),
    )?;
    limit(
        "upload.limit_per_min",
        c.upload.limit_per_min.map(|b| b.get()),
        p.upload.limit_per_min.map(|b| b.get()),
    )?;
    limit(
        "upload.limit_per_source_ip",
        c.upload.limit_per_source_ip.map(|b| b.get()),
        p.upload.limit_per_source_ip.map(|b| b.get()),
    )?;
    limit(
        "upload.max",
        c.upload.max.map(|b| b.get()),
        p.upload.max.map(|b| b.get()),
    )?;
    limit(
        "upload.max_file_size",
        Some(c.upload.max_file_size.get()),
        Some(p.upload.max_file_size.get()),
    )?;
    limit(
        "listing.max",
        c.listing.max.map(|b| b.get()),
        p.listing.max.map(|b| b.get()),
    )?;
    let (cr, pr) = (&c.restrictions, &p.restrictions);
    if let Some(parent) = &pr.whitelist_ip_ranges {
        let parent: Vec<Range> = parent
            .entries()
            .iter()
            .map(|r| Range::read(&r.to_string()).expect("a range the core wrote"))
            .collect();
        let child: Vec<String> = cr
            .whitelist_ip_ranges
            .as_ref()
            .ok_or("whitelist_ip_ranges left open")?
            .entries()
            .iter()
            .map(|r| r.to_string())
            .collect();
        for t in &child {
            let r = Range::read(t).expect("a range the core wrote");
            if !parent.iter().any(|p| p.contains(&r)) {
                return Err(format!("IP range {t}"));
            }
        }
    }
    subset(
        "whitelist_countries",
        cr.whitelist_countries
            .as_ref()
            .map(|l| l.entries().iter().map(|x| x.to_string()).collect()),
        pr.whitelist_countries
            .as_ref()
            .map(|l| l.entries().iter().map(|x| x.to_string()).collect()),
    )?;
    subset(
        "allowed_origins",
        c.allowed_origins
            .as_ref()
            .map(|l| l.entries().iter().map(|x| x.to_string()).collect()),
        p.allowed_origins
            .as_ref()
            .map(|l| l.entries().iter().map(|x| x.to_string()).collect()),
    )
}

fn scopes_within(field: &str, child: &[String], parent: &[String]) -> Result<(), String> {
    for c in child {
        let cs = ScopeText::read(c);
        if !parent.iter().any(|p| cs.within(&ScopeText::read(p))) {
            return Err(format!("{field} {c} outside {parent:?}"));
        }
    }
    Ok(())
}

/// `None` is unlimited.
fn limit(field: &str, child: Option<u64>, parent: Option<u64>) -> Result<(), String> {
    match (child, parent) {
        (_, None) => Ok(()),
        (Some(c), Some(p)) if c <= p => Ok(()),
        (c, p) => Err(format!("{field}: {c:?} above {p:?}")),
    }
}

/// `None` is anywhere; entries compared case-insensitively.
fn subset(
    field: &str,
    child: Option<Vec<String>>,
    parent: Option<Vec<String>>,
) -> Result<(), String> {
    let Some(parent) = parent else {
        return Ok(());
    };
    let child = child.ok_or_else(|| format!("{field} left open"))?;
    for c in &child {
        if !parent.iter().any(|p| p.eq_ignore_ascii_case(c)) {
            return Err(format!("{field}: {c} not in {parent:?}"));
        }
    }
    Ok(())
}
