//! A gateway's state on this host, for `apply`: the root-only directory it is
//! kept in, the lock that lets one apply at a time change a gateway, and the
//! saved table a rollback puts back.
//!
//! The directory is `/run/bmcwall` (`BMCWALL_RUN_DIR` to move it). It is
//! created mode 0700 and must stay a directory of this user that no one else
//! may write or read: the saved tables are the gateway's firewall. `/run` is
//! a memory file system, so the state does not outlive a reboot, and neither
//! does the kernel's ruleset it belongs to.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the state lives unless `BMCWALL_RUN_DIR` says otherwise.
const RUN_DIR: &str = "/run/bmcwall";

/// Why the gateway's state could not be used. Nothing was changed.
#[derive(Debug)]
pub enum GatewayError {
    /// The state directory is not safe to keep the saved table in.
    Unsafe { path: PathBuf, why: String },
    /// A file operation failed.
    Io {
        path: PathBuf,
        step: &'static str,
        error: std::io::Error,
    },
    /// Another apply (or its rollback watchdog) holds the gateway.
    Busy {
        gateway: String,
        holder: String,
        waited: Duration,
    },
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatewayError::Unsafe { path, why } => write!(
                f,
                "refusing to keep the saved table in {}: {why}",
                path.display()
            ),
            GatewayError::Io { path, step, error } => {
                write!(f, "cannot {step} {}: {error}", path.display())
            }
            GatewayError::Busy {
                gateway,
                holder,
                waited,
            } => {
                let holder = if holder.is_empty() {
                    "another bmcwall".to_string()
                } else {
                    holder.clone()
                };
                if waited.is_zero() {
                    write!(
                        f,
                        "{gateway} is being changed by {holder}; try again when it is done, \
                         or wait for it with --lock-timeout SECONDS"
                    )
                } else {
                    write!(
                        f,
                        "{gateway} is still being changed by {holder} after {} s of waiting",
                        waited.as_secs()
                    )
                }
            }
        }
    }
}

impl std::error::Error for GatewayError {}

/// The state directory, checked.
pub struct StateDir {
    path: PathBuf,
}

