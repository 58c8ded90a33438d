//! Secrets kept out of what a server echoes back: a secret is found however an echo
//! escapes its bytes (JSON, percent-encoding, HTML references, nested), and masked.

use serde_json::Value;

/// `bytes` with every occurrence of a secret replaced by `[redacted]`; `None` when none
/// occurs. A JSON body is also masked as it reads: a JSON writer may escape any character
/// of a secret (`=` as `\u003d`, as Gson does), which the text then shows decoded.
pub(crate) fn mask(bytes: &[u8], secrets: &[String]) -> Option<Vec<u8>> {
    let masked = mask_text(bytes, secrets);
    let text = masked.as_deref().unwrap_or(bytes);
    let Ok(mut json) = serde_json::from_slice::<Value>(text) else {
        return masked;
    };
    if !mask_strings(&mut json, secrets) {
        return masked;
    }
    serde_json::to_vec(&json).ok().or(masked)
}

/// Every string of `value` (keys too) with the secrets in it masked; whether any was.
fn mask_strings(value: &mut Value, secrets: &[String]) -> bool {
    let masked = |text: &str| {
        mask_text(text.as_bytes(), secrets).map(|m| String::from_utf8_lossy(&m).into_owned())
    };
    match value {
        Value::String(text) => masked(text).map(|m| *text = m).is_some(),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, item| mask_strings(item, secrets) | any),
        Value::Object(fields) => {
            let mut any = false;
            for (key, mut item) in std::mem::take(fields) {
                any |= mask_strings(&mut item, secrets);
                let key = masked(&key).inspect(|_| any = true).unwrap_or(key);
                fields.insert(key, item);
            }
            any
        }
        _ => false,
    }
}

/// `bytes` with every occurrence of a secret, in any of the forms an echo gives it (see
/// [`EchoSearch::end`]), replaced by `[redacted]`; `None` when none occurs.
fn mask_text(bytes: &[u8], secrets: &[String]) -> Option<Vec<u8>> {
    let mut masked: Option<Vec<u8>> = None;
    let mut search = EchoSearch::default();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        let secret = secret.as_bytes();
        let text = masked.as_deref().unwrap_or(bytes);
        // Escaped echoes are looked for in bodies of a size messages come in; in a larger
        // one (a hostile server's 16 MiB of backslashes) only the secret as it is.
        search.escapes = text.len() <= MAX_ESCAPED_SEARCH;
        let mut out = Vec::new();
        let (mut copied, mut at, mut found) = (0, 0, false);
        while at < text.len() {
            match search.end(text, at, secret) {
                Some(end) => {
                    out.extend_from_slice(&text[copied..at]);
                    out.extend_from_slice(b"[redacted]");
                    (copied, at, found) = (end, end, true);
                }
                None => at += 1,
            }
        }
        if found {
            out.extend_from_slice(&text[copied..]);
            masked = Some(out);
        }
    }
    masked
}

/// The largest body searched for escaped echoes of a secret (1 MiB).
const MAX_ESCAPED_SEARCH: usize = 1 << 20;

/// Finds where an echo of a secret ends; its buffers serve every place searched.
#[derive(Default)]
struct EchoSearch {
    /// Whether escaped forms count (else only the secret as it is).
    escapes: bool,
    /// Where the text may stand after the bytes matched so far.
    reach: Vec<usize>,
    next: Vec<usize>,
}

