//! REPL commands. They start with a colon so they never clash with script names.

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `:help [function]`
    Help(Option<String>),
    /// `:functions`
    Functions,
    /// `:scope`
    Scope,
    /// `:site URLNAME`
    Site(String),
    /// `:dry-run [on|off]`
    DryRun(Option<bool>),
    /// `:plan`
    Plan,
    /// `:load FILE`
    Load(String),
    /// `:fmt [table|json|rhai]`
    Format(Option<String>),
    /// `:quit`
    Quit,
}

/// Every command with a one-line description, for `:help` and completion.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        ":help",
        ":help [function]   this text, or one function's signature and doc",
    ),
    (":functions", ":functions         every script function"),
    (":scope", ":scope             variables in scope"),
    (
        ":site",
        ":site URLNAME       switch the session to a site (\"\" = Default)",
    ),
    (
        ":dry-run",
        ":dry-run on|off     hold mutating calls back (see :plan)",
    ),
    (
        ":plan",
        ":plan              calls held back by dry-run so far",
    ),
    (":load", ":load FILE         run a script into this session"),
    (":fmt", ":fmt table|json|rhai how results are shown"),
    (":quit", ":quit              leave (Ctrl-D too)"),
];

/// Parse a line that starts with `:`.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let arg = (!rest.is_empty()).then(|| unquote(rest));
    match name {
        ":help" | ":h" | ":?" => Ok(Command::Help(arg)),
        ":functions" | ":fns" => Ok(Command::Functions),
        ":scope" => Ok(Command::Scope),
        ":site" => Ok(Command::Site(arg.unwrap_or_default())),
        ":dry-run" => match rest {
            "" => Ok(Command::DryRun(None)),
            "on" => Ok(Command::DryRun(Some(true))),
            "off" => Ok(Command::DryRun(Some(false))),
            other => Err(format!(":dry-run takes on or off, not {other:?}")),
        },
        ":plan" => Ok(Command::Plan),
        ":load" => arg
            .map(Command::Load)
            .ok_or_else(|| ":load needs a file".to_string()),
        ":fmt" | ":format" => Ok(Command::Format(arg)),
        ":quit" | ":q" | ":exit" => Ok(Command::Quit),
        other => Err(format!("unknown command {other} (see :help)")),
    }
}

/// `""` and `"x"` as typed become `` and `x`.
fn unquote(text: &str) -> String {
    let t = text.trim();
    t.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_arguments() {
        assert_eq!(parse(":site \"\""), Ok(Command::Site(String::new())));
        assert_eq!(parse(":site finance"), Ok(Command::Site("finance".into())));
        assert_eq!(parse(":dry-run on"), Ok(Command::DryRun(Some(true))));
        assert_eq!(
            parse(":help schedules"),
            Ok(Command::Help(Some("schedules".into())))
        );
        assert!(parse(":nope").is_err());
        assert!(parse(":dry-run maybe").is_err());
    }
}
