//! Issuing keys: from a template (`GET /{project}/key/{template}`), the
//! checks and the issue counter; and the claims of a new key.

use crate::counter::Limit;
use crate::id::{KeyId, Project};
use crate::key::Claims;
use crate::limiter::{Counter, LimiterName, Take};
use crate::refusal::Refusal;
use crate::restriction::{Client, counting_name};
use crate::template::{KeySpec, Template};

const MINUTE_MS: u64 = 60_000;

/// May `client` get a key from `template` now? The template must be active
/// and the page's origin allowed; the answer is the issue counter to take.
pub fn plan(
    project: &Project,
    template: &Template,
    client: &Client,
    now_ms: u64,
) -> Result<(LimiterName, Take), Refusal> {
    if !template.body.active {
        return Err(Refusal::DenyInactiveTemplate);
    }
    template.body.spec.policy.check_origin(client)?;
    let limiter = LimiterName::Issue {
        project: project.clone(),
        template: template.id.clone(),
        client: counting_name(client.ip),
    };
    let take = Take {
        counters: vec![(
            Counter::Issue,
            Limit::Window {
                limit: template.body.issue_limit_per_min.count(),
                window_ms: MINUTE_MS,
            },
        )],
        keep_until: now_ms + MINUTE_MS,
        hits: std::num::NonZeroU32::MIN,
    };
    Ok((limiter, take))
}

/// When a widget should ask for a new key, in ms after receiving one: the
/// `key_validity.expire_duration` of the answer, which the Filerobot widget
/// waits for (in milliseconds) before it asks again. Before expiry by a
/// tenth of the validity, and by at most 30 s: 1170000 for the default 20
/// minutes, as the widget's own default.
pub fn refresh_after_ms(validity_secs: u64) -> u64 {
    let ms = validity_secs * 1000;
    ms - (ms / 10).min(30_000)
}

/// The claims of a new key: `spec` from `now` (Unix seconds).
pub fn claims(
    project: &Project,
    template: Option<&Template>,
    spec: &KeySpec,
    random: [u8; 12],
    now: u64,
) -> Claims {
    let expires_at = now + spec.expiration();
    Claims {
        project: project.clone(),
        template: template.map(|t| t.id.clone()),
        key_id: KeyId::issued(expires_at, random),
        generation: template.map_or(0, |t| t.generation),
        issued_at: now,
        expires_at,
        lineage: Vec::new(),
        policy: spec.policy.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::TemplateId;
    use crate::template::TemplateBody;
    use serde_json::json;

    fn template(body: serde_json::Value) -> Template {
        Template::create(
            TemplateId::new([1; 16]),
            TemplateBody::from_json(body).unwrap(),
            1,
        )
    }

    #[test]
    fn plans_the_issue_counter() {
        let p = Project::parse("demo").unwrap();
        let t = template(json!({"issue_limit_per_min": 7}));
        let client = Client {
            ip: "192.0.2.1".parse().ok(),
            ..Client::default()
        };
        let (name, take) = plan(&p, &t, &client, 1_000).unwrap();
        assert_eq!(name.to_string(), format!("issue/demo/{}/192.0.2.1", t.id));
        assert_eq!(take.keep_until, 61_000);
        assert_eq!(take.counters[0].1.value(), 7);
        let off = template(json!({"active": false}));
        assert_eq!(
            plan(&p, &off, &client, 0).unwrap_err().code(),
            "TEMPLATE_INACTIVE"
        );
        let bound = template(json!({"allowed_origins": ["https://a.example"]}));
        let page = |o: &str| Client {
            origin: Some(o.into()),
            ..Client::default()
        };
        assert!(plan(&p, &bound, &page("https://a.example"), 0).is_ok());
        assert_eq!(
            plan(&p, &bound, &page("https://b.example"), 0)
                .unwrap_err()
                .code(),
            "ORIGIN_NOT_ALLOWED"
        );
        assert!(
            plan(&p, &bound, &Client::default(), 0).is_ok(),
            "servers send no Origin"
        );
    }

    #[test]
    fn widgets_refresh_before_expiry() {
        assert_eq!(refresh_after_ms(1200), 1_170_000);
        assert_eq!(refresh_after_ms(10), 9_000);
        assert_eq!(refresh_after_ms(1), 900);
        assert_eq!(refresh_after_ms(604_800), 604_770_000);
        for v in 1..2000 {
            let r = refresh_after_ms(v);
            assert!(r < v * 1000 && r >= v * 900, "{v}");
        }
    }

    #[test]
    fn claims_of_a_new_key() {
        let p = Project::parse("demo").unwrap();
        let t = template(
            json!({"key_validity": {"expiration_duration": 60}, "permissions": ["FILE_UPLOAD"]}),
        );
        let c = claims(&p, Some(&t), &t.body.spec, [2; 12], 100);
        assert_eq!(
            c.key_id.expires_at(),
            c.expires_at,
            "the id carries the expiry"
        );
        assert_eq!((c.issued_at, c.expires_at), (100, 160));
        assert_eq!(c.template, Some(t.id.clone()));
        assert_eq!(c.policy, t.body.spec.policy);
        assert!(c.lineage.is_empty());
    }
}
