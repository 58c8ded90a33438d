//! Text files the tool reads (scripts, data and config files, certificates): read as
//! editors write them, a byte order mark and all, and only up to a size that makes sense
//! for the file, so that a path such as `/dev/zero` is refused instead of filling memory.

use std::io::{self, Read};
use std::path::Path;

/// The most a config file or a certificate file may hold (16 MiB).
pub const SMALL: u64 = 16 << 20;

/// The bytes of `path`, refused past `limit` bytes.
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::other(format!(
            "the file is larger than {} MiB",
            limit >> 20
        )));
    }
    Ok(bytes)
}

/// The text of `path` (UTF-8), without the byte order mark some editors begin a file
/// with, refused past `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    let bytes = read(path, limit)?;
    let mut text = String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8 text"))?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_byte_order_mark_is_dropped_and_a_bottomless_file_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("script.rhai");
        std::fs::write(&path, "\u{feff}print(1);\n").unwrap();
        assert_eq!(read_text(&path, SMALL).unwrap(), "print(1);\n");
        let error = read_text(Path::new("/dev/zero"), SMALL).unwrap_err();
        assert!(error.to_string().contains("larger than 16 MiB"), "{error}");
    }
}
