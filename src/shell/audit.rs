//! The audit log: one structured JSON line per administrative write, to the
//! worker's log (`wrangler tail`, Workers Logs). It names who did what, when
//! and to what; it never holds a secret.

use worker::console_log;

use crate::core::json;
use crate::core::time;
use crate::shell::http;

/// `actor` is an API key id (or `root`), `action` e.g. `template.create`.
pub fn record(actor: &str, action: &str, project: Option<&str>, target: &str) {
    let line = json::object([
        ("audit", "sass-edge".into()),
        ("at", time::rfc3339(http::now_secs()).into()),
        ("actor", actor.into()),
        ("action", action.into()),
        ("project", project.into()),
        ("target", target.into()),
    ]);
    console_log!("{line}");
}
