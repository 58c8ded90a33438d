//! A corpus of malformed and runaway scripts (tests/fixtures/bad_scripts): each ends with
//! its documented exit code and a diagnostic naming its line; runaway ones stop at the
//! limits; none crashes the process. Each file's first line says what to expect:
//! `// expect: exit CODE, line LINE, TEXT` (line 0: no location expected).

use crate::support::*;

struct Expectation {
    exit: i32,
    line: usize,
    text: String,
}

fn expectation(path: &std::path::Path) -> Expectation {
    let source = std::fs::read_to_string(path).unwrap();
    let header = source
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("// expect: "))
        .expect("an expect header");
    let mut parts = header.splitn(3, ", ");
    let exit = parts
        .next()
        .and_then(|p| p.strip_prefix("exit "))
        .unwrap()
        .parse()
        .unwrap();
    let line = parts
        .next()
        .and_then(|p| p.strip_prefix("line "))
        .unwrap()
        .parse()
        .unwrap();
    Expectation {
        exit,
        line,
        text: parts.next().unwrap_or("").to_string(),
    }
}

#[test]
fn every_bad_script_ends_with_its_exit_code_and_line() {
    let emu = emulator();
    let dir = format!("{}/tests/fixtures/bad_scripts", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus is there");
    for path in files {
        let expect = expectation(&path);
        let shown = path.display().to_string();
        let (code, _, err) = run(
            vizscript(&emu),
            &[
                "run",
                &shown,
                "--max-operations",
                "3000000",
                "--max-memory",
                "256",
            ],
        );
        assert_eq!(code, expect.exit, "{shown}: {err}");
        if expect.line > 0 {
            assert!(
                err.contains(&format!("{shown}:{}:", expect.line)),
                "{shown} names line {}: {err}",
                expect.line
            );
            assert!(
                err.contains(&expect.text),
                "{shown} says {:?}: {err}",
                expect.text
            );
            assert!(err.contains('^'), "{shown} shows a caret: {err}");
        }
        assert!(!err.contains("panicked"), "{shown}: {err}");
    }
}

#[test]
fn the_memory_limit_holds_inside_functions_that_build_large_text() {
    let emu = emulator();
    // 4,000 rows holding one 8 KiB string each share it; their text holds 4,000 copies.
    let rows = "let big = \"x\"; for i in 0..13 { big += big; }\n\
                let rows = []; for i in 0..4000 { rows.push(#{ id: i, note: big }); }\n";
    for call in [
        "print(to_json(rows).len());",
        "print(to_json(#{ rows: rows }).len());",
    ] {
        let (_dir, path) = script_file(&format!("{rows}{call}\n"));
        let (code, out, err) = run(vizscript(&emu), &["run", &path, "--max-memory", "16"]);
        assert_eq!(code, 1, "{call}: {err}");
        assert!(out.is_empty(), "{call}: {out}");
        assert!(
            err.contains("its memory grew past the limit") && err.contains(":3:"),
            "{call}: {err}"
        );
    }
    let (_dir, path) = script_file(&format!("{rows}print(to_json(rows).len());\n"));
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--max-memory", "64"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().parse::<usize>().unwrap() > 4000 * 8192, "{out}");
}
