//! Every reason sass-edge refuses a request: one enum, each variant with its
//! HTTP status, its stable `UPPER_SNAKE` code, a human message and a hint.
//!
//! The shell turns a `Refusal` into `{"status":"error","code","msg","hint"}`.
//! Messages name what was wrong (a field, a setting, a permission) but never
//! carry internal detail such as a storage error or a stack trace.

use serde::Serialize;

use crate::permission::Permission;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The body is not JSON, or not the JSON shape expected.
    RejectJson { detail: String },
    /// One field of a JSON body is wrong; `field` is its dotted path.
    RejectField { field: String, reason: String },
    /// The first path segment is not a project name.
    RejectProject,
    /// A body larger than the endpoint accepts.
    RejectBodySize { limit: usize },
    /// A file path that is not a normalised absolute path.
    RejectPath { reason: String },
    /// A multipart upload body that cannot be read as one.
    RejectMultipart { reason: String },
    /// A URL to upload from that the worker does not fetch.
    RejectUrl { reason: String },
    /// A URL to upload from that could not be fetched.
    FailUrl { reason: String },
    /// A request body in a `Content-Encoding` other than identity: its size
    /// could not be checked on the bytes stored.
    RejectEncoding { encoding: String },
    /// An upload without `Content-Length`.
    RequireLength,
    /// An upload whose body did not match its declared length.
    RejectLengthMismatch,
    /// An upload larger than the key's `max_file_size`.
    RejectFileSize { limit: u64 },
    /// The credential in `X-Filerobot-Key` is missing, malformed or forged.
    RejectKey { reason: &'static str },
    /// A SASS key past its expiry.
    RejectExpiredKey,
    /// A revoked SASS key, or one attenuated from a revoked key.
    RejectRevokedKey,
    /// The credential is valid but lacks a permission.
    DenyPermission { permission: Permission },
    /// A SASS key used on another project than the one it was issued for.
    DenyProject,
    /// A new key (attenuated, or an API key) would be broader than its
    /// creator in `field`.
    DenyBroader { field: String, reason: String },
    /// The root key cannot be changed or deleted through the API.
    DenyRootChange,
    /// The template exists but is deactivated.
    DenyInactiveTemplate,
    /// The key's template was narrowed after the key was issued.
    DenyChangedTemplate,
    /// A browser page of an origin outside the key's `allowed_origins`.
    DenyOrigin,
    /// The source IP is outside the key's `whitelist_ip_ranges`.
    DenyIp,
    /// The country is outside the key's `whitelist_countries`.
    DenyCountry,
    /// The directory is outside the key's scope for this operation.
    DenyScope { action: &'static str, dir: String },
    /// No template with this id in this project.
    MissTemplate,
    /// No such route.
    MissRoute,
    /// No file at this path.
    MissFile,
    /// No API secret key with this id.
    MissApiKey,
    /// The route exists, the method does not.
    RejectMethod { allow: &'static str },
    /// Too many calls in the sliding window; retry after `retry_after` seconds.
    Throttle { retry_after: u64 },
    /// A lifetime counter of the key is used up.
    ExhaustQuota { counter: String },
    /// A worker setting (secret or variable) is missing or malformed.
    MisconfiguredSetting {
        setting: &'static str,
        reason: String,
    },
    /// The Durable Object that counts could not be reached: fail closed.
    LimiterDown,
    /// Workers KV or R2 could not be read or written.
    StorageDown,
    /// The origin behind `ORIGIN_URL` could not be reached.
    OriginDown,
    /// A bug or a corrupt record; the detail goes to the log, not the client.
    Internal,
}

impl Refusal {
    /// `field` is a dotted path, such as `upload.dir_scope[1]`.
    pub fn field(field: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        Refusal::RejectField {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    pub fn status(&self) -> u16 {
        use Refusal::*;
        match self {
            RejectJson { .. } | RejectField { .. } | RejectProject | RejectPath { .. } => 400,
            RejectMultipart { .. } | RejectUrl { .. } | FailUrl { .. } => 400,
            RejectLengthMismatch => 400,
            RejectKey { .. } | RejectExpiredKey | RejectRevokedKey => 401,
            DenyPermission { .. } | DenyProject | DenyInactiveTemplate => 403,
            DenyChangedTemplate => 403,
            DenyOrigin | DenyIp | DenyCountry | DenyScope { .. } => 403,
            DenyBroader { .. } | DenyRootChange => 403,
            MissTemplate | MissRoute | MissFile | MissApiKey => 404,
            RejectMethod { .. } => 405,
            RequireLength => 411,
            RejectEncoding { .. } => 415,
            RejectBodySize { .. } | RejectFileSize { .. } => 413,
            Throttle { .. } | ExhaustQuota { .. } => 429,
            MisconfiguredSetting { .. } | Internal => 500,
            OriginDown => 502,
            LimiterDown | StorageDown => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        use Refusal::*;
        match self {
            RejectJson { .. } => "INVALID_JSON",
            RejectField { .. } => "INVALID_FIELD",
            RejectProject => "PROJECT_INVALID",
            RejectBodySize { .. } => "BODY_TOO_LARGE",
            RejectPath { .. } => "PATH_INVALID",
            RejectMultipart { .. } => "INVALID_MULTIPART",
            RejectUrl { .. } => "URL_REFUSED",
            FailUrl { .. } => "URL_FAILED",
            RequireLength => "LENGTH_REQUIRED",
            RejectEncoding { .. } => "ENCODING_UNSUPPORTED",
            RejectLengthMismatch => "LENGTH_MISMATCH",
            RejectFileSize { .. } => "FILE_TOO_LARGE",
            DenyOrigin => "ORIGIN_NOT_ALLOWED",
            DenyIp => "IP_NOT_ALLOWED",
            DenyCountry => "COUNTRY_NOT_ALLOWED",
            DenyScope { .. } => "SCOPE_DENIED",
            MissFile => "FILE_NOT_FOUND",
            ExhaustQuota { .. } => "QUOTA_EXCEEDED",
            OriginDown => "ORIGIN_UNAVAILABLE",
            RejectKey { .. } => "KEY_INVALID",
            RejectExpiredKey => "KEY_EXPIRED",
            RejectRevokedKey => "KEY_REVOKED",
            DenyBroader { .. } => "KEY_TOO_BROAD",
            DenyRootChange => "ROOT_KEY_PROTECTED",
            MissApiKey => "API_KEY_NOT_FOUND",
            DenyPermission { .. } => "PERMISSION_DENIED",
            DenyProject => "PROJECT_MISMATCH",
            DenyInactiveTemplate => "TEMPLATE_INACTIVE",
            DenyChangedTemplate => "TEMPLATE_CHANGED",
            MissTemplate => "TEMPLATE_NOT_FOUND",
            MissRoute => "NOT_FOUND",
            RejectMethod { .. } => "METHOD_NOT_ALLOWED",
            Throttle { .. } => "RATE_LIMITED",
            MisconfiguredSetting { .. } => "CONFIG_INVALID",
            LimiterDown => "LIMITER_UNAVAILABLE",
            StorageDown => "STORAGE_UNAVAILABLE",
            Internal => "INTERNAL",
        }
    }

    pub fn message(&self) -> String {
        use Refusal::*;
        match self {
            RejectJson { detail } => format!("the body is not valid JSON: {detail}"),
            RejectField { field, reason } => format!("{field}: {reason}"),
            RejectProject => "the project must be 1 to 32 characters of a-z and 0-9".into(),
            RejectBodySize { limit } => format!("the body is larger than {limit} bytes"),
            RejectPath { reason } => format!("the path {reason}"),
            RejectMultipart { reason } => format!("the multipart body: {reason}"),
            RejectUrl { reason } | FailUrl { reason } => format!("files_urls: {reason}"),
            RequireLength => "an upload needs a Content-Length header".into(),
            RejectEncoding { encoding } => {
                format!("a body in Content-Encoding {encoding:?} is not accepted")
            }
            RejectLengthMismatch => {
                "the body did not match its Content-Length; nothing was stored".into()
            }
            RejectFileSize { limit } => {
                format!("the file is larger than this key allows ({limit} bytes)")
            }
            DenyOrigin => "this key may not be used by pages of this site".into(),
            DenyIp => "this key may not be used from this IP address".into(),
            DenyCountry => "this key may not be used from this country".into(),
            DenyScope { action, dir } => format!("this key may not {action} {dir}"),
            MissFile => "no file at this path".into(),
            ExhaustQuota { counter } => format!("the key's {counter} quota is used up"),
            OriginDown => "the storage origin could not be reached".into(),
            RejectKey { reason } => (*reason).into(),
            RejectExpiredKey => "the key has expired".into(),
            RejectRevokedKey => "the key has been revoked".into(),
            DenyBroader { field, reason } => format!("{field}: {reason}"),
            DenyRootChange => {
                "the root key is set by ROOT_API_KEY and cannot be changed here".into()
            }
            MissApiKey => "no API secret key with this id".into(),
            DenyPermission { permission } => {
                format!("the key lacks the {} permission", permission.name())
            }
            DenyProject => "the key was issued for another project".into(),
            DenyInactiveTemplate => "the security template is deactivated or deleted".into(),
            DenyChangedTemplate => {
                "the security template was narrowed after this key was issued".into()
            }
            MissTemplate => "no security template with this id in this project".into(),
            MissRoute => "no such endpoint".into(),
            RejectMethod { allow } => format!("this endpoint accepts {allow}"),
            Throttle { retry_after } => {
                format!("too many requests; retry in {retry_after} s")
            }
            MisconfiguredSetting { setting, reason } => {
                format!("the worker setting {setting} is {reason}")
            }
            LimiterDown => "the request counter cannot be reached".into(),
            StorageDown => "the template store cannot be reached".into(),
            Internal => "internal error".into(),
        }
    }

    pub fn hint(&self) -> &'static str {
        use Refusal::*;
        match self {
            RejectJson { .. } => "Send a JSON object with Content-Type: application/json.",
            RejectField { .. } => {
                "Fix the named field; the README lists every field and its range."
            }
            RejectProject => {
                "Use the project token as the first path segment, e.g. /demo/key/SECU_..."
            }
            RejectBodySize { .. } => "Send a smaller body.",
            RejectPath { .. } => {
                "Use an absolute path without ., .., empty segments, backslashes, encoded slashes or control characters."
            }
            RejectMultipart { .. } => {
                "Send multipart/form-data with one part per file (files[]), as the Filerobot widget does."
            }
            RejectUrl { .. } => "Give an http or https URL of a public host.",
            FailUrl { .. } => "Check that the URL answers 200 with the file, within 10 seconds.",
            RequireLength => "Send the upload with its Content-Length.",
            RejectEncoding { .. } => "Send the body as it is, without Content-Encoding.",
            RejectLengthMismatch => "Send exactly as many bytes as the Content-Length declares.",
            RejectFileSize { .. } => {
                "Upload a smaller file, or use a key with a larger max_file_size."
            }
            DenyOrigin => "Use the key from a page of a site its template's allowed_origins lists.",
            DenyIp | DenyCountry => {
                "Use the key from where its template allows, or ask for a key that allows this place."
            }
            DenyScope { .. } => "Stay inside the directories the key's dir_scope allows.",
            MissFile => "Check the path, e.g. with GET /{project}/v5/list?folder=/.",
            ExhaustQuota { .. } => "Request a new key.",
            OriginDown => "Retry shortly.",
            RejectKey { .. } => "Send a valid key in the X-Filerobot-Key header.",
            RejectExpiredKey => "Request a new key from GET /{project}/key/{template}.",
            RejectRevokedKey => "Request a new key; this one was revoked by the operator.",
            DenyBroader { .. } => {
                "Ask for no more than the presented key (or the caller's API key) holds."
            }
            DenyRootChange => "Change the worker secret with `wrangler secret put ROOT_API_KEY`.",
            MissApiKey => "List the keys with GET /v5/api-keys.",
            DenyPermission { .. } => "Use a key whose permissions include the one named.",
            DenyProject => "Use a key issued for this project.",
            DenyInactiveTemplate => "Ask the operator to reactivate the security template.",
            DenyChangedTemplate => "Get a new key: the template's rules changed.",
            MissTemplate => {
                "Check the template id, e.g. with GET /{project}/v5/security-templates."
            }
            MissRoute => "See the README for the list of endpoints.",
            RejectMethod { .. } => "Use one of the methods named in the Allow header.",
            Throttle { .. } => "Wait for the number of seconds in the Retry-After header.",
            MisconfiguredSetting { .. } => {
                "The operator must set it with `wrangler secret put` (see the README)."
            }
            LimiterDown | StorageDown => "Retry shortly.",
            Internal => "Retry; if it persists, the operator will find details in the logs.",
        }
    }

    /// Seconds a client should wait, sent as `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Refusal::Throttle { retry_after } => Some(*retry_after),
            Refusal::LimiterDown | Refusal::StorageDown | Refusal::OriginDown => Some(1),
            _ => None,
        }
    }

    /// The `Allow` header of a 405.
    pub fn allow(&self) -> Option<&'static str> {
        match self {
            Refusal::RejectMethod { allow } => Some(allow),
            _ => None,
        }
    }

    /// The error body every refusal is sent as.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            status: "error",
            code: self.code(),
            msg: self.message(),
            hint: self.hint(),
        }
    }
}

