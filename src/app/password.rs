//! Where secrets come from: the password from `--password-file`, `--password-stdin`, the
//! `TABLEAU_PASSWORD` environment variable or a prompt without echo; a personal access
//! token's secret from `--token-file`, `TABLEAU_PAT_SECRET` or a prompt. Never a flag value.
//! The text goes straight into a secret that zeroes itself when dropped.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize;

use super::failure::Failure;

/// Read the password from the first source given: file, stdin, environment, and, when
/// `prompt` allows and a terminal is there, a prompt. `None` when no source has one.
pub fn resolve(
    file: Option<&Path>,
    stdin: bool,
    username: &str,
    prompt: bool,
) -> Result<Option<SecretString>, Failure> {
    if let Some(path) = file {
        return from_file(path, "--password-file").map(Some);
    }
    if stdin {
        // At a terminal, what is typed is not shown.
        if std::io::stdin().is_terminal() {
            return ask(true, &format!("Password for {username}: "));
        }
        let line = read_first_line(std::io::stdin().lock(), "--password-stdin")?;
        return given(line, "--password-stdin read").map(Some);
    }
    if let Some(password) = from_env("TABLEAU_PASSWORD") {
        return Ok(Some(password));
    }
    ask(prompt, &format!("Password for {username}: "))
}

/// Whether sign-in finds a secret in the environment variable (`config show`).
pub(super) fn in_env(variable: &str) -> bool {
    from_env(variable).is_some()
}

/// A secret from an environment variable; an empty one counts as not set.
fn from_env(variable: &str) -> Option<SecretString> {
    let mut text = std::env::var(variable).ok()?;
    Some(first_line(&mut text)).filter(|s| !s.expose_secret().is_empty())
}

/// `secret` unless it is empty: a source the user named that holds nothing is a mistake
/// to report (`source` says where, e.g. "--password-stdin read"), not a secret to send.
fn given(secret: SecretString, source: &str) -> Result<SecretString, Failure> {
    if secret.expose_secret().is_empty() {
        return Err(Failure::usage(format!(
            "{source} an empty line: no secret to sign in with"
        )));
    }
    Ok(secret)
}

/// The secret of a personal access token: `--token-file`, `TABLEAU_PAT_SECRET`, or a
/// prompt when allowed and a terminal is there. `None` when no source has one.
pub fn token_secret(
    file: Option<&Path>,
    name: &str,
    prompt: bool,
) -> Result<Option<SecretString>, Failure> {
    if let Some(path) = file {
        return from_file(path, "--token-file").map(Some);
    }
    if let Some(secret) = from_env("TABLEAU_PAT_SECRET") {
        return Ok(Some(secret));
    }
    ask(prompt, &format!("Secret of personal access token {name}: "))
}

/// A prompt without echo, only when allowed and stdin is a terminal (a run from cron or
/// a pipe never waits for an answer nobody can give).
fn ask(prompt: bool, label: &str) -> Result<Option<SecretString>, Failure> {
    if !prompt || !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let mut text = rpassword::prompt_password(label)
        .map_err(|e| Failure::usage(format!("cannot read a secret from the terminal: {e}")))?;
    given(first_line(&mut text), "the prompt got").map(Some)
}

/// The first line of the file a flag names, as a secret.
fn from_file(path: &Path, flag: &str) -> Result<SecretString, Failure> {
    let source = format!("{flag} {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| Failure::usage(format!("{source}: {e}")))?;
    let line = read_first_line(std::io::BufReader::new(file), &source)?;
    given(line, &format!("{source} starts with"))
}

/// The longest first line read as a secret: a password or token secret is far shorter,
/// and a source that goes on (`/dev/zero`, a wrong file) is not read to its end.
const MAX_SECRET_LINE: u64 = 64 * 1024;

/// The first line of `reader`, as a secret; `source` names it in messages.
fn read_first_line(reader: impl BufRead, source: &str) -> Result<SecretString, Failure> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_SECRET_LINE + 2)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| Failure::usage(format!("{source}: {e}")))?;
    // The line's length, its ending aside (LF or CRLF).
    let ending = match bytes.as_slice() {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n'] => 1,
        _ => 0,
    };
    if (bytes.len() - ending) as u64 > MAX_SECRET_LINE {
        bytes.zeroize();
        return Err(Failure::usage(format!(
            "{source}: the first line is longer than {} KiB; that is no password or token secret",
            MAX_SECRET_LINE / 1024
        )));
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => Ok(first_line(&mut text)),
        Err(e) => {
            e.into_bytes().zeroize();
            Err(Failure::usage(format!(
                "{source}: the first line is not UTF-8 text"
            )))
        }
    }
}

/// The first line without its line ending or a byte order mark (which some editors write
/// at the start of a file), as a secret; the source buffer is zeroed.
fn first_line(text: &mut String) -> SecretString {
    let line = text
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches('\u{feff}')
        .trim_end_matches('\r')
        .to_string();
    text.zeroize();
    SecretString::from(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn first_line_only_and_source_zeroed() {
        let mut text = String::from("s3cret\r\nignored\n");
        let secret = first_line(&mut text);
        assert_eq!(secret.expose_secret(), "s3cret");
        assert!(text.is_empty());
        let mut text = String::from("\u{feff}s3cret\n");
        assert_eq!(first_line(&mut text).expose_secret(), "s3cret");
    }

    #[test]
    fn a_first_line_too_long_or_not_text_is_refused_without_reading_on() {
        let endless = std::io::repeat(b'x');
        let err =
            read_first_line(std::io::BufReader::new(endless), "--password-file f").unwrap_err();
        assert!(
            err.message.contains("longer than 64 KiB"),
            "{}",
            err.message
        );
        let err = read_first_line(&b"\xff\xfe\n"[..], "--token-file f").unwrap_err();
        assert!(err.message.contains("not UTF-8"), "{}", err.message);
        let line = read_first_line(&b"s3cret\r\nmore"[..], "--token-file f").unwrap();
        assert_eq!(line.expose_secret(), "s3cret");
        // A line of exactly the limit is taken, whatever its ending.
        for ending in ["", "\n", "\r\n"] {
            let text = format!("{}{ending}", "x".repeat(MAX_SECRET_LINE as usize));
            assert!(read_first_line(text.as_bytes(), "f").is_ok(), "{ending:?}");
        }
    }
}
