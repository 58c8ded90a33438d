//! The `vizscript` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(vizscript::app::main().clamp(0, 255) as u8)
}
