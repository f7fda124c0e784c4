//! Output that cannot destroy: files replaced atomically through a temporary
//! file made exclusively beside them, devices and pipes written through, and
//! every write to standard output checked.
//!
//! One function decides what a path is and how to write it, for every command
//! (`compile -o`, `fmt`):
//!
//! - a symbolic link is followed to the file it names, and that file is
//!   replaced; the link stays;
//! - a regular file is replaced atomically: the bytes go to a temporary file
//!   created with `O_EXCL` (so a link planted at its name is never followed) in
//!   the same directory, which is synced, given the old file's mode and owner
//!   and renamed over it; on failure it is removed and the old file is whole;
//! - a regular file with more than one hard link is refused: a rename would
//!   leave its other names with the old contents;
//! - standard output named as a path (`/dev/stdout`, `/proc/self/fd/1`, or any
//!   path to the file standard output is) is written as standard output;
//! - a character device or a FIFO (`/dev/null`, a named pipe) is opened and
//!   written through, never replaced;
//! - a directory, a socket or anything else is refused;
//! - a path that does not exist is created as a new file, with the mode a new
//!   file gets (0666 less the umask).

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why output was not written. Nothing was replaced.
#[derive(Debug)]
pub enum OutputError {
    /// The path is a directory, a socket or another thing that is not written.
    NotWritable { path: PathBuf, what: &'static str },
    /// A regular file with several names.
    HardLinked { path: PathBuf, links: u64 },
    /// The operating system refused a step.
    Io {
        path: PathBuf,
        step: &'static str,
        error: std::io::Error,
    },
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputError::NotWritable { path, what } => {
                write!(f, "cannot write {}: it is {what}", path.display())
            }
            OutputError::HardLinked { path, links } => write!(
                f,
                "cannot write {}: it has {links} hard links, and replacing it would leave \
                 the other names with the old contents (write to a file with one name)",
                path.display()
            ),
            OutputError::Io { path, step, error } => {
                write!(
                    f,
                    "cannot write {}: could not {step}: {error}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for OutputError {}

/// Writes `bytes` to `path` as the module documentation says.
pub fn output(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let io = |step: &'static str| {
        let path = path.to_path_buf();
        move |error| OutputError::Io { path, step, error }
    };
    // `metadata` follows symbolic links: this is what the path names.
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => Some(metadata),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                // A link to nothing: following it would create a file
                // wherever it points.
                return Err(OutputError::NotWritable {
                    path: path.to_path_buf(),
                    what: "a symbolic link to a file that does not exist",
                });
            }
            None
        }
        Err(error) => return Err(io("read what is there")(error)),
    };
    let Some(metadata) = metadata else {
        return replace_file(path, bytes, None, RANDOM_CHARS);
    };
    if is_standard_output(&metadata) {
        return stdout(bytes).map_err(io("write to standard output"));
    }
    let kind = metadata.file_type();
    if kind.is_file() {
        if metadata.nlink() > 1 {
            return Err(OutputError::HardLinked {
                path: path.to_path_buf(),
                links: metadata.nlink(),
            });
        }
        let target = std::fs::canonicalize(path).map_err(io("follow the path"))?;
        return replace_file(&target, bytes, Some(&metadata), RANDOM_CHARS);
    }
    if kind.is_char_device() || kind.is_fifo() {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io("open"))?;
        return file.write_all(bytes).map_err(io("write"));
    }
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    };
    Err(OutputError::NotWritable {
        path: path.to_path_buf(),
        what,
    })
}

/// Writes `bytes` to standard output and flushes it; any failure (a closed
/// pipe, a full disk, `/dev/full`) is returned, never ignored.
pub fn stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// True when `metadata` is of the file standard output is open on.
fn is_standard_output(metadata: &std::fs::Metadata) -> bool {
    std::fs::metadata("/proc/self/fd/1")
        .or_else(|_| std::fs::metadata("/dev/stdout"))
        .is_ok_and(|out| out.dev() == metadata.dev() && out.ino() == metadata.ino())
}

/// Random characters in a temporary file's name (`.NAME.XXXXXXXX.tmp`).
const RANDOM_CHARS: usize = 8;

