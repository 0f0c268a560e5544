//! Reading a request's JSON body, bounded: a body larger than the endpoint
//! accepts is refused before it is read whole.

use futures_util::StreamExt;
use serde_json::Value;

use crate::core::body;
use crate::core::refusal::Refusal;
use crate::shell::incoming::Incoming;

/// Largest JSON body accepted by the admin and key endpoints.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Reads a JSON body of at most `limit` bytes, refusing larger ones before
/// reading them whole, and duplicate keys.
pub async fn read_json(req: &Incoming, limit: usize) -> Result<Value, Refusal> {
    let declared = req
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Refusal::RejectBodySize { limit });
    }
    let mut bytes = Vec::new();
    if declared != Some(0)
        && let Some(mut stream) = req.stream()
    {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| Refusal::RejectJson {
                detail: "the body could not be read".into(),
            })?;
            if bytes.len() + chunk.len() > limit {
                return Err(Refusal::RejectBodySize { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
    }
    if bytes.is_empty() {
        return Err(Refusal::RejectJson {
            detail: "the body is empty".into(),
        });
    }
    body::parse(&bytes)
}
