//! Exact counters in Durable Objects: the `Limiter` class and its client.
//!
//! One object per counted thing (a template and source IP, later a key). The
//! object keeps each counter's state in its SQLite storage, one row per
//! counter, and runs the pure math of `core::counter` between reading and
//! writing with no `await` in between, so concurrent requests are serialised.
//! An alarm deletes rows once they no longer matter.
//!
//! A take costs one read and one write per counter. The object creates its
//! table once, and remembers the alarm it scheduled, so that the storage's
//! alarm is read once per object and set only when a row must go sooner.

use std::cell::Cell;

use wasm_bindgen::prelude::*;
use worker::js_sys::Promise;
use worker::{
    Date, DurableObject, Env, Request, Response, ResponseBuilder, Result, SqlStorage,
    SqlStorageValue, State, console_error, durable_object, web_sys,
};

use crate::core::counter::{
    CounterState, Exceeded, GiveBack, Peek, Take, Taken, forget_at, take_all,
};
use crate::core::json::{self, Value};
use crate::core::refusal::Refusal;
use crate::shell::{http, js};

pub const BINDING: &str = "LIMITER";

fn down(context: &str, e: impl std::fmt::Debug) -> Refusal {
    console_error!("limiter {context} failed: {e:?}");
    Refusal::LimiterDown
}

