//! Randomness from the platform's CSPRNG, for ids and secrets.

use crate::core::refusal::Refusal;
use crate::shell::response::internal;

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], Refusal> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| internal("getrandom", e))?;
    Ok(bytes)
}
