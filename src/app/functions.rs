//! `vizscript functions`: the script reference from the engine's metadata.

use super::failure::Failure;
use crate::cli::FunctionsArgs;
use crate::script::{functions as all_functions, markdown};

/// Print every script function with its signature and doc.
pub fn functions(args: &FunctionsArgs) -> Result<(), Failure> {
    let text = if args.markdown {
        markdown()
    } else if args.json {
        serde_json::to_string_pretty(&all_functions()).unwrap_or_default() + "\n"
    } else {
        let mut text = String::new();
        for f in all_functions() {
            text.push_str(&f.signature);
            text.push('\n');
            for line in f.doc.lines() {
                text.push_str(format!("    {line}").trim_end());
                text.push('\n');
            }
            text.push('\n');
        }
        text
    };
    crate::stdout::write(text.as_bytes());
    Ok(())
}
