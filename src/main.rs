//! The `vizscript` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    vizscript::app::main().into()
}
