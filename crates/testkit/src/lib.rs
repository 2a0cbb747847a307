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
//! - [`Postgres`]: a throw-away PostgreSQL cluster (initdb + pg_ctl in a temporary folder, a
//!   unix socket only), run as `nobody` when the tests run as root (postgres refuses root).
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

/// A valid student name for number `n`: 学生 and the number in Chinese digits (a name never
/// holds ASCII digits).
pub fn name(n: u32) -> String {
    let digits: String = n
        .to_string()
        .bytes()
        .map(|d| {
            ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'][usize::from(d - b'0')]
        })
        .collect();
    format!("学生{digits}")
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

/// A throw-away PostgreSQL server for one test: its own cluster in a temporary folder,
/// listening on a unix socket only (no port is opened), `fsync` off. Stopped and removed when
/// dropped. Needs the distribution's PostgreSQL (`scripts/setup` installs it).
#[derive(Debug)]
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// As whom the server runs (`nobody` under root).
    uid: Option<(u32, u32)>,
}

impl Postgres {
    /// The folder of `initdb` and `pg_ctl`: PATH first, then Debian's /usr/lib/postgresql/N/bin
    /// (the newest).
    fn bin() -> Option<PathBuf> {
        if let Ok(path) = std::env::var("PATH") {
            for d in std::env::split_paths(&path) {
                if d.join("initdb").is_file() && d.join("pg_ctl").is_file() {
                    return Some(d);
                }
            }
        }
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((v, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, b)| b)
    }

    fn command(&self, program: &str) -> Command {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.uid {
            c.uid(uid).gid(gid);
        }
        c.env_remove("PGDATA").env("LC_ALL", "C.UTF-8");
        c
    }

    /// Starts a new cluster; `None` (after [`require`]) when PostgreSQL is not installed.
    pub fn start() -> Option<Postgres> {
        let bin = Postgres::bin();
        if !require(
            bin.is_some(),
            "PostgreSQL (initdb, pg_ctl) is not installed: run scripts/setup",
        ) {
            return None;
        }
        let bin = bin.unwrap();
        let dir = tempfile::Builder::new()
            .prefix("rollcall-pg")
            .tempdir()
            .unwrap();
        let uid = nix::unistd::geteuid().is_root().then(|| {
            let nobody = nix::unistd::User::from_name("nobody")
                .unwrap()
                .expect("user nobody");
            (nobody.uid.as_raw(), nobody.gid.as_raw())
        });
        if let Some((u, g)) = uid {
            std::os::unix::fs::chown(dir.path(), Some(u), Some(g)).unwrap();
        }
        let pg = Postgres { dir, bin, uid };
        let out = pg
            .command("initdb")
            .arg("-D")
            .arg(pg.data())
            .args([
                "-U",
                "rollcall",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.pg_ctl_start();
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.dir.path().display()
        );
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "60", "-o", &options, "-l"])
            .arg(self.dir.path().join("log"))
            .arg("start")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    /// The connection string of database `postgres` (tokio-postgres's key=value form).
    pub fn url(&self) -> String {
        format!(
            "host={} user=rollcall dbname=postgres",
            self.dir.path().display()
        )
    }