impl EchoSearch {
    /// Where an echo of `secret` that starts at `at` ends (its longest), if one does.
    /// Each of its bytes may be echoed as it is, percent-encoded (`%3D`, as in a query or
    /// form), escaped as JSON writers do (`\u003d`, as Gson does with `=`, and `\/`),
    /// escaped twice (JSON inside a JSON string: `\\u003d`), or as an HTML character
    /// reference (`&#61;`, `&#x3D;`, `&equals;`). The places the text may stand at after
    /// each byte are followed together, so the work is bounded whatever the text holds.
    fn end(&mut self, text: &[u8], at: usize, secret: &[u8]) -> Option<usize> {
        // Most places start no echo: known without a search.
        let first = *text.get(at)?;
        let escape = self.escapes && matches!(first, b'%' | b'\\' | b'&');
        if Some(&first) != secret.first() && !escape {
            return None;
        }
        self.reach.clear();
        self.reach.push(at);
        for &wanted in secret {
            self.next.clear();
            for &place in &self.reach {
                let rest = &text[place..];
                if rest.first() == Some(&wanted) {
                    self.next.push(place + 1);
                }
                if self.escapes {
                    escaped_ends(rest, wanted, place, &mut self.next);
                }
            }
            if self.next.is_empty() {
                return None;
            }
            self.next.sort_unstable();
            self.next.dedup();
            std::mem::swap(&mut self.reach, &mut self.next);
        }
        self.reach.last().copied()
    }
}

/// Where the escaped echoes of the byte `wanted` that `text` (at `base`) may start with
/// end, added to `ends` (`%253D` is `%` `2` `5` `3` `D` escaped once, or `=` twice).
fn escaped_ends(text: &[u8], wanted: u8, base: usize, ends: &mut Vec<usize>) {
    let hex = |digits: Option<&[u8]>| {
        std::str::from_utf8(digits?)
            .ok()
            .and_then(|d| u32::from_str_radix(d, 16).ok())
    };
    let wanted_value = Some(u32::from(wanted));
    match text.first() {
        // `%3D`, or percent-encoded twice: `%253D`.
        Some(b'%') => {
            if hex(text.get(1..3)) == wanted_value {
                ends.push(base + 3);
            }
            if hex(text.get(1..3)) == Some(0x25) && hex(text.get(3..5)) == wanted_value {
                ends.push(base + 5);
            }
        }
        // JSON escapes, once or more (JSON inside a JSON string): `\u003d`, `\\u003d`,
        // `\/`, `\\\/`, `\\` for a backslash, `\"` for a quote.
        Some(b'\\') => {
            let slashes = text.iter().take(4).take_while(|&&b| b == b'\\').count();
            for k in 1..=slashes {
                let rest = &text[k..];
                if matches!(wanted, b'/' | b'"') && rest.first() == Some(&wanted) {
                    ends.push(base + k + 1);
                }
                if rest.first() == Some(&b'u') && hex(rest.get(1..5)) == wanted_value {
                    ends.push(base + k + 5);
                }
            }
            if wanted == b'\\' {
                ends.extend(
                    [2, 4]
                        .into_iter()
                        .filter(|&n| n <= slashes)
                        .map(|n| base + n),
                );
            }
        }
        Some(b'&') => {
            let Some(end) = text.iter().take(16).position(|&b| b == b';') else {
                return;
            };
            let value = match &text[1..end] {
                [b'#', b'x' | b'X', digits @ ..] => hex(Some(digits)),
                [b'#', digits @ ..] => std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse().ok()),
                name => named_reference(name).map(u32::from),
            };
            if value == wanted_value {
                ends.push(base + end + 1);
            }
        }
        _ => {}
    }
}

