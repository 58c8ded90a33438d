//! Where the password comes from: `--password-file`, `--password-stdin`, the
//! `TABLEAU_PASSWORD` environment variable, or a prompt without echo. Never a flag value.
//! The text goes straight into a secret that zeroes itself when dropped.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use secrecy::SecretString;
use zeroize::Zeroize;

use super::failure::Failure;

/// Read the password from the first source given: file, stdin, environment, prompt.
pub fn resolve(file: Option<&Path>, stdin: bool, username: &str) -> Result<SecretString, Failure> {
    if let Some(path) = file {
        let mut text = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("--password-file {}: {e}", path.display())))?;
        return Ok(first_line(&mut text));
    }
    if stdin {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut text)
            .map_err(|e| Failure::usage(format!("--password-stdin: {e}")))?;
        return Ok(first_line(&mut text));
    }
    if let Ok(mut text) = std::env::var("TABLEAU_PASSWORD") {
        return Ok(first_line(&mut text));
    }
    if !std::io::stdin().is_terminal() && !std::io::stderr().is_terminal() {
        return Err(Failure::usage(
            "no password: set TABLEAU_PASSWORD, or pass --password-file PATH or --password-stdin",
        ));
    }
    let mut text = rpassword::prompt_password(format!("Password for {username}: "))
        .map_err(|e| Failure::usage(format!("cannot read the password from the terminal: {e}")))?;
    Ok(first_line(&mut text))
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
