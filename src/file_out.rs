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
/// only when everything was written and flushed. A new file gets the permissions any new
/// file of the user gets (a private one: its owner's only). Where no file can be made
/// beside the target (a directory the user may not write to, a sticky one like /tmp
/// holding another user's file), a named file is written in place, as before.
pub fn replace<E: From<io::Error>>(
    path: &Path,
    target: Target,
    write: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), E> {
    let place = match target {
        Target::Named => followed(path),
        Target::Private => path.into(),
    };
    let existing = std::fs::symlink_metadata(&place).ok();
    let special = existing.as_ref().is_some_and(|m| !m.is_file()) || is_device_path(path);
    if target == Target::Named && special {
        return in_place(&place, write);
    }
    // A file the user may not write to is not replaced either (a read-only file in a
    // directory the user may write to).
    if target == Target::Named && existing.is_some() {
        std::fs::OpenOptions::new().write(true).open(&place)?;
    }
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The user's umask applies, as to any file made with these permissions.
        let mode = match target {
            Target::Named => 0o666,
            Target::Private => 0o600,
        };
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let made = builder.tempfile_in(directory_of(&place));
    let mut temporary = match made {
        Ok(temporary) => temporary,
        Err(e) if target == Target::Named && e.kind() == io::ErrorKind::PermissionDenied => {
            return in_place(&place, write);
        }
        Err(e) => return Err(e.into()),
    };
    if let (Target::Named, Some(metadata)) = (target, &existing) {
        // The file stays as it was to others: its group, owner and permissions, in that
        // order (a member of the group may give it the group, only root the owner, and
        // a change of owner clears set-id bits). Best effort: some file systems (vfat)
        // keep none of them.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let file = temporary.as_file();
            let _ = std::os::unix::fs::fchown(file, None, Some(metadata.gid()));
            let _ = std::os::unix::fs::fchown(file, Some(metadata.uid()), None);
        }
        let _ = temporary.as_file().set_permissions(metadata.permissions());
    }
    let mut out = io::BufWriter::new(temporary.as_file_mut());
    write(&mut out)?;
    out.flush()?;
    drop(out);
    temporary.as_file().sync_all()?;
    match temporary.persist(&place) {
        Ok(_) => Ok(()),
        // A sticky directory lets no one rename over another user's file.
        Err(e) if target == Target::Named && e.error.kind() == io::ErrorKind::PermissionDenied => {
            in_place(&place, write_again(&e.file))
        }
        Err(e) => Err(e.error.into()),
    }
}

/// Write `place` as it is (truncated first), through `write`.
fn in_place<E: From<io::Error>>(
    place: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), E> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(place)?;
    let mut out = io::BufWriter::new(file);
    write(&mut out)?;
    Ok(out.flush()?)
}

/// A writer that copies what a temporary file holds (already written in full).
fn write_again<E: From<io::Error>>(
    temporary: &tempfile::NamedTempFile,
) -> impl FnOnce(&mut dyn Write) -> Result<(), E> + '_ {
    move |out| {
        let mut from = std::fs::File::open(temporary.path())?;
        io::copy(&mut from, out)?;
        Ok(())
    }
}

/// Where a named path leads: through links (a link to a file not made yet leads to where
/// that file will be), else the path itself.
fn followed(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    match std::fs::read_link(path) {
        Ok(target) if target.is_absolute() => target,
        Ok(target) => path.parent().unwrap_or(Path::new(".")).join(target),
        Err(_) => path.into(),
    }
}

/// Whether `path` names a device or a process's file (`/dev/stdout`, `/proc/self/fd/1`):
/// written as it is, never replaced (that would cut the process off from its output).
fn is_device_path(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
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

    /// A file replaced keeps its owner and group (root writing another user's file), and
    /// a file its user may not write to is refused, as writing it in place would be.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_replaced_file_keeps_its_owner_and_a_read_only_one_is_refused() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("theirs.json");
        std::fs::write(&path, "{}").unwrap();
        // SAFETY: `geteuid` only reads the calling process's user id.
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
            replace::<io::Error>(&path, Target::Named, |out| out.write_all(b"[]")).unwrap();
            let metadata = std::fs::metadata(&path).unwrap();
            assert_eq!((metadata.uid(), metadata.gid()), (65534, 65534));
        } else {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
            let refused = replace::<io::Error>(&path, Target::Named, |out| out.write_all(b"[]"));
            assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_the_permissions_of_any_new_file_and_a_dangling_link_its_target() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let plain = dir.path().join("plain.json");
        std::fs::File::create(&plain).unwrap();
        let made = dir.path().join("made.json");
        replace::<io::Error>(&made, Target::Named, |out| out.write_all(b"{}")).unwrap();
        assert_eq!(mode(&made), mode(&plain), "as the umask leaves a new file");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("not-yet.json", &link).unwrap();
        replace::<io::Error>(&link, Target::Named, |out| out.write_all(b"[]")).unwrap();
        let target = dir.path().join("not-yet.json");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "[]");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    }
}
