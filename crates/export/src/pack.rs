//! The zip the office imports: `<school>/<class>/{<class>.xlsx, photos}`.
//!
//! Deterministic: entries sorted by path (no folder entries: unzip tools create the folders),
//! one fixed timestamp, no
//! compression (JPEG and xlsx are compressed already), fixed permissions — the same content
//! gives the same bytes. Names are UTF-8 with the zip's UTF-8 flag by default, or GBK (no flag)
//! for old Windows unzip tools; a name GBK cannot hold is an error naming it.

use std::io::{Cursor, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// How entry names are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Names {
    Utf8,
    Gbk,
}

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{0}: GBK cannot hold this name; use --names utf8")]
    NotGbk(String),
    #[error(
        "{0}: its GBK bytes also read as UTF-8, so unzip tools would show another name; use --names utf8"
    )]
    AmbiguousGbk(String),
    #[error("{0}: the same path twice")]
    Duplicate(String),
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("zip: {0}")]
    Io(#[from] std::io::Error),
}

/// One file of the archive: its path inside (`<school>/<class>/<file>`) and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The zip and its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    pub zip: Vec<u8>,
    /// `sha256  path` per entry, then the zip's own line.
    pub manifest: String,
    pub sha256: String,
    /// A hash of the content (paths and bytes), independent of the name encoding: tells
    /// whether a school changed since it was submitted.
    pub content_hash: String,
}

/// Packs entries with a fixed timestamp `(year, month, day)`.
pub fn pack(
    mut entries: Vec<Entry>,
    names: Names,
    date: (u16, u8, u8),
    zip_name: &str,
) -> Result<Packed, PackError> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    for pair in entries.windows(2) {
        if pair[0].path == pair[1].path {
            return Err(PackError::Duplicate(pair[0].path.clone()));
        }
    }
    let time = DateTime::from_date_and_time(date.0, date.1, date.2, 0, 0, 0).unwrap_or_default();
    let file_options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(time)
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut manifest = String::new();
    let mut hashes = Vec::with_capacity(entries.len());
    for e in &entries {
        let raw = encode(&e.path, names)?;
        zip.start_file_with_options(file_options.name(&raw))?;
        zip.write_all(&e.bytes)?;
        let hash = format!("{:x}", Sha256::digest(&e.bytes));
        manifest.push_str(&format!("{hash}  {}\n", e.path));
        hashes.push((e.path.as_str(), hash));
    }
    let zip = zip.finish()?.into_inner();
    let sha256 = format!("{:x}", Sha256::digest(&zip));
    manifest.push_str(&format!("{sha256}  {zip_name}\n"));
    Ok(Packed {
        zip,
        manifest,
        sha256,
        content_hash: digest(&hashes),
    })
}

/// The content hash a pack of these entries would have (see [`Packed::content_hash`]),
/// without making the zip.
pub fn content_hash(entries: &[Entry]) -> String {
    let mut hashes: Vec<(&str, String)> = entries
        .iter()
        .map(|e| (e.path.as_str(), format!("{:x}", Sha256::digest(&e.bytes))))
        .collect();
    hashes.sort();
    digest(&hashes)
}

/// Hash of (path, file hash) pairs in path order.
fn digest(hashes: &[(&str, String)]) -> String {
    let mut content = Sha256::new();
    for (path, hash) in hashes {
        content.update(path.as_bytes());
        content.update([0]);
        content.update(hash.as_bytes());
        content.update([b'\n']);
    }
    format!("{:x}", content.finalize())
}

fn encode(name: &str, names: Names) -> Result<Vec<u8>, PackError> {
    match names {
        Names::Utf8 => Ok(name.as_bytes().to_vec()),
        Names::Gbk => {
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(name);
            if unmappable {
                return Err(PackError::NotGbk(name.to_string()));
            }
            // The zip crate flags a name as UTF-8 when its bytes are valid UTF-8; a GBK name
            // that happens to be valid UTF-8 would be shown as another name.
            if !bytes.is_ascii() && std::str::from_utf8(&bytes).is_ok() {
                return Err(PackError::AmbiguousGbk(name.to_string()));
            }
            Ok(bytes.into_owned())
        }
    }
}
