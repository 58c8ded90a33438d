//! Text files the tool reads (scripts, data and config files, certificates): read as
//! editors write them, a byte order mark and all, and only up to a size that makes sense
//! for the file, so that a path such as `/dev/zero` is refused instead of filling memory.

use std::io::{self, Read};
use std::path::Path;

/// The most a config file or a certificate file may hold (16 MiB).
pub const SMALL: u64 = 16 << 20;

/// The bytes of `path` (a PEM file, say) without the UTF-8 byte order mark some editors
/// begin a file with, refused past `limit` bytes.
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
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    Ok(bytes)
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// The text of `path` (UTF-8), without the byte order mark some editors begin a file
/// with, refused past `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8 text"))
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
