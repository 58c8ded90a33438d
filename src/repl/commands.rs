//! REPL commands. They start with a colon so they never clash with script names.

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `:help [function]`
    Help(Option<String>),
    /// `:functions`
    Functions,
    /// `:methods [PATTERN]`
    Methods(Option<String>),
    /// `:scope`
    Scope,
    /// `:site [URLNAME]`: switch, or (without a name) say which site the session is on.
    Site(Option<String>),
    /// `:dry-run [on|off]`
    DryRun(Option<bool>),
    /// `:plan`
    Plan,
    /// `:load FILE`
    Load(String),
    /// `:save FILE`
    Save(String),
    /// `:history [N]`
    History(Option<usize>),
    /// `:fmt [table|json|rhai]`
    Format(Option<String>),
    /// `:quit`
    Quit,
}

/// Every command with a one-line description, for `:help` and completion.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        ":help",
        ":help [function]      this text, or one function's signature and doc",
    ),
    (":functions", ":functions            every script function"),
    (
        ":methods",
        ":methods [PATTERN]    known Vizportal methods (call as vp::NAME), names containing PATTERN",
    ),
    (":scope", ":scope                variables in scope"),
    (
        ":site",
        ":site [URLNAME]       switch the session to a site (\"\" = Default); alone, say which",
    ),
    (
        ":dry-run",
        ":dry-run on|off       hold mutating calls back (see :plan)",
    ),
    (
        ":plan",
        ":plan                 calls held back by dry-run so far",
    ),
    (
        ":load",
        ":load FILE            run a script into this session",
    ),
    (
        ":save",
        ":save FILE            the inputs that ran without error, as a script for vizscript run",
    ),
    (
        ":history",
        ":history [N]          the inputs that ran without error (the last N)",
    ),
    (":fmt", ":fmt table|json|rhai  how results are shown"),
    (":quit", ":quit                 leave (Ctrl-D too)"),
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
        ":methods" => Ok(Command::Methods(arg)),
        ":scope" => Ok(Command::Scope),
        ":site" => Ok(Command::Site(arg)),
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
        ":save" => arg
            .map(Command::Save)
            .ok_or_else(|| ":save needs a file".to_string()),
        ":history" => match rest {
            "" => Ok(Command::History(None)),
            n => n
                .parse()
                .map(|n| Command::History(Some(n)))
                .map_err(|_| format!(":history takes a number, not {n:?}")),
        },
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
    fn help_lines_line_up() {
        let column = |line: &str| {
            line.find("  ")
                .map(|at| at + line[at..].len() - line[at..].trim_start().len())
        };
        let first = column(COMMANDS[0].1);
        for (name, line) in COMMANDS {
            assert!(line.starts_with(name), "{line}");
            assert_eq!(column(line), first, "{line}");
        }
    }

    #[test]
    fn parses_commands_and_arguments() {
        assert_eq!(parse(":site \"\""), Ok(Command::Site(Some(String::new()))));
        assert_eq!(
            parse(":site finance"),
            Ok(Command::Site(Some("finance".into())))
        );
        assert_eq!(parse(":site"), Ok(Command::Site(None)));
        assert_eq!(parse(":dry-run on"), Ok(Command::DryRun(Some(true))));
        assert_eq!(
            parse(":help schedules"),
            Ok(Command::Help(Some("schedules".into())))
        );
        assert_eq!(
            parse(":methods sched"),
            Ok(Command::Methods(Some("sched".into())))
        );
        assert_eq!(parse(":history 3"), Ok(Command::History(Some(3))));
        assert!(parse(":history many").is_err());
        assert_eq!(parse(":save a.rhai"), Ok(Command::Save("a.rhai".into())));
        assert!(parse(":save").is_err());
        assert!(parse(":nope").is_err());
        assert!(parse(":dry-run maybe").is_err());
    }
}
