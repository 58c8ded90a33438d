//! How leniently the server reads values from requests. Clients disagree on types: Tableau's
//! Java client sends ids, priorities and schedule ids as strings, browsers and the API
//! guide send numbers (docs/protocol.md §1.5), and booleans sometimes arrive as strings. Every
//! request parameter is read through these functions so the leniency is the same everywhere.

use std::borrow::Cow;

use serde_json::Value;

/// An integer given as a JSON integer, an integral float, or a decimal string.
pub(crate) fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean given as `true`/`false` or as the strings `"true"`/`"false"`.
pub(crate) fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The text of a string or number value (`"55"` and `55` both give `55`): the wire's
/// one rule for ids.
pub(crate) fn as_text(value: &Value) -> Option<Cow<'_, str>> {
    crate::wire::id_text(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_strings_are_interchangeable() {
        assert_eq!(as_int(&json!("49")), Some(49));
        assert_eq!(as_int(&json!(49)), Some(49));
        assert_eq!(as_int(&json!(49.0)), Some(49));
        assert_eq!(as_int(&json!(49.5)), None);
        assert_eq!(as_int(&json!("high")), None);
        assert_eq!(as_int(&json!(null)), None);
        assert_eq!(as_text(&json!(7)).as_deref(), Some("7"));
        assert_eq!(as_text(&json!(["7"])), None);
        assert_eq!(as_bool(&json!("TRUE")), Some(true));
        assert_eq!(as_bool(&json!(1)), None);
    }
}
