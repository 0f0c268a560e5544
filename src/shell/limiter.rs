//! Exact counters in Durable Objects: the `Limiter` class and its client.
//!
//! One object per counted thing (a template and source IP, later a key). The
//! object keeps each counter's state in its SQLite storage, one row per
//! counter, and runs the pure math of `core::counter` between reading and
//! writing with no `await` in between, so concurrent requests are serialised.
//! An alarm deletes rows once they no longer matter.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{
    Date, DurableObject, Env, Method, Request, RequestInit, Response, Result, SqlStorage, State,
    console_error, durable_object,
};

use crate::core::counter::{
    CounterState, Exceeded, GiveBack, Peek, Take, Taken, forget_at, take_all,
};
use crate::core::refusal::Refusal;

pub const BINDING: &str = "LIMITER";

fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("limiter {context} failed: {e}");
    Refusal::LimiterDown
}

/// The refusal a client gets when `counter` refused.
pub fn refusal(counter: &str, exceeded: Exceeded) -> Refusal {
    match exceeded {
        Exceeded::Rate { retry_after } => Refusal::Throttle { retry_after },
        Exceeded::Quota => Refusal::ExhaustQuota {
            // "upload.limit_per_source_ip 192.0.2.1" names the field only.
            counter: counter.split(' ').next().unwrap_or(counter).to_string(),
        },
    }
}

async fn call<T: serde::de::DeserializeOwned>(
    env: &Env,
    name: &str,
    op: &str,
    body: &impl serde::Serialize,
) -> std::result::Result<T, Refusal> {
    let body = serde_json::to_string(body).map_err(|e| down("encode", e))?;
    let stub = env
        .durable_object(BINDING)
        .and_then(|ns| ns.get_by_name(name))
        .map_err(|e| down("stub", e))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init(&format!("https://limiter/{op}"), &init)
        .map_err(|e| down("request", e))?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| down("fetch", e))?;
    if resp.status_code() != 200 {
        return Err(down("status", resp.status_code()));
    }
    resp.json::<T>().await.map_err(|e| down("decode", e))
}

/// Asks the limiter object `name` to take one hit from every counter of
/// `take`, all or none, and returns the hit's time stamp. Any failure to reach
/// it is `LimiterDown`: fail closed. A refusal comes back as the client's.
pub async fn take(env: &Env, name: &str, take: &Take) -> std::result::Result<u64, Refusal> {
    match call::<Taken>(env, name, "take", take).await? {
        Taken::Admitted { at } => Ok(at),
        Taken::Refused { counter, exceeded } => Err(refusal(&counter, exceeded)),
    }
}

/// The state of some counters of limiter object `name`, changing nothing.
pub async fn peek(
    env: &Env,
    name: &str,
    counters: Vec<String>,
) -> std::result::Result<Vec<CounterState>, Refusal> {
    call(env, name, "peek", &Peek { counters }).await
}

/// Gives back hits taken for a request that then failed. A failure is only
/// logged: the hits then stay counted, which errs on the side of the limit.
pub async fn give_back(env: &Env, name: &str, give_back: &GiveBack) {
    if let Err(e) = call::<bool>(env, name, "give-back", give_back).await {
        console_error!("could not give back counts to {name}: {}", e.message());
    }
}

#[durable_object]
pub struct Limiter {
    state: State,
}

#[derive(Deserialize)]
struct Row {
    state: String,
}

#[derive(Deserialize)]
struct Next {
    at: Option<f64>,
}

impl Limiter {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        sql.exec(
            "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, state TEXT NOT NULL, forget_at INTEGER NOT NULL)",
            None,
        )?;
        Ok(sql)
    }

    fn load(sql: &SqlStorage, name: &str) -> Result<CounterState> {
        let rows: Vec<Row> = sql
            .exec(
                "SELECT state FROM counters WHERE name = ?",
                vec![name.into()],
            )?
            .to_array()?;
        Ok(match rows.first() {
            Some(row) => serde_json::from_str(&row.state)?,
            None => CounterState::default(),
        })
    }

    fn store(sql: &SqlStorage, name: &str, state: &CounterState, forget_at: u64) -> Result<()> {
        sql.exec(
            "INSERT INTO counters (name, state, forget_at) VALUES (?, ?, ?) \
             ON CONFLICT(name) DO UPDATE SET state = excluded.state, forget_at = excluded.forget_at",
            vec![
                name.into(),
                serde_json::to_string(state)?.into(),
                (forget_at as i64).into(),
            ],
        )?;
        Ok(())
    }

    /// Schedules the alarm for the row that can be forgotten first.
    async fn schedule(&self, sql: &SqlStorage) -> Result<()> {
        let next: Vec<Next> = sql
            .exec("SELECT MIN(forget_at) AS at FROM counters", None)?
            .to_array()?;
        let storage = self.state.storage();
        match next.first().and_then(|n| n.at) {
            Some(at) => {
                let when = Date::from(worker::js_sys::Date::new(&JsValue::from_f64(at)));
                if storage
                    .get_alarm()
                    .await?
                    .is_none_or(|current| current as f64 > at)
                {
                    storage
                        .set_alarm(worker::ScheduledTime::new(when.into()))
                        .await?;
                }
            }
            None => storage.delete_alarm().await?,
        }
        Ok(())
    }
}

impl Limiter {
    /// Takes one hit from every counter, all or none. From the first read to
    /// the last write there is no await: the decision and its bookkeeping are
    /// atomic with respect to every other request.
    async fn take(&self, take: Take) -> Result<Taken> {
        let sql = self.sql()?;
        let now = Date::now().as_millis();
        let mut counters = Vec::with_capacity(take.counters.len());
        for (name, limit) in &take.counters {
            counters.push((*limit, Self::load(&sql, name)?));
        }
        match take_all(&counters, now) {
            Ok(next) => {
                for ((name, limit), state) in take.counters.iter().zip(&next) {
                    Self::store(&sql, name, state, forget_at(limit, state, take.keep_until))?;
                }
                self.schedule(&sql).await?;
                Ok(Taken::Admitted { at: now })
            }
            Err((i, exceeded)) => Ok(Taken::Refused {
                counter: take.counters[i].0.clone(),
                exceeded,
            }),
        }
    }

    fn give_back(&self, give_back: GiveBack) -> Result<bool> {
        let sql = self.sql()?;
        for (name, limit) in &give_back.counters {
            let state = limit.give_back(&Self::load(&sql, name)?, give_back.at);
            Self::store(
                &sql,
                name,
                &state,
                forget_at(limit, &state, give_back.keep_until),
            )?;
        }
        Ok(true)
    }

    fn peek(&self, peek: Peek) -> Result<Vec<CounterState>> {
        let sql = self.sql()?;
        peek.counters
            .iter()
            .map(|name| Self::load(&sql, name))
            .collect()
    }
}

impl DurableObject for Limiter {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        match req.path().as_str() {
            "/take" => Response::from_json(&self.take(req.json().await?).await?),
            "/give-back" => Response::from_json(&self.give_back(req.json().await?)?),
            "/peek" => Response::from_json(&self.peek(req.json().await?)?),
            _ => Response::error("unknown limiter call", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        let sql = self.sql()?;
        let now = Date::now().as_millis() as i64;
        sql.exec(
            "DELETE FROM counters WHERE forget_at <= ?",
            vec![now.into()],
        )?;
        self.schedule(&sql).await?;
        Response::ok("")
    }
}
