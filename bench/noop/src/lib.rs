//! The no-op worker: the baseline that scripts/bench.sh compares sass-edge
//! with. Same runtime, same toolchain, no work.

use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
pub async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    Response::ok("ok")
}
