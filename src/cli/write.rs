//! Atomic output: a temporary file beside the target, renamed over it.

use std::fs::Permissions;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` so that readers see the old file or the whole new
/// one, never a part; on failure nothing is left behind.
pub fn atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renaming(path, bytes, None)
}

/// Replaces the contents of the existing file `path` atomically, as
/// [`atomically`] does, keeping its permissions; when `path` is a symbolic
/// link, the file it points to is replaced and the link stays.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let permissions = std::fs::metadata(&target)?.permissions();
    write_renaming(&target, bytes, Some(permissions))
}

fn write_renaming(
    path: &Path,
    bytes: &[u8],
    permissions: Option<Permissions>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
