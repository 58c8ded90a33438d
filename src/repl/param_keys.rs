//! Completing the params of a known Vizportal method: inside the map literal of
//! `vp::getViews(#{ pa`, Tab offers the keys public sources show for `getViews`
//! (`page`, `filter`, ...). Only at a key position of the params map itself, not in a
//! nested map or a value.

use crate::wire::{KnownMethod, known_method};

/// The start of the key being typed at the end of `before` and the known keys it may
/// become, when the cursor is at a key position of a `vp::NAME(#{ ... })` params map.
pub fn candidates(before: &str) -> Option<(usize, Vec<&'static str>)> {
    let key_char = |c: char| c.is_alphanumeric() || c == '_';
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !key_char(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    let head = before[..start].trim_end();
    if !(head.ends_with('{') || head.ends_with(',')) {
        return None;
    }
    let method = params_map_owner(&before[..start])?;
    let keys = method
        .params
        .iter()
        .copied()
        .filter(|k| k.starts_with(word))
        .collect();
    Some((start, keys))
}

/// The known method whose `vp::NAME(#{` params map is the innermost open map at the
/// end of `text`.
fn params_map_owner(text: &str) -> Option<&'static KnownMethod> {
    let brace = innermost_open(text)?;
    if !text[..brace].ends_with('#') || !text[brace..].starts_with('{') {
        return None;
    }
    let before_map = text[..brace - 1].trim_end();
    let paren = before_map.strip_suffix('(')?;
    let name_start = paren
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let name = paren[name_start..].strip_prefix("vp::")?;
    known_method(name)
}

/// Byte index of the innermost bracket still open at the end of `text`.
fn innermost_open(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().rev() {
        match c {
            ')' | ']' | '}' => depth += 1,
            '(' | '[' | '{' if depth > 0 => depth -= 1,
            '(' | '[' | '{' => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(before: &str) -> Option<Vec<&'static str>> {
        candidates(before).map(|(start, keys)| {
            assert!(start <= before.len());
            keys
        })
    }

    #[test]
    fn keys_of_the_method_at_key_positions() {
        assert_eq!(keys("vp::getViews(#{ pa"), Some(vec!["page"]));
        assert_eq!(
            keys("vp::getViews(#{"),
            Some(vec!["filter", "order", "page", "statFields"])
        );
        assert_eq!(
            keys("let r = vp::setExtractTasksSchedule(#{ ids: [\"1\", \"2\"], sc"),
            Some(vec!["scheduleId"])
        );
        let (start, _) = candidates("x = vp::getViews(#{ page: #{ startIndex: 0 }, or").unwrap();
        assert_eq!(
            start,
            "x = vp::getViews(#{ page: #{ startIndex: 0 }, ".len()
        );
    }

    #[test]
    fn nothing_elsewhere() {
        assert_eq!(keys("vp::getViews(#{ page: #{ sta"), None, "a nested map");
        assert_eq!(keys("vp::getViews(#{ page: pa"), None, "a value");
        assert_eq!(keys("vizportal(\"getViews\", #{ pa"), None, "not vp::");
        assert_eq!(keys("vp::noSuchMethod(#{ pa"), None);
        assert_eq!(keys("#{ pa"), None);
    }
}