impl StateDir {
    /// Opens (and creates, mode 0700) the state directory, refusing one that
    /// is a link, not a directory, not this user's, or open to others.
    pub fn open() -> Result<StateDir, GatewayError> {
        let path = std::env::var_os("BMCWALL_RUN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(RUN_DIR));
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return Err(GatewayError::Io {
                    path,
                    step: "create",
                    error,
                })
            }
        }
        let metadata = std::fs::symlink_metadata(&path).map_err(|error| GatewayError::Io {
            path: path.clone(),
            step: "inspect",
            error,
        })?;
        let unsafe_because = |why: &str| GatewayError::Unsafe {
            path: path.clone(),
            why: why.to_string(),
        };
        if metadata.file_type().is_symlink() {
            return Err(unsafe_because("it is a symbolic link"));
        }
        if !metadata.is_dir() {
            return Err(unsafe_because("it is not a directory"));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if metadata.uid() != me {
            return Err(unsafe_because(&format!(
                "it belongs to user {}, not {me}",
                metadata.uid()
            )));
        }
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(unsafe_because(&format!(
                "its mode is {:04o}; others must not have access (chmod 0700)",
                metadata.permissions().mode() & 0o7777
            )));
        }
        Ok(StateDir { path })
    }

    fn file(&self, gateway: &Gateway, ending: &str) -> PathBuf {
        self.path.join(format!("{}.{ending}", gateway.file_stem))
    }

    /// The file of this apply's own for `kind` of table:
    /// `GATEWAY.TABLE.PID.KIND.nft` (`restore` for the saved table as a
    /// ruleset that puts it back, `new` for the table being loaded).
    pub fn path(&self, gateway: &Gateway, table: &str, kind: &str) -> PathBuf {
        self.file(
            gateway,
            &format!("{table}.{}.{kind}.nft", std::process::id()),
        )
    }

    /// What the last apply of a ruleset file left on the gateway: the
    /// SHA-256 of the ruleset and the fingerprint of the table it loaded,
    /// `None` when there is no record.
    pub fn applied(&self, gateway: &Gateway, table: &str) -> Option<(String, String)> {
        let text = std::fs::read_to_string(self.file(gateway, &format!("{table}.applied"))).ok()?;
        let (ruleset, live) = text.trim().split_once(' ')?;
        Some((ruleset.to_string(), live.to_string()))
    }

    /// Records that the ruleset with SHA-256 `ruleset` is loaded as the
    /// table with fingerprint `live`, replacing the record before.
    pub fn record_applied(&self, gateway: &Gateway, table: &str, ruleset: &str, live: &str) {
        let path = self.file(gateway, &format!("{table}.applied"));
        let new = self.file(gateway, &format!("{table}.{}.applied", std::process::id()));
        let _ = std::fs::remove_file(&new);
        if self.write(&new, &format!("{ruleset} {live}\n")).is_ok() {
            let _ = std::fs::rename(&new, &path);
        }
    }

    /// Writes `ruleset` to `path`, a new root-only file: one already there
    /// is never overwritten.
    pub fn write(&self, path: &Path, ruleset: &str) -> Result<(), GatewayError> {
        let io = |step, error| GatewayError::Io {
            path: path.to_path_buf(),
            step,
            error,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| io("create", e))?;
        file.write_all(ruleset.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io("write", e))
    }

    /// Removes the new tables an apply of `gateway` killed halfway left
    /// behind; called under the gateway's lock, when no other apply of it
    /// can be using one. Saved tables stay: one may be the only copy of a
    /// table a rollback could not restore.
    pub fn sweep(&self, gateway: &Gateway) {
        let Ok(entries) = std::fs::read_dir(&self.path) else {
            return;
        };
        let stem = format!("{}.", gateway.file_stem);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // `STEM.TABLE.PID.new.nft`: table names hold no dot, so a
            // gateway whose name extends this one's (`a` and `a.b`) is
            // never taken for it.
            let ours = name
                .strip_prefix(&stem)
                .and_then(|rest| rest.strip_suffix(".new.nft"))
                .and_then(|rest| rest.split_once('.'))
                .is_some_and(|(table, pid)| {
                    !table.is_empty()
                        && !table.contains('.')
                        && !pid.is_empty()
                        && pid.bytes().all(|b| b.is_ascii_digit())
                });
            if ours {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The log of what rollback watchdogs did, one line per outcome.
    pub fn log(&self) -> PathBuf {
        self.path.join("rollback.log")
    }
}

/// One gateway: this host or a named network namespace.
pub struct Gateway {
    /// For messages: "network namespace NS" or "this host".
    pub place: String,
    file_stem: String,
}

impl Gateway {
    pub fn new(netns: Option<&str>, place: String) -> Gateway {
        let file_stem = match netns {
            // `ip netns` names cannot hold `/`; anything odd is replaced all
            // the same, so a name never leaves the directory.
            Some(ns) => format!(
                "netns-{}",
                ns.replace(
                    |c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)),
                    "_"
                )
            ),
            None => "host".into(),
        };
        Gateway { place, file_stem }
    }
}

/// The gateway's lock: an exclusive `flock` on its lock file, held by the
/// apply and, through the inherited descriptor, by its rollback watchdog, so
/// that it is free only when both are done.
pub struct Lock {
    file: File,
}

