//! Test support shared by the tests of every crate (a dev-dependency only; never linked into
//! rollcall itself).
//!
//! - [`require`]: a test whose precondition is missing fails under `CI=true` and says why
//!   elsewhere; it never passes without having run.
//! - [`Tmpfs`]: a real, small file system (tmpfs) mounted for one test, to produce a full disk
//!   for real, and grown afterwards to "free space".
//! - [`id`], [`with_check_digit`]: valid 18-character ID numbers, computed independently of the
//!   roster crate.
//! - [`repo`], [`shared_fixtures`], [`pd_frames`]: where test data lives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// True under CI (`CI` set to anything but `false`/`0`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Checks a test's precondition. Missing under CI: the test fails with `why`. Missing
/// elsewhere: it says so on stderr and the caller returns early (`false`).
#[must_use]
pub fn require(present: bool, why: &str) -> bool {
    if present {
        return true;
    }
    assert!(!in_ci(), "precondition missing under CI: {why}");
    eprintln!("SKIPPED (not under CI): {why}");
    false
}

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/fixtures` beside the checkout, when it is there (CI always has it).
pub fn shared_fixtures() -> Option<PathBuf> {
    let dir = repo().join("../shared/fixtures");
    require(
        dir.join("truth.json").is_file(),
        "../shared/fixtures is not beside the checkout",
    )
    .then_some(dir)
}

/// The public-domain frames the repository ships.
pub fn pd_frames() -> PathBuf {
    repo().join("crates/pipeline/tests/data/pd/frames")
}

/// An 18-character ID number: the 17 digits given and their check digit (ISO 7064 MOD 11-2).
pub fn with_check_digit(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// The `n`-th valid ID of a Guangxi student born in 2015 (distinct for n < 1000).
pub fn id(n: u32) -> String {
    with_check_digit(&format!(
        "45048120150{:03}{:03}",
        101 + n / 1000 % 200,
        n % 1000
    ))
}

/// A tmpfs of a given size mounted on a fresh folder for one test; unmounted when dropped.
/// Needs root (CI runs as root): [`Tmpfs::mount`] returns `None` elsewhere, after
/// [`require`] (so under CI a missing mount fails the test).
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
    mounted: bool,
}

impl Tmpfs {
    /// Mounts `kib` KiB of tmpfs.
    pub fn mount(kib: u64) -> Option<Tmpfs> {
        let root = nix::unistd::geteuid().is_root();
        if !require(root, "mounting a tmpfs needs root (CI runs as root)") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={kib}k,mode=0755"))
            .arg("tmpfs")
            .arg(dir.path())
            .status();
        let mounted = status.is_ok_and(|s| s.success());
        if !require(mounted, "mount -t tmpfs failed (no CAP_SYS_ADMIN?)") {
            return None;
        }
        Some(Tmpfs { dir, mounted })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Grows (or shrinks) the file system: "space was freed".
    pub fn resize(&self, kib: u64) {
        let status = Command::new("mount")
            .args(["-o"])
            .arg(format!("remount,size={kib}k"))
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount tmpfs");
    }

    /// Fills the file system with one file until a write fails; returns the file (remove it to
    /// free the space).
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.path().join("ballast");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0x55u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        // Whatever fits of a smaller block, so not even a short line is left.
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
        while f.write_all(&small[..1]).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_valid_check_digits() {
        // 11010519491231002X is the standard's own example.
        assert_eq!(with_check_digit("11010519491231002"), "11010519491231002X");
        assert_ne!(id(1), id(2));
        assert_eq!(id(7).len(), 18);
    }
}
