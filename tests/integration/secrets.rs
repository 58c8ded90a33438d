//! Secrets stay secret: with a known password, every command's stdout, stderr and every
//! file it writes (audit, plan, history) are searched; the password and the session
//! cookie never appear.

use vizscript::emulator::{Dataset, SampleSpec};

use crate::support::*;

const PASSWORD: &str = "Zq7!-s3cret-Pw-91";

fn emulator_with_password() -> vizscript::emulator::Emulator {
    let mut data = Dataset::sample(&SampleSpec::default()).to_json();
    for user in data["users"].as_array_mut().unwrap() {
        if user["username"] == "admin" {
            user["password"] = PASSWORD.into();
        }
    }
    let dataset = Dataset::from_json(data).unwrap();
    emulator_with(|c| c.dataset = dataset)
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn no_output_or_file_carries_the_password_or_the_session() {
    let emu = emulator_with_password();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(dir.path().join("pw.txt"), format!("{PASSWORD}\n")).unwrap();
    let (audit, plan) = (path("audit.jsonl"), path("plan.json"));
    let rebalance = example("rebalance.rhai");
    let runs: Vec<(Vec<&str>, Option<String>, bool)> = vec![
        (vec!["call", "getSessionInfo", "-vv"], None, true),
        (
            vec![
                "run",
                &rebalance,
                "--dry-run",
                "--plan-json",
                &plan,
                "--audit",
                &audit,
                "-vv",
            ],
            None,
            true,
        ),
        (
            vec!["run", &rebalance, "--audit", &audit, "-vv"],
            None,
            true,
        ),
        (
            vec!["repl", "-vv"],
            Some("session_info().user.username\n:plan\n".into()),
            true,
        ),
        (
            vec!["call", "getSessionInfo", "--password-stdin"],
            Some(format!("{PASSWORD}\n")),
            false,
        ),
        (
            vec!["call", "getSessionInfo", "--password-file", "PWFILE"],
            None,
            false,
        ),
    ];
    let pw_file = path("pw.txt");
    let mut transcripts = String::new();
    for (args, stdin, env_password) in runs {
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "PWFILE" { pw_file.as_str() } else { a })
            .collect();
        let mut cmd = vizscript(&emu);
        cmd.env("XDG_DATA_HOME", path("data"))
            .env("HOME", dir.path());
        if env_password {
            cmd.env("TABLEAU_PASSWORD", PASSWORD);
        } else {
            cmd.env_remove("TABLEAU_PASSWORD");
        }
        if let Some(input) = stdin {
            cmd.write_stdin(input);
        }
        let (code, out, err) = run(cmd, &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        transcripts.push_str(&out);
        transcripts.push_str(&err);
    }
    let mut wrong = vizscript(&emu);
    wrong.env("TABLEAU_PASSWORD", "Wrong-Zq7-guess");
    let (code, out, err) = run(wrong, &["call", "getSessionInfo", "-vv"]);
    assert_eq!(code, 3);
    transcripts.push_str(&out);
    transcripts.push_str(&err);

    assert!(transcripts.contains("admin"), "the transcripts are real");
    for secret in [
        PASSWORD,
        "Wrong-Zq7-guess",
        "workgroup_session_id",
        "XSRF-TOKEN=",
    ] {
        assert!(
            !transcripts.contains(secret),
            "{secret:?} leaked into output"
        );
    }
    let written: Vec<_> = files_under(dir.path())
        .into_iter()
        .filter(|p| !p.ends_with("pw.txt"))
        .collect();
    assert!(
        written.iter().any(|p| p.ends_with("audit.jsonl"))
            && written.iter().any(|p| p.ends_with("plan.json"))
    );
    for file in written {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for secret in [PASSWORD, "workgroup_session_id", "XSRF-TOKEN"] {
            assert!(
                !text.contains(secret),
                "{secret:?} leaked into {}",
                file.display()
            );
        }
    }
}
