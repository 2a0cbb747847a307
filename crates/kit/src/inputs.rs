//! Turning paths (the command line's, the configuration's, a session's) into roster sources:
//! walks folders, reads files, hands the bytes to the pure `roster` crate.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::{Error, Result};

/// Extensions of files that can hold a roster.
/// Files a folder walk picks up. `.xlsb` is not read, but found and reported (save as .xlsx),
/// rather than skipped without a word.
pub const ROSTER_EXTENSIONS: [&str; 6] = ["xlsx", "xlsm", "xls", "ods", "csv", "xlsb"];

/// A roster file found on disk, with the names it is reported under.
#[derive(Debug)]
pub struct Found {
    pub path: PathBuf,
    /// Relative to the folder given on the command line, or as given for a file.
    pub display: String,
    /// Name of the folder that holds the file.
    pub folder: Option<String>,
}

fn is_roster_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // Skip Excel's lock files (~$名册.xlsx) and hidden files.
    if name.starts_with("~$") || name.starts_with('.') {
        return false;
    }
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| ROSTER_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

fn folder_name(path: &Path) -> Option<String> {
    let parent = path.parent()?;
    let parent = if parent.as_os_str().is_empty() {
        std::env::current_dir().ok()?
    } else {
        parent
            .canonicalize()
            .unwrap_or_else(|_| parent.to_path_buf())
    };
    parent.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Expands files and folders (recursively, in name order) into roster files.
pub fn find(paths: &[PathBuf]) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for arg in paths {
        let meta = std::fs::metadata(arg).map_err(|e| {
            Error::io(
                bilingual::Text::new(
                    format!("找不到文件或文件夹 {}", arg.display()),
                    format!("cannot open {}", arg.display()),
                ),
                e,
            )
        })?;
        if meta.is_dir() {
            let before = found.len();
            for entry in WalkDir::new(arg).sort_by_file_name() {
                let entry = entry.map_err(|e| Error::read(arg, std::io::Error::from(e)))?;
                if entry.file_type().is_file() && is_roster_file(entry.path()) {
                    let rel = entry.path().strip_prefix(arg).unwrap_or(entry.path());
                    let display = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    found.push(Found {
                        path: entry.path().to_path_buf(),
                        display,
                        folder: folder_name(entry.path()),
                    });
                }
            }
            if found.len() == before {
                return Err(Error::refused(
                    format!(
                        "文件夹 {} 中没有名册文件（.xlsx .xlsm .xls .ods .csv）",
                        arg.display()
                    ),
                    format!(
                        "no roster files (.xlsx .xlsm .xls .ods .csv) in {}",
                        arg.display()
                    ),
                ));
            }
        } else {
            found.push(Found {
                path: arg.clone(),
                display: arg.to_string_lossy().into_owned(),
                folder: folder_name(arg),
            });
        }
    }
    Ok(found)
}

/// Reads every file into a roster source.
pub fn read(found: &[Found]) -> Result<Vec<roster::Source>> {
    found
        .iter()
        .map(|f| {
            let bytes = std::fs::read(&f.path).map_err(|e| Error::read(&f.path, e))?;
            Ok(roster::Source {
                path: f.display.clone(),
                folder: f.folder.clone(),
                bytes,
            })
        })
        .collect()
}

/// Finds, reads and checks the rosters under `paths` (the steps every command that needs a
/// roster takes).
pub fn load(
    paths: &[PathBuf],
    as_of: chrono::NaiveDate,
    kindergarten_photos: bool,
) -> Result<roster::Roster> {
    let found = find(paths)?;
    let sources = read(&found)?;
    Ok(roster::load(
        &sources,
        &roster::Options {
            as_of,
            kindergarten_photos,
        },
    ))
}

/// A roster for a new session: loaded as of `as_of` (default today), with the files' absolute
/// paths, which the session remembers for "reload roster". Unreadable files are reported in
/// the roster's problems (the caller shows them).
pub fn load_for_session(
    paths: &[PathBuf],
    as_of: Option<chrono::NaiveDate>,
    kindergarten_photos: bool,
) -> Result<(roster::Roster, Vec<String>)> {
    let as_of = as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    let roster = load(paths, as_of, kindergarten_photos)?;
    let absolute = paths
        .iter()
        .map(|p| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    Ok((roster, absolute))
}
