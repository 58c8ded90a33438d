//! The JSON envelope: requests are `{"method", "params"}`, answers are `{"result": {...}}`
//! with failures listed in `result.errors[]`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request body. The server acts on `method` in the body, not on the URL tail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestBody {
    /// The Vizportal method name, e.g. `getExtractTasks`.
    pub method: String,
    /// Parameters; `null` or missing is treated as `{}`.
    #[serde(default)]
    pub params: Value,
}

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