    /// Stops the server (fast mode); [`Postgres::restart`] starts it again.
    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "stop"])
            .output();
    }

    pub fn restart(&self) {
        self.pg_ctl_start();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
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

/// Hostile spreadsheets, generated (small files that would cost gigabytes to read naively).
pub mod hostile {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;

    /// An `.xlsx` with two cells: A1 and XFD1048576 (a used range of 17 billion cells).
    pub fn xlsx_far_corner() -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "姓名").unwrap();
        ws.write_string(1_048_575, 16_383, "x").unwrap();
        wb.save_to_buffer().unwrap()
    }

    fn zip_of(entries: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, stored) in entries {
            let options = if *stored {
                SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
            } else {
                SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .compression_level(Some(9))
            };
            out.start_file(*name, options).unwrap();
            out.write_all(bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    const SHEET: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#;

    /// An `.xlsx` whose `sharedStrings.xml` inflates to `mib` MiB (from a few hundred KB),
    /// written in chunks so making it costs no memory.
    pub fn xlsx_shared_strings_bomb(mib: usize) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9));
        for (name, text) in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/worksheets/sheet1.xml", SHEET),
        ] {
            out.start_file(name, options).unwrap();
            out.write_all(text.as_bytes()).unwrap();
        }
        out.start_file("xl/sharedStrings.xml", options.large_file(true))
            .unwrap();
        out.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#)
            .unwrap();
        let chunk = "<si><t>赵</t></si>".repeat(1024 * 1024 / 18);
        for _ in 0..mib {
            out.write_all(chunk.as_bytes()).unwrap();
        }
        out.write_all(b"</sst>").unwrap();
        out.finish().unwrap().into_inner()
    }

    /// An `.xlsb`-shaped zip (a binary workbook part).
    pub fn xlsb() -> Vec<u8> {
        zip_of(&[
            ("[Content_Types].xml", CONTENT_TYPES.into(), false),
            ("xl/workbook.bin", vec![0x83, 0x01, 0x00], false),
        ])
    }

    fn ods(content: &str, manifest: &str) -> Vec<u8> {
        zip_of(&[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
                true,
            ),
            ("META-INF/manifest.xml", manifest.into(), false),
            ("content.xml", content.into(), false),
        ])
    }

    const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;

    /// An `.ods` whose one row of 16,384 filled cells is repeated a million times.
    pub fn ods_repeat_bomb() -> Vec<u8> {
        let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>赵</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
        ods(content, MANIFEST)
    }

    /// An `.ods` saved with a password (its manifest carries encryption data).
    pub fn ods_encrypted() -> Vec<u8> {
        let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="1234"><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/><manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:iteration-count="1024" manifest:salt="x"/></manifest:encryption-data></manifest:file-entry></manifest:manifest>"#;
        ods("\u{1}\u{2}encrypted", manifest)
    }

    fn biff(kind: u16, body: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&(body.len() as u16).to_le_bytes());
        out.extend_from_slice(body);
    }

    /// An `.xls` (BIFF8 in a compound file) whose sheet has a number at A1 and one at
    /// IV65536: calamine would allocate the whole 16.7-million-cell grid.
    pub fn xls_far_corner() -> Vec<u8> {
        let mut stream = Vec::new();
        // Workbook globals: BOF, BOUNDSHEET (offset patched below), EOF.
        let bof = [0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        biff(0x0809, &bof, &mut stream);
        let boundsheet_at = stream.len();
        let mut sheet = vec![0u8; 4]; // stream position, patched
        sheet.extend_from_slice(&[0, 0, 6, 0]); // visible worksheet, name length 6, compressed
        sheet.extend_from_slice(b"Sheet1");
        biff(0x0085, &sheet, &mut stream);
        biff(0x000A, &[], &mut stream);
        let sheet_at = stream.len() as u32;
        stream[boundsheet_at + 4..boundsheet_at + 8].copy_from_slice(&sheet_at.to_le_bytes());
        let bof_sheet = [0x00, 0x06, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        biff(0x0809, &bof_sheet, &mut stream);
        let number = |row: u16, col: u16, out: &mut Vec<u8>| {
            let mut body = Vec::new();
            body.extend_from_slice(&row.to_le_bytes());
            body.extend_from_slice(&col.to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            body.extend_from_slice(&1.0f64.to_le_bytes());
            biff(0x0203, &body, out);
        };
        number(0, 0, &mut stream);
        number(65_535, 255, &mut stream);
        biff(0x000A, &[], &mut stream);
        let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        file.create_stream("/Workbook")
            .unwrap()
            .write_all(&stream)
            .unwrap();
        file.flush().unwrap();
        file.into_inner().into_inner()
    }

    /// An Excel 4.0 worksheet (BIFF4: a bare BOF record, no compound file).
    pub fn biff4() -> Vec<u8> {
        let mut out = Vec::new();
        biff(0x0409, &[0x00, 0x00, 0x10, 0x00, 0x00, 0x00], &mut out);
        biff(0x000A, &[], &mut out);
        out
    }
}
