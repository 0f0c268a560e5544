//! What the worker and the limiter Durable Objects say to each other: which
//! object counts (`LimiterName`), which counters in it (`Counter`), and the
//! messages (`Take`, `Taken`, `GiveBack`, `Peek`), read and written by serde.

use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::counter::{CounterState, Exceeded, Limit};
use crate::id::{KeyId, Project, TemplateId};
use crate::refusal::Refusal;

/// The Durable Object that holds some counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimiterName {
    /// The counters of one issued key.
    Key(KeyId),
    /// `GET /key` calls of one template from one client (IPv4, or IPv6 /64).
    Issue {
        project: Project,
        template: TemplateId,
        client: String,
    },
}

impl fmt::Display for LimiterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimiterName::Key(id) => write!(f, "key/{id}"),
            LimiterName::Issue {
                project,
                template,
                client,
            } => write!(f, "issue/{project}/{template}/{client}"),
        }
    }
}

/// One counter in a limiter object. Stored by its name, e.g. `upload.max`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Counter {
    /// `upload.limit_per_min`.
    UploadPerMinute,
    /// `upload.max`.
    UploadMax,
    /// `upload.limit_per_source_ip`, for one client (IPv4, or IPv6 /64).
    UploadPerSourceIp(String),
    /// `listing.max`.
    ListingMax,
    /// `issue_limit_per_min` of `GET /key`.
    Issue,
    /// Keys minted from one key by one client (IPv4, or IPv6 /64).
    Mint(String),
    /// A counter of a descendant key, in its lineage root's limiter.
    Of(KeyId, Box<Counter>),
}

impl Counter {
    /// The template field the counter enforces, as named to clients.
    pub fn field(&self) -> &'static str {
        match self {
            Counter::UploadPerMinute => "upload.limit_per_min",
            Counter::UploadMax => "upload.max",
            Counter::UploadPerSourceIp(_) => "upload.limit_per_source_ip",
            Counter::ListingMax => "listing.max",
            Counter::Issue => "issue_limit_per_min",
            Counter::Mint(_) => "mint_limit_per_min",
            Counter::Of(_, counter) => counter.field(),
        }
    }
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Counter::UploadPerSourceIp(client) => write!(f, "{} {client}", self.field()),
            Counter::Issue => f.write_str("issue"),
            Counter::Mint(client) => write!(f, "mint {client}"),
            Counter::Of(key, counter) => write!(f, "{key}/{counter}"),
            other => f.write_str(other.field()),
        }
    }
}

impl TryFrom<String> for Counter {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if let Some((key, rest)) = s.split_once('/')
            && let Some(key) = KeyId::parse(key)
        {
            return Ok(Counter::Of(
                key,
                Box::new(Counter::try_from(rest.to_string())?),
            ));
        }
        Ok(match s.split_once(' ') {
            Some(("upload.limit_per_source_ip", client)) if !client.is_empty() => {
                Counter::UploadPerSourceIp(client.to_string())
            }
            Some(("mint", client)) if !client.is_empty() => Counter::Mint(client.to_string()),
            _ => match s.as_str() {
                "upload.limit_per_min" => Counter::UploadPerMinute,
                "upload.max" => Counter::UploadMax,
                "listing.max" => Counter::ListingMax,
                "issue" => Counter::Issue,
                _ => return Err(format!("unknown counter {s:?}")),
            },
        })
    }
}

impl From<Counter> for String {
    fn from(c: Counter) -> String {
        c.to_string()
    }
}

/// `hits` hits from each counter (one per file of an upload), all or none.
/// Lifetime totals are kept until `keep_until` (ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Take {
    pub counters: Vec<(Counter, Limit)>,
    pub keep_until: u64,
    #[serde(default = "one")]
    pub hits: NonZeroU32,
}

fn one() -> NonZeroU32 {
    NonZeroU32::MIN
}

/// The limiter's answer to a `Take`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Taken {
    /// Every counter admitted the hit, stamped `at` (ms).
    Admitted { at: u64 },
    /// `counter` refused; nothing was counted.
    Refused {
        counter: Counter,
        exceeded: Exceeded,
    },
}

impl Taken {
    /// The stamp of an admitted take, or the refusal the client gets.
    pub fn admitted(self) -> Result<u64, Refusal> {
        match self {
            Taken::Admitted { at } => Ok(at),
            Taken::Refused {
                exceeded: Exceeded::Rate { retry_after },
                ..
            } => Err(Refusal::Throttle { retry_after }),
            Taken::Refused {
                counter,
                exceeded: Exceeded::Quota,
            } => Err(Refusal::ExhaustQuota {
                counter: counter.field().to_string(),
            }),
        }
    }
}

/// Gives back the hits of an admitted `Take` whose request then failed (the
/// store refused the upload): each counter forgets the hit stamped `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiveBack {
    pub counters: Vec<(Counter, Limit)>,
    pub at: u64,
    /// As in the `Take`: lifetime totals are kept until then.
    pub keep_until: u64,
    #[serde(default = "one")]
    pub hits: NonZeroU32,
}

