//! Atomic placement of verified files.
//!
//! The download is written to a temp file created in the destination's directory (so the final rename
//! stays on one file system). Only after verification passes is it fsynced, given its mode and renamed
//! over the destination; on any failure the temp file is removed when [`Staged`] is dropped and the
//! destination is untouched.

use crate::report::{Code, Reason};
use std::fs::{self, File};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

/// Checks that `dest` can be replaced safely and returns its directory. A symlink, a directory, or a
/// destination whose directory does not exist is refused.
pub fn check_destination(dest: &Path) -> Result<PathBuf, Reason> {
    check_destination_of(dest, "--dest")
}

/// [`check_destination`] for a destination the user gave with `option` (named in the hints).
fn check_destination_of(dest: &Path, option: &str) -> Result<PathBuf, Reason> {
    let unsafe_dest = |why: String| {
        Reason::new(
            Code::UnsafeDestination,
            format!("destination {}: {why}", dest.display()),
        )
    };
    match fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(
                unsafe_dest("is a symlink; refusing to replace it".into()).hint(format!(
                    "pass the real path with {option}, or remove the symlink first"
                )),
            )
        }
        Ok(m) if m.is_dir() => {
            return Err(unsafe_dest("is a directory".into())
                .hint(format!("pass a file path with {option}")))
        }
        Ok(m) if !m.is_file() => return Err(unsafe_dest("is not a regular file".into())),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(unsafe_dest(format!("cannot inspect it: {e}"))),
    }
    let name_ok = dest.file_name().is_some();
    if !name_ok {
        return Err(unsafe_dest("has no file name".into()));
    }
    if dest.as_os_str().to_string_lossy().ends_with('/') {
        return Err(unsafe_dest("ends with `/`, which names a directory".into())
            .hint(format!("pass a file path with {option}")));
    }
    let dir = match dest.parent() {
        Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    match fs::metadata(&dir) {
        Ok(m) if m.is_dir() => Ok(dir),
        Ok(_) => Err(unsafe_dest(format!("{} is not a directory", dir.display()))),
        Err(e) => Err(unsafe_dest(format!(
            "its directory {} cannot be used: {e}",
            dir.display()
        ))
        .hint("create the directory first")),
    }
}

/// A temp file in the destination directory receiving the download.
pub struct Staged {
    file: tempfile::NamedTempFile,
}

impl Staged {
    pub fn new_in(dir: &Path, name: &str) -> Result<Self, Reason> {
        // At most 64 bytes of the name (whole characters): the temp name adds about 25 to it.
        let mut end = name.len().min(64);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let name = &name[..end];
        let file = tempfile::Builder::new()
            .prefix(&format!(".{name}.shipcheck-"))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| {
                Reason::new(
                    Code::InstallFailed,
                    format!("cannot create a temp file in {}: {e}", dir.display()),
                )
                .hint("check that the destination directory is writable")
            })?;
        Ok(Staged { file })
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.as_file_mut().write_all(data)
    }

    /// Empties the file for a restarted download.
    pub fn reset(&mut self) -> io::Result<()> {
        let f = self.file.as_file_mut();
        f.set_len(0)?;
        f.rewind()?;
        Ok(())
    }

    /// Syncs, sets `mode`, and renames over `dest` (after checking again that `dest` is not a symlink
    /// or directory). The directory is synced so the rename survives a crash.
    pub fn commit(self, dest: &Path, mode: u32) -> Result<(), Reason> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            Reason::new(
                Code::InstallFailed,
                format!("installing {} failed while {what}: {e}", dest.display()),
            )
        };
        let f: &File = self.file.as_file();
        f.sync_all().map_err(|e| fail("syncing the file", &e))?;
        set_mode(f, mode).map_err(|e| fail("setting its mode", &e))?;
        let dir = check_destination(dest)?;
        self.file
            .persist(dest)
            .map_err(|e| fail("renaming it into place", &e.error))?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Places `bytes` at `dest` the one safe way: refuses a symlink or directory destination, writes a
/// temp file beside it, syncs it, gives it `mode` and renames it over `dest` (see [`Staged`]). For
/// files shipcheck writes whole, such as a pinned task definition; `option` is how the user named
/// `dest` (for hints).
pub fn write_file(dest: &Path, option: &str, bytes: &[u8], mode: u32) -> Result<(), Reason> {
    let dir = check_destination_of(dest, option)?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut staged = Staged::new_in(&dir, &name)?;
    staged.write(bytes).map_err(|e| {
        Reason::new(
            Code::InstallFailed,
            format!("cannot write {}: {e}", dest.display()),
        )
    })?;
    staged.commit(dest, mode)
}

#[cfg(unix)]
fn set_mode(f: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_f: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_symlink_and_directory() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("real");
        fs::write(&target, b"x").unwrap();
        let link = d.path().join("link");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, &link).unwrap();
        #[cfg(unix)]
        assert_eq!(
            check_destination(&link).unwrap_err().code,
            Code::UnsafeDestination
        );
        assert_eq!(
            check_destination(d.path()).unwrap_err().code,
            Code::UnsafeDestination
        );
        assert_eq!(
            check_destination(&d.path().join("nodir/x"))
                .unwrap_err()
                .code,
            Code::UnsafeDestination
        );
        assert!(check_destination(&target).is_ok());
    }

    #[test]
    fn commit_replaces_and_drop_removes() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("tool");
        fs::write(&dest, b"old").unwrap();
        let mut s = Staged::new_in(d.path(), "tool").unwrap();
        s.write(b"partial").unwrap();
        drop(s);
        assert_eq!(fs::read(&dest).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(d.path()).unwrap().count(),
            1,
            "temp file left behind"
        );
        let mut s = Staged::new_in(d.path(), "tool").unwrap();
        s.write(b"garbage").unwrap();
        s.reset().unwrap();
        s.write(b"new").unwrap();
        s.commit(&dest, 0o755).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
                0o755
            );
        }
    }
}
