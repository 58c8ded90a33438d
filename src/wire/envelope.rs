//! The JSON envelope: requests are `{"method", "params"}`, answers are `{"result": {...}}`
//! with failures listed in `result.errors[]`. Both sides build and read them through these
//! types, so a change to the envelope lands on the client and the emulator at once.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The content type of requests and answers, as Tableau's web client sends it.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// A request body. The server acts on `method` in the body, not on the URL tail.
/// `P` is the params' type: [`Value`] when reading a request, a reference when sending one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestBody<P = Value> {
    /// The Vizportal method name, e.g. `getExtractTasks`.
    pub method: String,
    /// Parameters; `null` or missing is treated as `{}`.
    #[serde(default)]
    pub params: P,
}

impl<'a> RequestBody<&'a Value> {
    /// The body of a call to `method` with `params`.
    pub fn new(method: &str, params: &'a Value) -> RequestBody<&'a Value> {
        RequestBody {
            method: method.to_string(),
            params,
        }
    }
}

/// An answer body: `{"result": ...}`, the only member. `R` is how the result is read:
/// a [`Value`], or its members still as raw JSON text for large lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer<R = Value> {
    /// The result object; on failure it holds `errors`.
    pub result: R,
}

impl<R: Serialize> Answer<R> {
    /// The answer as bytes, `result` as its first and only key (Tableau's Java client
    /// slices the body on that assumption).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| b"{\"result\":{}}".to_vec())
    }
}

/// The member of `result` that lists failures.
pub const ERRORS: &str = "errors";

/// One entry of `result.errors[]`. Every field is optional on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireError {
    /// Numeric error code (see [`crate::wire::code`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// The item the error is about, for batch calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Human-readable text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl WireError {
    /// An error about the whole call (no item id).
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        WireError {
            code: Some(code),
            id: None,
            message: Some(message.into()),
        }
    }

    /// An error about one item of a batch call.
    pub fn for_id(code: i64, id: impl Into<String>, message: impl Into<String>) -> Self {
        WireError {
            code: Some(code),
            id: Some(id.into()),
            message: Some(message.into()),
        }
    }
}