/// The character an HTML named reference stands for, among the punctuation secrets hold.
fn named_reference(name: &[u8]) -> Option<u8> {
    const NAMED: &[(&[u8], u8)] = &[
        (b"amp", b'&'),
        (b"lt", b'<'),
        (b"gt", b'>'),
        (b"quot", b'"'),
        (b"apos", b'\''),
        (b"equals", b'='),
        (b"sol", b'/'),
        (b"plus", b'+'),
        (b"colon", b':'),
        (b"percnt", b'%'),
        (b"num", b'#'),
        (b"excl", b'!'),
        (b"quest", b'?'),
        (b"lowbar", b'_'),
        (b"period", b'.'),
        (b"comma", b','),
        (b"semi", b';'),
        (b"commat", b'@'),
        (b"dollar", b'$'),
        (b"ast", b'*'),
        (b"hyphen", b'-'),
        (b"Hat", b'^'),
        (b"tilde", b'~'),
        (b"grave", b'`'),
        (b"verbar", b'|'),
        (b"bsol", b'\\'),
        (b"lpar", b'('),
        (b"rpar", b')'),
        (b"lsqb", b'['),
        (b"rsqb", b']'),
        (b"lcub", b'{'),
        (b"rcub", b'}'),
    ];
    NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_masked_in_the_forms_an_echo_gives_it() {
        let secret = "AbCd/EfGh+IjKl==:MnOp".to_string();
        for echoed in [
            r#"{"detail":"AbCd/EfGh+IjKl==:MnOp"}"#,
            r#"{"detail":"AbCd\/EfGh+IjKl==:MnOp"}"#,
            "secret=AbCd%2FEfGh%2BIjKl%3D%3D%3AMnOp&x=1",
            // Gson's escapes, in a value and in a key.
            r#"{"error":{"detail":"invalid AbCd\/EfGh+IjKl\u003d\u003d:MnOp"}}"#,
            r#"{"AbCd\u002fEfGh+IjKl\u003D\u003D:MnOp":[1]}"#,
            // ... in a body that is not JSON, and JSON inside a JSON string.
            r#"Echo: {"detail":"AbCd\/EfGh+IjKl\u003d\u003d:MnOp"}"#,
            r#"<pre>AbCd&#x2F;EfGh&#43;IjKl&#61;&#61;:MnOp</pre>"#,
            r#"{"detail":"{\"s\": \"AbCd\\/EfGh+IjKl\\u003d\\u003d:MnOp\"}"}"#,
            // Percent-encoded twice, `/` escaped twice outside JSON, named and padded
            // character references.
            "x=AbCd%252FEfGh%252BIjKl%253D%253D%253AMnOp",
            r#"<p>AbCd\\\/EfGh+IjKl==:MnOp</p>"#,
            "<p>AbCd&sol;EfGh&plus;IjKl&equals;&#x000003D;&colon;MnOp</p>",
        ] {
            assert_masked(echoed, &secret, "EfGh");
        }
    }

    /// `echoed` masked of `secret` shows `[redacted]` and not `inside` (a part of it).
    fn assert_masked(echoed: &str, secret: &str, inside: &str) {
        let secrets = [secret.to_string()];
        let masked = mask(echoed.as_bytes(), &secrets).expect(echoed);
        let masked = String::from_utf8(masked).unwrap();
        assert!(
            masked.contains("[redacted]") && !masked.contains(inside),
            "{echoed}: {masked}"
        );
    }

    #[test]
    fn a_secret_holding_escape_characters_is_masked_as_it_is_and_escaped() {
        let secret = "Pq%25&Rs\\Tu".to_string();
        for echoed in [
            "said Pq%25&Rs\\Tu.",
            "said Pq%2525%26Rs%5CTu.",
            "<p>Pq&percnt;25&amp;Rs&bsol;Tu</p>",
            r#"{"m":"Pq%25&Rs\\Tu"}"#,
        ] {
            assert_masked(echoed, &secret, "Rs");
        }
    }

    #[test]
    fn long_runs_of_escapes_and_large_bodies_are_searched_whole() {
        // Sixteen backslashes, each escaped twice (JSON inside a JSON string).
        let secret = format!("Abcdefgh{}mnopqrst", "\\".repeat(16));
        let echoed = format!("Abcdefgh{}mnopqrst", "\\".repeat(64));
        let masked = mask(echoed.as_bytes(), std::slice::from_ref(&secret)).expect("masked");
        assert_eq!(masked, b"[redacted]");
        // Past the size searched for escapes, the secret as it is is still found.
        let mut large = "\\".repeat(MAX_ESCAPED_SEARCH);
        large.push_str("Tok-Secret-1");
        let secret = "Tok-Secret-1".to_string();
        let masked = mask(large.as_bytes(), std::slice::from_ref(&secret)).expect("masked");
        assert!(masked.ends_with(b"[redacted]"));
    }
}
