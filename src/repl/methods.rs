//! `:methods [PATTERN]`: the known Vizportal methods, one line each, as scripts call them
//! (`vp::NAME`), with the first sentence of what each is for.

use crate::wire::KNOWN_METHODS;

/// Longest description shown on a line before it is cut.
const MAX_SUMMARY: usize = 72;

/// The methods whose names contain `pattern` (ignoring case), or all of them.
pub fn listing(pattern: Option<&str>) -> String {
    let pattern = pattern.map(str::to_ascii_lowercase);
    let found: Vec<_> = KNOWN_METHODS
        .iter()
        .filter(|m| {
            pattern
                .as_deref()
                .is_none_or(|p| m.name.to_ascii_lowercase().contains(p))
        })
        .collect();
    if found.is_empty() {
        return "(no known method matches; vizportal(method, params) calls any name)".to_string();
    }
    let width = found.iter().map(|m| m.name.len()).max().unwrap_or(0) + 4;
    found
        .iter()
        .map(|m| {
            let name = format!("vp::{}", m.name);
            format!("{name:<width$}  {}", first_sentence(m.summary))
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Up to the first full stop (or semicolon), cut to [`MAX_SUMMARY`] characters.
fn first_sentence(text: &str) -> String {
    let end = [". ", "; "]
        .iter()
        .filter_map(|stop| text.find(stop))
        .min()
        .unwrap_or(text.len());
    let sentence = text[..end].trim_end_matches('.');
    if sentence.chars().count() > MAX_SUMMARY {
        let cut: String = sentence.chars().take(MAX_SUMMARY - 1).collect();
        format!("{cut}…")
    } else {
        sentence.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_matching_method() {
        let text = listing(Some("SCHEDULES"));
        assert!(text.lines().all(|l| l.starts_with("vp::")), "{text}");
        assert!(text.contains("vp::getSchedules"), "{text}");
        assert!(text.contains("vp::deleteSchedules"), "{text}");
        assert!(!text.contains("getViews"), "{text}");
        assert_eq!(listing(None).lines().count(), KNOWN_METHODS.len());
        assert!(listing(Some("zzz")).starts_with("(no known method"));
    }

    #[test]
    fn first_sentences_are_short() {
        assert_eq!(first_sentence("Delete schedules."), "Delete schedules");
        assert_eq!(first_sentence("Create one; answers its id."), "Create one");
        assert!(first_sentence(&"x".repeat(100)).ends_with('…'));
    }
}
