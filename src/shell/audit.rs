//! The audit log: one structured JSON line per administrative write, to the
//! worker's log (`wrangler tail`, Workers Logs). It names who did what, when
//! and to what; it never holds a secret.

use serde::Serialize;
use worker::console_log;

use crate::core::time;

#[derive(Serialize)]
struct Line<'a> {
    audit: &'static str,
    at: String,
    actor: &'a str,
    action: &'a str,
    project: Option<&'a str>,
    target: &'a str,
}

/// `actor` is an API key id (or `root`), `action` e.g. `template.create`.
pub fn record(now_secs: u64, actor: &str, action: &str, project: Option<&str>, target: &str) {
    let line = Line {
        audit: "sass-edge",
        at: time::rfc3339(now_secs),
        actor,
        action,
        project,
        target,
    };
    if let Ok(text) = serde_json::to_string(&line) {
        console_log!("{text}");
    }
}