impl GiveBack {
    /// What gives back the hits of `take`, admitted at `at`.
    pub fn of(take: &Take, at: u64) -> GiveBack {
        GiveBack {
            counters: take.counters.clone(),
            at,
            keep_until: take.keep_until,
            hits: take.hits,
        }
    }
}

/// Asks a limiter for the state of some counters, changing nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peek {
    pub counters: Vec<Counter>,
}

/// The limiter's answer to a `Peek`: the states, in the order asked.
pub type Peeked = Vec<CounterState>;

/// Every call a limiter object answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    Take(Take),
    GiveBack(GiveBack),
    Peek(Peek),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_names_read_back() {
        let key = KeyId::new([0xab; 16]);
        for c in [
            Counter::UploadMax,
            Counter::UploadPerSourceIp("2001:db8::/64".into()),
            Counter::Mint("192.0.2.1".into()),
            Counter::Of(
                key.clone(),
                Box::new(Counter::UploadPerSourceIp("2001:db8::/64".into())),
            ),
            Counter::Of(key.clone(), Box::new(Counter::Mint("x".into()))),
        ] {
            assert_eq!(Counter::try_from(c.to_string()), Ok(c.clone()), "{c}");
        }
        assert!(Counter::try_from(format!("{key}/nothing")).is_err());
        assert!(Counter::try_from("mint ".to_string()).is_err());
    }

    #[test]
    fn names() {
        let id = KeyId::new([1; 16]);
        assert_eq!(
            LimiterName::Key(id.clone()).to_string(),
            format!("key/{id}")
        );
        let issue = LimiterName::Issue {
            project: Project::parse("demo").unwrap(),
            template: TemplateId::new([2; 16]),
            client: "192.0.2.1".into(),
        };
        assert_eq!(
            issue.to_string(),
            "issue/demo/SECU_02020202020202020202020202020202/192.0.2.1"
        );
        for c in [
            Counter::UploadPerMinute,
            Counter::UploadMax,
            Counter::UploadPerSourceIp("2001:db8::/64".into()),
            Counter::ListingMax,
            Counter::Issue,
        ] {
            assert_eq!(Counter::try_from(c.to_string()), Ok(c));
        }
        assert_eq!(
            Counter::UploadPerSourceIp("1.2.3.4".into()).to_string(),
            "upload.limit_per_source_ip 1.2.3.4"
        );
        assert!(Counter::try_from("nope".to_string()).is_err());
        assert!(Counter::try_from("upload.limit_per_source_ip ".to_string()).is_err());
    }

    #[test]
    fn messages_round_trip() {
        let take = Call::Take(Take {
            counters: vec![(
                Counter::Issue,
                Limit::Window {
                    limit: NonZeroU32::new(5).unwrap(),
                    window_ms: 60_000,
                },
            )],
            keep_until: 9,
            hits: NonZeroU32::MIN,
        });
        let text = serde_json::to_string(&take).unwrap();
        assert_eq!(
            text,
            r#"{"take":{"counters":[["issue",{"window":{"limit":5,"window_ms":60000}}]],"keep_until":9,"hits":1}}"#
        );
        assert_eq!(serde_json::from_str::<Call>(&text).unwrap(), take);
        for taken in [
            Taken::Admitted { at: 7 },
            Taken::Refused {
                counter: Counter::Issue,
                exceeded: Exceeded::Rate { retry_after: 3 },
            },
            Taken::Refused {
                counter: Counter::UploadMax,
                exceeded: Exceeded::Quota,
            },
        ] {
            let text = serde_json::to_string(&taken).unwrap();
            assert_eq!(serde_json::from_str::<Taken>(&text).unwrap(), taken);
        }
        assert!(
            serde_json::from_str::<Call>(r#"{"take":{"counters":[["a"]],"keep_until":1}}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<Call>(r#"{"take":{"counters":[["issue",{"window":{"limit":0,"window_ms":1}}]],"keep_until":1}}"#).is_err(), "a limit of 0 does not exist");
    }

    #[test]
    fn refusals() {
        let quota = Taken::Refused {
            counter: Counter::UploadPerSourceIp("1.2.3.4".into()),
            exceeded: Exceeded::Quota,
        };
        let e = quota.admitted().unwrap_err();
        assert_eq!(e.code(), "QUOTA_EXCEEDED");
        assert_eq!(
            e.message(),
            "the key's upload.limit_per_source_ip quota is used up"
        );
        let rate = Taken::Refused {
            counter: Counter::UploadPerMinute,
            exceeded: Exceeded::Rate { retry_after: 4 },
        };
        assert_eq!(rate.admitted().unwrap_err().retry_after(), Some(4));
        assert_eq!(Taken::Admitted { at: 5 }.admitted(), Ok(5));
    }
}
