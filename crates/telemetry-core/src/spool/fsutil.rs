//! Private files and directories: created 0700/0600, existing world-readable ones refused.

use super::error::SpoolError;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Refuses `path` when it exists and others can read it.
pub(super) fn check_private(path: &Path) -> Result<(), SpoolError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o004 != 0 {
                return Err(SpoolError::WorldReadable {
                    path: path.to_owned(),
                    mode,
                });
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Creates `dir` (mode 0700) or checks an existing one is not world-readable.
pub(super) fn private_dir(dir: &Path) -> Result<(), SpoolError> {
    if dir.is_dir() {
        return check_private(dir);
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| SpoolError::Io {
        path: dir.to_owned(),
        action: "create directory",
        source,
    })
}

/// Creates a new file with mode 0600 for appending (fails if it exists).
pub(super) fn create_private(path: &Path) -> Result<File, SpoolError> {
    let mut options = OpenOptions::new();
    options.create_new(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|source| SpoolError::Io {
        path: path.to_owned(),
        action: "create",
        source,
    })
}

/// Writes `bytes` to `path` through a 0600 temporary file, fsync and rename.
pub(super) fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), SpoolError> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let io = |action: &'static str| {
        let p = tmp.clone();
        move |source| SpoolError::Io {
            path: p,
            action,
            source,
        }
    };
    let mut file = create_private(&tmp)?;
    file.write_all(bytes).map_err(io("write"))?;
    file.sync_all().map_err(io("sync"))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io("rename"))?;
    sync_dir(path.parent());
    Ok(())
}

/// Makes renames in `dir` durable where the platform allows it.
pub(super) fn sync_dir(dir: Option<&Path>) {
    if let Some(d) = dir
        && let Ok(f) = File::open(d)
    {
        let _ = f.sync_all();
    }
}

/// Deletes `path`; one already gone counts as deleted.
pub(super) fn remove(path: &Path) -> Result<(), SpoolError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SpoolError::Io {
            path: path.to_owned(),
            action: "remove",
            source,
        }),
    }
}
