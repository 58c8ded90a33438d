//! Ids and other short text fields travel as JSON strings, but some clients and servers
//! send numbers (Tableau's Java client sends strings, browsers and the 10.0 API guide send
//! numbers: docs/protocol.md §1.5). Both sides read them through this one rule.

use std::borrow::Cow;

use serde_json::Value;

/// The text of a string or number value (`"55"` and `55` both give `55`); `None` for
/// anything else.
pub fn id_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_numbers_are_the_same_id() {
        assert_eq!(id_text(&json!("55")).as_deref(), Some("55"));
        assert_eq!(id_text(&json!(55)).as_deref(), Some("55"));
        assert_eq!(id_text(&json!(["55"])), None);
        assert_eq!(id_text(&json!(null)), None);
    }
}