impl Lock {
    /// Takes the lock, waiting up to `timeout` for another holder to finish.
    pub fn acquire(
        dir: &StateDir,
        gateway: &Gateway,
        timeout: Duration,
    ) -> Result<Lock, GatewayError> {
        let path = dir.file(gateway, "lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|error| GatewayError::Io {
                path: path.clone(),
                step: "open",
                error,
            })?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Lock { file }),
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(GatewayError::Busy {
                        gateway: gateway.place.clone(),
                        holder: Lock::holder(&file),
                        waited: timeout,
                    })
                }
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(GatewayError::Io {
                        path,
                        step: "lock",
                        error,
                    })
                }
            }
        }
    }

    /// The lock held by a rollback watchdog, from the descriptor its apply
    /// passed on.
    pub fn inherited(file: File) -> Lock {
        Lock { file }
    }

    /// Who holds the lock, as its holder wrote it.
    fn holder(mut file: &File) -> String {
        let mut text = String::new();
        let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
        text.trim().to_string()
    }

    /// Writes who holds the lock now, for the message of an apply that finds
    /// it taken.
    pub fn note(&self, holder: &str) {
        let mut file = &self.file;
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(holder.as_bytes()));
    }

    /// The descriptor, for a watchdog to inherit.
    pub fn file(&self) -> &File {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::{Gateway, Lock, StateDir};
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    fn in_dir(dir: &std::path::Path) -> StateDir {
        StateDir {
            path: dir.to_path_buf(),
        }
    }

    #[test]
    fn a_second_lock_on_one_gateway_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let state = in_dir(dir.path());
        let gateway = Gateway::new(Some("gw1"), "network namespace gw1".into());
        let first = Lock::acquire(&state, &gateway, Duration::ZERO).expect("first lock");
        first.note("apply of site.wall (pid 42)");
        let error = Lock::acquire(&state, &gateway, Duration::from_millis(250))
            .err()
            .expect("refused");
        assert_eq!(
            error.to_string(),
            "network namespace gw1 is still being changed by apply of site.wall (pid 42) \
             after 0 s of waiting"
        );
        let other = Gateway::new(Some("gw2"), "network namespace gw2".into());
        assert!(Lock::acquire(&state, &other, Duration::ZERO).is_ok());
        drop(first);
        assert!(Lock::acquire(&state, &gateway, Duration::ZERO).is_ok());
    }

    #[test]
    fn a_namespace_name_never_leaves_the_directory() {
        let gateway = Gateway::new(Some("../../etc/x"), String::new());
        assert_eq!(gateway.file_stem, "netns-.._.._etc_x");
    }

    #[test]
    fn saved_tables_are_private_and_never_overwrite_a_file() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let state = in_dir(dir.path());
        let gateway = Gateway::new(None, "this host".into());
        let path = state.path(&gateway, "bmcwall", "restore");
        state
            .write(&path, "table inet bmcwall {}\n")
            .expect("saved");
        let mode = std::fs::metadata(&path).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(state.write(&path, "again").is_err());
        assert_eq!(
            std::fs::read_to_string(&path).expect("saved"),
            "table inet bmcwall {}\n"
        );
        // A sweep removes the new tables of one gateway, nothing else.
        let a = Gateway::new(Some("a"), "network namespace a".into());
        let longer = Gateway::new(Some("a.b"), "network namespace a.b".into());
        let (new, other, saved) = (
            state.path(&a, "bmcwall", "new"),
            state.path(&longer, "bmcwall", "new"),
            state.path(&a, "bmcwall", "restore"),
        );
        for file in [&new, &other, &saved] {
            state
                .write(file, "table inet bmcwall {}\n")
                .expect("written");
        }
        state.sweep(&a);
        assert!(!new.exists());
        assert!(path.exists() && other.exists() && saved.exists());
    }

    #[test]
    fn a_state_directory_open_to_others_or_a_link_is_refused() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let open = dir.path().join("open");
        std::fs::create_dir(&open).expect("directory");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&open, &link).expect("link");
        // The variable is read by this process only; tests that use it run here.
        for (path, why) in [
            (
                &open,
                "its mode is 0755; others must not have access (chmod 0700)",
            ),
            (&link, "it is a symbolic link"),
        ] {
            let error = with_run_dir(path, StateDir::open).err().expect("refused");
            assert_eq!(
                error.to_string(),
                format!(
                    "refusing to keep the saved table in {}: {why}",
                    path.display()
                )
            );
        }
        let fresh = dir.path().join("fresh");
        assert!(with_run_dir(&fresh, StateDir::open).is_ok());
        let mode = std::fs::metadata(&fresh)
            .expect("made")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    /// Runs `f` with `BMCWALL_RUN_DIR` set to `path`, one test at a time.
    fn with_run_dir<T>(path: &std::path::Path, f: impl FnOnce() -> T) -> T {
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the mutex keeps other tests of this module from reading or
        // writing the environment meanwhile, and no other code reads it.
        unsafe { std::env::set_var("BMCWALL_RUN_DIR", path) };
        let result = f();
        unsafe { std::env::remove_var("BMCWALL_RUN_DIR") };
        result
    }
}