/// Replaces (or creates) the regular file `path` through a temporary file
/// beside it, named with `random_chars` random letters and digits; `old` is the file being replaced, whose mode and owner the new
/// one keeps.
fn replace_file(
    path: &Path,
    bytes: &[u8],
    old: Option<&std::fs::Metadata>,
    random_chars: usize,
) -> Result<(), OutputError> {
    let io = |step: &'static str| {
        let path = path.to_path_buf();
        move |error| OutputError::Io { path, step, error }
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| OutputError::NotWritable {
        path: path.to_path_buf(),
        what: "not a file name",
    })?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    // Created with O_EXCL under a random name. A new file gets 0666 less the
    // umask, as a shell's `>` gives it; a file being replaced is copied at
    // 0600 (its owner only) until it has the old file's owner and mode.
    let mode = if old.is_some() { 0o600 } else { 0o666 };
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .rand_bytes(random_chars)
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(io("create a temporary file beside it"))?;
    temp.write_all(bytes).map_err(io("write"))?;
    if let Some(old) = old {
        let file = temp.as_file();
        if std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid())).is_err() {
            // Only root may give a file away; another user keeps owning
            // what it writes, as with any editor.
            std::os::unix::fs::fchown(file, None, Some(old.gid())).ok();
        }
        file.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))
            .map_err(io("keep the mode"))?;
    }
    temp.as_file().sync_all().map_err(io("sync"))?;
    temp.persist(path)
        .map_err(|e| io("rename the temporary file over it")(e.error))?;
    // The rename is durable once the directory is.
    if let Ok(dir) = std::fs::File::open(dir) {
        dir.sync_all().ok();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_file_is_created_with_the_umask_mode_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.nft");
        output(&path, b"table\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"table\n");
        let umask = {
            // The mode a plain create gets here, for comparison.
            let probe = dir.path().join("probe");
            std::fs::File::create(&probe).unwrap();
            let mode = std::fs::metadata(&probe).unwrap().mode() & 0o777;
            std::fs::remove_file(&probe).unwrap();
            mode
        };
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, umask);
        assert_eq!(entries(dir.path()), ["out.nft"]);
    }

    #[test]
    fn an_existing_file_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.nft");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        output(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o7777, 0o600);
    }

    #[test]
    fn an_existing_file_keeps_its_owner_when_root_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.nft");
        std::fs::write(&path, b"old").unwrap();
        if std::os::unix::fs::chown(&path, Some(65534), Some(65534)).is_err() {
            // Not root: a file cannot be given away, so there is nothing to keep.
            return;
        }
        output(&path, b"new").unwrap();
        let metadata = std::fs::metadata(&path).unwrap();
        assert_eq!((metadata.uid(), metadata.gid()), (65534, 65534));
    }

    #[test]
    fn a_symbolic_link_is_followed_and_stays() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.nft");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.nft");
        symlink(&target, &link).unwrap();
        output(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(entries(dir.path()), ["link.nft", "real.nft"]);
    }

    #[test]
    fn a_dangling_link_a_directory_and_a_hard_linked_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dangling = dir.path().join("dangling");
        symlink(dir.path().join("nowhere"), &dangling).unwrap();
        let error = output(&dangling, b"x").unwrap_err();
        assert!(matches!(error, OutputError::NotWritable { .. }), "{error}");
        assert!(!dir.path().join("nowhere").exists());

        let error = output(dir.path(), b"x").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("cannot write {}: it is a directory", dir.path().display())
        );

        let first = dir.path().join("first");
        std::fs::write(&first, b"old").unwrap();
        std::fs::hard_link(&first, dir.path().join("second")).unwrap();
        let error = output(&first, b"new").unwrap_err();
        assert!(
            matches!(error, OutputError::HardLinked { links: 2, .. }),
            "{error}"
        );
        assert_eq!(std::fs::read(&first).unwrap(), b"old");
    }

    #[test]
    fn a_fifo_is_written_through_not_replaced() {
        // A FIFO of our own stands for devices and pipes: the host's /dev is
        // never a test target.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        output(&fifo, b"table\n").unwrap();
        assert_eq!(reader.join().unwrap(), b"table\n");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(entries(dir.path()), ["pipe"]);
    }

    #[test]
    fn a_link_planted_at_a_temporary_name_is_never_followed() {
        // With one random character, every name a temporary file can take
        // is `.out.nft.C.tmp` for C a letter or digit: plant a link at each.
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let names: Vec<String> = ('a'..='z')
            .chain('A'..='Z')
            .chain('0'..='9')
            .map(|c| format!(".out.nft.{c}.tmp"))
            .collect();
        for name in &names {
            symlink(&victim, dir.path().join(name)).unwrap();
        }
        let path = dir.path().join("out.nft");
        let every_name_taken = replace_file(&path, b"table\n", None, 1);
        assert!(
            matches!(
                every_name_taken,
                Err(OutputError::Io {
                    step: "create a temporary file beside it",
                    ..
                })
            ),
            "{every_name_taken:?}"
        );
        assert!(!path.exists());
        // One name free: that one is used, and no link is followed.
        std::fs::remove_file(dir.path().join(&names[0])).unwrap();
        for _ in 0..3 {
            replace_file(&path, b"table\n", None, 1).unwrap();
            std::fs::remove_file(dir.path().join(&names[0])).ok();
        }
        assert_eq!(std::fs::read(&path).unwrap(), b"table\n");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        for name in &names[1..] {
            let planted = std::fs::symlink_metadata(dir.path().join(name)).unwrap();
            assert!(planted.file_type().is_symlink(), "{name} is left as it was");
        }
    }
}
