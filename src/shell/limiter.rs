//! Exact counters in Durable Objects: the `Limiter` class and its client.
//!
//! One object per counted thing (`core::limiter::LimiterName`: a key, or a
//! template and source IP). The
//! object keeps each counter's state in its SQLite storage, one row per
//! counter, and runs the pure math of `core::counter` between reading and
//! writing with no `await` in between, so concurrent requests are serialised.
//! An alarm deletes rows once they no longer matter.
//!
//! A take costs one read and one write per counter. The object creates its
//! table once, and remembers the alarm it scheduled, so that the storage's
//! alarm is read once per object and set only when a row must go sooner.

use std::cell::Cell;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{
    Date, DurableObject, Env, Method, Request, RequestInit, Response, ResponseBuilder, Result,
    SqlStorage, SqlStorageValue, State, console_error, durable_object,
};

use crate::core::counter::{CounterState, forget_at, take_all};
use crate::core::limiter::{Call, Counter, GiveBack, LimiterName, Peek, Peeked, Take, Taken};
use crate::core::refusal::Refusal;
use crate::shell::{clock, fetched};

pub const BINDING: &str = "LIMITER";

fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("limiter {context} failed: {e}");
    Refusal::LimiterDown
}

/// Sends `call` to the limiter object `name` and reads its answer. Any
/// failure to reach it is `LimiterDown`: the caller fails closed.
async fn call<T: DeserializeOwned>(
    env: &Env,
    name: &LimiterName,
    call: &Call,
) -> std::result::Result<T, Refusal> {
    let stub = env
        .durable_object(BINDING)
        .and_then(|ns| ns.get_by_name(&name.to_string()))
        .map_err(|e| down("stub", e))?;
    let body = serde_json::to_string(call).map_err(|e| down("encode", e))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let request =
        Request::new_with_init("https://limiter/call", &init).map_err(|e| down("request", e))?;
    let answer = stub
        .fetch_with_request(request)
        .await
        .map_err(|e| down("fetch", e))?;
    if answer.status_code() != 200 {
        return Err(down("status", answer.status_code()));
    }
    let text = fetched::text(answer).await.map_err(|e| down("read", e))?;
    serde_json::from_str(&text).map_err(|e| down("decode", e))
}

/// Asks the limiter object `name` to take one hit from every counter of
/// `take`, all or none, and returns the hit's time stamp. A refusal comes
/// back as the client's.
pub async fn take(env: &Env, name: &LimiterName, take: Take) -> std::result::Result<u64, Refusal> {
    call::<Taken>(env, name, &Call::Take(take))
        .await?
        .admitted()
}

/// The state of some counters of limiter object `name`, changing nothing.
pub async fn peek(
    env: &Env,
    name: &LimiterName,
    counters: Vec<Counter>,
) -> std::result::Result<Peeked, Refusal> {
    call(env, name, &Call::Peek(Peek { counters })).await
}

/// Gives back hits taken for a request that then failed. A failure is only
/// logged: the hits then stay counted, which errs on the side of the limit.
pub async fn give_back(env: &Env, name: &LimiterName, give_back: GiveBack) {
    if let Err(e) = call::<bool>(env, name, &Call::GiveBack(give_back)).await {
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

    fn load(sql: &SqlStorage, name: &Counter) -> Result<CounterState> {
        let found = Self::first(
            sql,
            "SELECT state FROM counters WHERE name = ?",
            vec![name.to_string().into()],
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

    fn store(sql: &SqlStorage, name: &Counter, state: &CounterState, forget_at: u64) -> Result<()> {
        sql.exec(
            "INSERT INTO counters (name, state, forget_at) VALUES (?, ?, ?) \
             ON CONFLICT(name) DO UPDATE SET state = excluded.state, forget_at = excluded.forget_at",
            vec![
                name.to_string().into(),
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
    async fn take(&self, take: Take) -> Result<Taken> {
        let sql = self.sql()?;
        let now = clock::now_ms();
        let mut counters = Vec::with_capacity(take.counters.len());
        for (name, limit) in &take.counters {
            counters.push((*limit, Self::load(&sql, name)?));
        }
        match take_all(&counters, now, take.hits) {
            Ok(next) => {
                let mut earliest = u64::MAX;
                for ((name, limit), state) in take.counters.iter().zip(&next) {
                    let forget = forget_at(limit, state, take.keep_until, now);
                    Self::store(&sql, name, state, forget)?;
                    earliest = earliest.min(forget);
                }
                self.alarm_by(earliest).await?;
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
        let now = clock::now_ms();
        for (name, limit) in &give_back.counters {
            let state = limit.give_back(&Self::load(&sql, name)?, give_back.at, give_back.hits);
            Self::store(
                &sql,
                name,
                &state,
                forget_at(limit, &state, give_back.keep_until, now),
            )?;
        }
        Ok(true)
    }

    fn peek(&self, peek: Peek) -> Result<Peeked> {
        let sql = self.sql()?;
        peek.counters
            .iter()
            .map(|name| Self::load(&sql, name))
            .collect()
    }
}

fn answer(value: &impl Serialize) -> Result<Response> {
    Ok(ResponseBuilder::new().fixed(serde_json::to_vec(value)?))
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
        let text = req.text().await?;
        match serde_json::from_str::<Call>(&text) {
            Ok(Call::Take(take)) => answer(&self.take(take).await?),
            Ok(Call::GiveBack(give_back)) => answer(&self.give_back(give_back)?),
            Ok(Call::Peek(peek)) => answer(&self.peek(peek)?),
            Err(_) => Response::error("malformed limiter call", 400),
        }
    }

    /// Deletes the rows that no longer matter, and sets the alarm for the
    /// next one to go, if any.
    async fn alarm(&self) -> Result<Response> {
        self.alarm.set(None);
        let sql = self.sql()?;
        let now = clock::now_ms() as i64;
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
