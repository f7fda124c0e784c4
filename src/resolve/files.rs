//! Reading the files a policy names: bounded reads of regular files only,
//! an editor's open buffer in place of the file it stands for, and the words
//! for what went wrong. Below every reader (the policy's includes, the
//! inventories, what is read ahead).

use crate::source::{normalize, Open, SourceMap};
use std::path::{Path, PathBuf};

/// A policy file's text: its open buffer when an editor holds one, else
/// the file.
pub(super) fn read(sources: &SourceMap, path: &Path) -> std::io::Result<String> {
    read_open(&sources.open_buffers(), path)
}

/// A file's text: its buffer in `open` when an editor holds one, else the
/// file.
pub(super) fn read_open(open: &Open, path: &Path) -> std::io::Result<String> {
    match open_text(open, path) {
        Some(text) => Ok(text),
        None => read_text(path),
    }
}

/// The text of the editor's buffer for the file at `path`, if it holds one.
pub(crate) fn open_text(open: &Open, path: &Path) -> Option<String> {
    open.get(&canonical(path)).cloned()
}

/// The most bytes bmcwall reads from one file (a policy, an included file,
/// an inventory): 64 MiB.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The text of the regular file at `path`, read as [`read_bytes`] reads it;
/// one that is not UTF-8 is an error naming the first byte that is not, by
/// line and column.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text: the byte at {line}:{column} (offset {}) is not UTF-8",
                valid.len()
            ),
        )
    })
}

/// The bytes of the regular file at `path`, read whole but bounded:
/// anything else (a FIFO, a device, a directory) is an error, never a wait
/// or an endless read, and so is a file over [`MAX_FILE_BYTES`].
pub fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    use std::os::unix::fs::OpenOptionsExt;
    // Opening a FIFO for reading waits for a writer, unless non-blocking.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        let what = if metadata.is_dir() {
            "a directory"
        } else {
            use std::os::unix::fs::FileTypeExt;
            let kind = metadata.file_type();
            if kind.is_fifo() {
                "a FIFO"
            } else if kind.is_socket() {
                "a socket"
            } else {
                "a device"
            }
        };
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what}, not a regular file"),
        ));
    }
    let too_large = || {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "larger than the limit of {} MiB a file may have",
                MAX_FILE_BYTES >> 20
            ),
        )
    };
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

pub(super) fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
}

pub(super) fn error_text(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
}
