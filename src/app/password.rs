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
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut text)
            .map_err(|e| Failure::usage(format!("--password-stdin: {e}")))?;
        return given(first_line(&mut text), "--password-stdin read").map(Some);
    }
    if let Some(password) = from_env("TABLEAU_PASSWORD") {
        return Ok(Some(password));
    }
    ask(prompt, &format!("Password for {username}: "))
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
    let mut text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("{flag} {}: {e}", path.display())))?;
    given(
        first_line(&mut text),
        &format!("{flag} {} starts with", path.display()),
    )
}

/// The first line without its line ending, as a secret; the source buffer is zeroed.
fn first_line(text: &mut String) -> SecretString {
    let line = text
        .lines()
        .next()
        .unwrap_or("")
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
    }
}