/// `{"status":"error","code","msg","hint"}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub status: &'static str,
    pub code: &'static str,
    pub msg: String,
    pub hint: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_four_fields() {
        let body =
            serde_json::to_value(Refusal::field("upload.max", "must be a positive integer").body())
                .unwrap();
        assert_eq!(body["status"], "error");
        assert_eq!(body["code"], "INVALID_FIELD");
        assert_eq!(body["msg"], "upload.max: must be a positive integer");
        assert!(body["hint"].as_str().is_some_and(|h| !h.is_empty()));
        assert_eq!(body.as_object().unwrap().len(), 4);
    }

    #[test]
    fn statuses_and_retry_after() {
        assert_eq!(Refusal::Throttle { retry_after: 7 }.status(), 429);
        assert_eq!(Refusal::Throttle { retry_after: 7 }.retry_after(), Some(7));
        assert_eq!(Refusal::LimiterDown.status(), 503);
        assert_eq!(Refusal::RejectExpiredKey.status(), 401);
        assert_eq!(Refusal::MissRoute.retry_after(), None);
        let m = Refusal::MisconfiguredSetting {
            setting: "SIGNING_KEYS",
            reason: "missing".into(),
        };
        assert_eq!(m.status(), 500);
        assert!(m.message().contains("SIGNING_KEYS"));
    }
}
