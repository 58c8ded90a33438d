//! Files the tool writes whole (snapshots, plans, saved scripts and sessions, `save_json`):
//! written into a new file beside their place, then renamed over it, so a write that fails
//! half-way (a full disk) leaves the file that was there as it was.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How [`replace`] treats the path it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A file the user named: a link is followed (the file it points to is replaced), an
    /// existing file keeps its permissions, and something that is not a regular file
    /// (`/dev/stdout`, a pipe) is written to as it is.
    Named,
    /// A private file of the tool's own (a saved session): a link at its place is replaced
    /// by the file, never followed, and the file is readable by its owner only.
    Private,
}

/// Write `path` through `write`, which gets a buffered writer; the file takes its place
/// only when everything was written and flushed. A new file is readable by its owner only.
pub fn replace<E: From<io::Error>>(
    path: &Path,
    target: Target,
    write: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), E> {
    let place = match target {
        Target::Named => std::fs::canonicalize(path).unwrap_or_else(|_| path.into()),
        Target::Private => path.into(),
    };
    let existing = std::fs::symlink_metadata(&place).ok();
    if target == Target::Named && existing.as_ref().is_some_and(|m| !m.is_file()) {
        let mut out = io::BufWriter::new(std::fs::OpenOptions::new().write(true).open(&place)?);
        write(&mut out)?;
        return Ok(out.flush()?);
    }
    let mut temporary = tempfile::NamedTempFile::new_in(directory_of(&place))?;
    if let (Target::Named, Some(metadata)) = (target, &existing) {
        temporary
            .as_file()
            .set_permissions(metadata.permissions())?;
    }
    let mut out = io::BufWriter::new(temporary.as_file_mut());
    write(&mut out)?;
    out.flush()?;
    drop(out);
    temporary.as_file().sync_all()?;
    temporary.persist(&place).map_err(|e| e.error)?;
    Ok(())
}

/// The directory a file is in (`.` for a bare name).
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.into(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_file_that_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.json");
        std::fs::write(&path, "the old snapshot\n").unwrap();
        let failed: io::Result<()> = replace(&path, Target::Named, |out| {
            out.write_all(b"{\"half\": ")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "the old snapshot\n"
        );
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        replace::<io::Error>(&path, Target::Named, |out| out.write_all(b"new\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_link_is_followed_and_a_private_one_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.rhai");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.rhai");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        replace::<io::Error>(&link, Target::Named, |out| out.write_all(b"named")).unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "named");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o640,
            "an existing file keeps its permissions"
        );
        replace::<io::Error>(&link, Target::Private, |out| out.write_all(b"mine")).unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "named");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        let mode = std::fs::metadata(&link).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
