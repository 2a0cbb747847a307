//! The file primitives every write of rollcall goes through, in one place so that each rule
//! holds everywhere:
//!
//! - folders are created owner-only (0700) and files owner-only (0600), whatever the umask:
//!   the data folder holds minors' ID numbers;
//! - [`write_atomic`]: a file appears whole or not at all (temporary name, fsync, rename,
//!   fsync of the folder), and a failed write leaves no temporary behind;
//! - [`AppendFile`]: a line appended in full and fsync'd, or the file cut back to exactly what
//!   it was (a full disk never leaves half a line that the next append would be glued to);
//! - [`read_regular`]: reads only a regular file and never follows a symlink in the last
//!   component, so a link planted in the spool or the data folder cannot make rollcall serve or
//!   store another file;
//! - [`free_space`] and [`is_disk_full`]: what the disk-space watch and the error messages need;
//! - [`names`]: which file names are never frames (temporaries, hidden files) and which are RAW,
//!   for every folder rollcall watches (the spool, a card, a tether program's folder).
//!
//! Nothing here knows what a journal or a roster is.

pub mod names;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Permissions of every file rollcall creates.
pub const FILE_MODE: u32 = 0o600;
/// Permissions of every folder rollcall creates.
pub const DIR_MODE: u32 = 0o700;

/// Creates a folder (and its parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Makes a folder's entries (a rename, a new or removed file) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `path` for writing, owner-only, failing if it exists.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Writes a file so that it appears whole or not at all: a temporary name in the same folder
/// (owner-only), fsync, rename over the target, fsync the folder. On any failure the temporary
/// file is removed and the target is as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("no parent folder"))?;
    create_private_dir(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("no file name"))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    // A temporary left by a crash is ours to replace.
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let written = create_new(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Moves a file within one file system (one atomic rename), creating the target folder owner-only
/// and making both folders durable. An emptied source folder is removed.
pub fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    if let Some(dir) = to.parent() {
        create_private_dir(dir)?;
        fs::rename(from, to)?;
        sync_dir(dir)?;
    }
    if let Some(dir) = from.parent() {
        sync_dir(dir)?;
        // Leaves no empty folders behind; a folder with files stays.
        let _ = fs::remove_dir(dir);
    }
    Ok(())
}

/// A file that only grows by whole appends: each [`AppendFile::append`] is written and fsync'd
/// in full, or the file is cut back to the length it had before, so a failed append (a full
/// disk) leaves the file exactly as it was.
#[derive(Debug)]
pub struct AppendFile {
    file: File,
    path: PathBuf,
    /// Bytes known to be in the file, whole.
    len: u64,
}

impl AppendFile {
    /// Opens (creating it owner-only) a file for appending; the caller has checked its content
    /// and says how much of it is good (`len`): anything after is cut off now.
    pub fn open(path: &Path) -> io::Result<(AppendFile, Vec<u8>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(FILE_MODE)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let len = bytes.len() as u64;
        Ok((
            AppendFile {
                file,
                path: path.to_path_buf(),
                len,
            },
            bytes,
        ))
    }

    /// [`AppendFile::open`] for a file of lines: a torn last line (a crash while writing it) is
    /// cut off, so the next line starts on a line of its own. Returns the whole lines' bytes.
    pub fn open_lines(path: &Path) -> io::Result<(AppendFile, Vec<u8>)> {
        let (mut file, mut bytes) = AppendFile::open(path)?;
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if whole < bytes.len() {
            file.truncate(whole as u64)?;
            bytes.truncate(whole);
        }
        Ok((file, bytes))
    }

    /// Opens an existing file for appending (not creating it), with its content.
    pub fn open_existing(path: &Path) -> io::Result<(AppendFile, Vec<u8>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let len = bytes.len() as u64;
        Ok((
            AppendFile {
                file,
                path: path.to_path_buf(),
                len,
            },
            bytes,
        ))
    }

    /// Cuts the file to its first `len` bytes (a torn tail found on opening) and makes that
    /// durable.
    pub fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)?;
        self.file.sync_all()?;
        self.len = len;
        Ok(())
    }

    /// Appends `bytes` and fsyncs them; on failure the file is cut back to what it was.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let written = self
            .file
            .write_all(bytes)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Cutting back needs no space. If even that fails, the next open finds a torn
            // last line and cuts it then; later appends are refused until it succeeds.
            if self.file.set_len(self.len).is_ok() {
                let _ = self.file.sync_all();
            }
            return Err(e);
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// The length of the file's whole content.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &File {
        &self.file
    }
}

/// What [`read_regular`] found instead of a regular file.
pub fn not_regular(path: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} is {what}, not a regular file", path.display()),
    )
}

/// Reads a regular file, never through a symlink (in the last component) and never from a
/// FIFO or device: opening does not block and the type is checked on the open file.
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens a regular file for reading under the rules of [`read_regular`].
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(nix::libc::ELOOP) {
                not_regular(path, "a symbolic link")
            } else {
                e
            }
        })?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(not_regular(path, "a folder or a special file"));
    }
    Ok(file)
}

/// Bytes available to an unprivileged user on the file system holding `path`.
pub fn free_space(path: &Path) -> io::Result<u64> {
    let stat = nix::sys::statvfs::statvfs(path).map_err(io::Error::from)?;
    Ok(stat.blocks_available().saturating_mul(stat.fragment_size()))
}

/// True when an error means the disk (or the user's quota) is full.
pub fn is_disk_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull
        || e.kind() == io::ErrorKind::QuotaExceeded
        || matches!(
            e.raw_os_error(),
            Some(nix::libc::ENOSPC) | Some(nix::libc::EDQUOT)
        )
}

/// Megabytes, rounded down, for messages.
pub fn megabytes(bytes: u64) -> u64 {
    bytes / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_and_folders_are_owner_only_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/token");
        write_atomic(&file, b"secret").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        // Replacing keeps the mode and leaves no temporary.
        write_atomic(&file, b"other").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"other");
        assert_eq!(fs::read_dir(dir.path().join("a/b")).unwrap().count(), 1);
    }

    #[test]
    fn symlinks_and_special_files_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("secret");
        fs::write(&target, b"x").unwrap();
        let link = dir.path().join("link.jpg");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = read_regular(&link).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let fifo = dir.path().join("fifo.jpg");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = read_regular(&fifo).unwrap_err();
        assert!(e.to_string().contains("special file"), "{e}");
        assert_eq!(read_regular(&target).unwrap(), b"x");
    }

    #[test]
    fn a_torn_last_line_is_cut_when_a_file_of_lines_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.log");
        fs::write(&path, b"one\ntw").unwrap();
        let (mut f, bytes) = AppendFile::open_lines(&path).unwrap();
        assert_eq!(bytes, b"one\n");
        f.append(b"two\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one\ntwo\n");
    }

    #[test]
    fn free_space_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_space(dir.path()).unwrap() > 0);
    }
}
