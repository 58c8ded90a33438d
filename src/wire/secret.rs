//! Which field names hold secrets: the audit, a dry run's plan and the REPL's history
//! leave out or mask the values of such fields, by one rule.

/// Words that make a field name a secret's wherever they occur in it (`secretKey`,
/// `passwordHash`, `x-api-key`), case aside.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "apikey",
    "api_key",
    "api-key",
    "authorization",
    "bearer",
];

/// Names that are a secret's only as a whole (`pw`, but not `pwEnabled`).
const SECRET_NAMES: &[&str] = &["pw", "pwd"];

/// Whether a field or variable called `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| lower.contains(word)) || SECRET_NAMES.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_by_word_or_whole() {
        for name in [
            "password",
            "encryptedPassword",
            "passwd",
            "PWD",
            "pw",
            "x-api-key",
            "patSecret",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["ids", "pwEnabled", "scheduleId", "priority", "username"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