#[wasm_bindgen]
extern "C" {
    type Namespace;
    #[wasm_bindgen(method, catch, js_name = getByName)]
    fn get_by_name(this: &Namespace, name: &str) -> std::result::Result<Stub, JsValue>;

    type Stub;
    #[wasm_bindgen(method, catch)]
    fn fetch(this: &Stub, url: &str, init: &JsValue) -> std::result::Result<Promise, JsValue>;
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

/// Sends `body` to `/{op}` of the limiter object `name`, and reads its
/// answer with `read`.
async fn call<T>(
    env: &Env,
    name: &str,
    op: &str,
    body: Value,
    read: fn(&Value) -> Option<T>,
) -> std::result::Result<T, Refusal> {
    let namespace = js::prop(env, BINDING);
    if namespace.is_undefined() {
        return Err(down("binding", BINDING));
    }
    let stub = namespace
        .unchecked_into::<Namespace>()
        .get_by_name(name)
        .map_err(|e| down("stub", e))?;
    let init = js::object(&[
        ("method", JsValue::from_str("POST")),
        ("body", JsValue::from_str(&body.text())),
    ]);
    let url = format!("https://limiter/{op}");
    let answer: web_sys::Response = js::settle(stub.fetch(&url, &init))
        .await
        .map_err(|e| down("fetch", e))?
        .unchecked_into();
    if answer.status() != 200 {
        return Err(down("status", answer.status()));
    }
    let text = js::settle(answer.text())
        .await
        .map_err(|e| down("read", e))?
        .as_string()
        .unwrap_or_default();
    json::parse_str(&text)
        .ok()
        .as_ref()
        .and_then(read)
        .ok_or_else(|| down("decode", text))
}

/// Asks the limiter object `name` to take one hit from every counter of
/// `take`, all or none, and returns the hit's time stamp. Any failure to reach
/// it is `LimiterDown`: fail closed. A refusal comes back as the client's.
pub async fn take(env: &Env, name: &str, take: &Take) -> std::result::Result<u64, Refusal> {
    match call(env, name, "take", take.to_json(), Taken::from_json).await? {
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
    let read = |v: &Value| {
        v.as_array()?
            .iter()
            .map(CounterState::from_json)
            .collect::<Option<Vec<_>>>()
    };
    call(env, name, "peek", Peek { counters }.to_json(), read).await
}

/// Gives back hits taken for a request that then failed. A failure is only
/// logged: the hits then stay counted, which errs on the side of the limit.
pub async fn give_back(env: &Env, name: &str, give_back: &GiveBack) {
    if let Err(e) = call(env, name, "give-back", give_back.to_json(), Value::as_bool).await {
        console_error!("could not give back counts to {name}: {}", e.message());
    }
}

#[durable_object]
pub struct Limiter {
    state: State,
    /// The table exists (created by this instance of the object).
    ready: Cell<bool>,
    /// When the storage's alarm is known to be set for, if it is known to be
    /// set: it is read once, then kept up to date here.
    alarm: Cell<Option<u64>>,
}

impl Limiter {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.ready.get() {
            sql.exec(
                "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, state BLOB NOT NULL, forget_at INTEGER NOT NULL)",
                None,
            )?;
            self.ready.set(true);
        }
        Ok(sql)
    }

    /// The first column of the first row of `query`, if there is one.
    fn first(
        sql: &SqlStorage,
        query: &str,
        args: Vec<SqlStorageValue>,
    ) -> Result<Option<SqlStorageValue>> {
        match sql.exec(query, args)?.raw().next() {
            Some(row) => Ok(row?.into_iter().next()),
            None => Ok(None),
        }
    }

    fn load(sql: &SqlStorage, name: &str) -> Result<CounterState> {
        let found = Self::first(
            sql,
            "SELECT state FROM counters WHERE name = ?",
            vec![name.into()],
        )?;
        match found {
            None => Ok(CounterState::default()),
            Some(SqlStorageValue::Blob(bytes)) => CounterState::decode(&bytes)
                .ok_or_else(|| worker::Error::from(format!("corrupt counter state of {name}"))),
            Some(_) => Err(worker::Error::from(format!(
                "corrupt counter row of {name}"
            ))),
        }
    }

    fn store(sql: &SqlStorage, name: &str, state: &CounterState, forget_at: u64) -> Result<()> {
        sql.exec(
            "INSERT INTO counters (name, state, forget_at) VALUES (?, ?, ?) \
             ON CONFLICT(name) DO UPDATE SET state = excluded.state, forget_at = excluded.forget_at",
            vec![
                name.into(),
                state.encode().into(),
                (forget_at as i64).into(),
            ],
        )?;
        Ok(())
    }

    /// Makes sure an alarm goes off by `at` (ms), when a row written now may
    /// be forgotten. An alarm already set no later is left alone.
    async fn alarm_by(&self, at: u64) -> Result<()> {
        if self.alarm.get().is_some_and(|set| set <= at) {
            return Ok(());
        }
        let storage = self.state.storage();
        let current = storage.get_alarm().await?.map(|c| c.max(0) as u64);
        match current {
            Some(set) if set <= at => self.alarm.set(Some(set)),
            _ => {
                storage.set_alarm(scheduled(at)).await?;
                self.alarm.set(Some(at));
            }
        }
        Ok(())
    }
}

fn scheduled(at_ms: u64) -> worker::ScheduledTime {
    let date = worker::js_sys::Date::new(&JsValue::from_f64(at_ms as f64));
    worker::ScheduledTime::new(Date::from(date).into())
}

impl Limiter {
    /// Takes one hit from every counter, all or none. From the first read to
    /// the last write there is no await: the decision and its bookkeeping are
    /// atomic with respect to every other request.
    async fn take(&self, take: Take) -> Result<Value> {
        let sql = self.sql()?;
        let now = http::now_ms();
        let mut counters = Vec::with_capacity(take.counters.len());
        for (name, limit) in &take.counters {
            counters.push((*limit, Self::load(&sql, name)?));
        }
        match take_all(&counters, now) {
            Ok(next) => {
                let mut earliest = u64::MAX;
                for ((name, limit), state) in take.counters.iter().zip(&next) {
                    let forget = forget_at(limit, state, take.keep_until);
                    Self::store(&sql, name, state, forget)?;
                    earliest = earliest.min(forget);
                }
                self.alarm_by(earliest).await?;
                Ok(Taken::Admitted { at: now }.to_json())
            }
            Err((i, exceeded)) => Ok(Taken::Refused {
                counter: take.counters[i].0.clone(),
                exceeded,
            }
            .to_json()),
        }
    }

    fn give_back(&self, give_back: GiveBack) -> Result<Value> {
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
        Ok(Value::Bool(true))
    }

    fn peek(&self, peek: Peek) -> Result<Value> {
        let sql = self.sql()?;
        let states = peek
            .counters
            .iter()
            .map(|name| Self::load(&sql, name).map(|s| s.to_json()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Value::Array(states))
    }
}

impl DurableObject for Limiter {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            ready: Cell::new(false),
            alarm: Cell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let body = json::parse_str(&req.text().await?).unwrap_or_default();
        let answer = match path.as_str() {
            "/take" => match Take::from_json(&body) {
                Some(take) => Some(self.take(take).await),
                None => None,
            },
            "/give-back" => GiveBack::from_json(&body).map(|g| self.give_back(g)),
            "/peek" => Peek::from_json(&body).map(|p| self.peek(p)),
            _ => return Response::error("unknown limiter call", 404),
        };
        match answer {
            Some(answer) => Ok(ResponseBuilder::new().fixed(answer?.text().into_bytes())),
            None => Response::error("malformed limiter call", 400),
        }
    }

    /// Deletes the rows that no longer matter, and sets the alarm for the
    /// next one to go, if any.
    async fn alarm(&self) -> Result<Response> {
        self.alarm.set(None);
        let sql = self.sql()?;
        let now = http::now_ms() as i64;
        sql.exec(
            "DELETE FROM counters WHERE forget_at <= ?",
            vec![now.into()],
        )?;
        let next = Self::first(&sql, "SELECT MIN(forget_at) FROM counters", Vec::new())?;
        if let Some(SqlStorageValue::Integer(at)) = next {
            self.alarm_by(at.max(0) as u64).await?;
        }
        Response::ok("")
    }
}
