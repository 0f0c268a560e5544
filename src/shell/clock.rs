//! The platform's clock. A request reads it once, when it arrives
//! (`Incoming::now_ms`), and passes that `now` down.

/// Milliseconds since the Unix epoch (`Date.now()`: no `Date` object made).
pub fn now_ms() -> u64 {
    worker::js_sys::Date::now() as u64
}
