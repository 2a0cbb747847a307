//! What the camera source remembers across connections and restarts, and the catch-up policy
//! it drives — both without libgphoto2, so they are unit-tested on their own:
//! - [`Ledger`]: `<spool>/.camera-ledger.log`, one fsync'd line per camera file fetched or seen
//!   (keyed by camera, path, size and time, because names repeat);
//! - [`plan_catch_up`]: after a (re)connect, which files the camera still holds are to be
//!   fetched, in which order, and which are old work to record as seen.

use std::collections::HashSet;
use std::path::Path;

use crate::TetherError;

/// A file the camera holds, as the catch-up lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    /// Seconds since 1970 by the camera's clock; 0 when the camera does not say.
    pub mtime: i64,
    pub folder: String,
    pub name: String,
    /// The ledger key (camera, path, size, time).
    pub key: String,
}

/// One step of a catch-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Old work on a camera seen for the first time: remembered, not downloaded.
    Seen(Listed),
    /// A frame a crash, a cable pull or a lost event left behind: downloaded.
    Fetch(Listed),
}

/// The catch-up after a (re)connect: files not in the ledger, in the order they were taken —
/// by the camera's clock, then by folder and name. Names alone are not enough: a camera's
/// numbering wraps (DSC_9999, then DSC_0001) or restarts, and a file left over from before
/// would then be given to a later student. The first time a camera is seen
/// (`first_time`), what it holds is old work: every file is [`Step::Seen`].
pub fn plan_catch_up(first_time: bool, mut files: Vec<Listed>, ledger: &Ledger) -> Vec<Step> {
    files.sort();
    files
        .into_iter()
        .filter(|f| !ledger.contains(&f.key))
        .map(|f| {
            if first_time {
                Step::Seen(f)
            } else {
                Step::Fetch(f)
            }
        })
        .collect()
}

/// What was fetched from or seen on each camera, one fsync'd line per file in
/// `<spool>/.camera-ledger.log`: `got|seen|camera <TAB> key`.
#[derive(Debug)]
pub struct Ledger {
    file: durable::AppendFile,
    path: std::path::PathBuf,
    handled: HashSet<String>,
    cameras: HashSet<String>,
}

const LEDGER: &str = ".camera-ledger.log";

impl Ledger {
    pub fn open(spool: &Path) -> Result<Ledger, TetherError> {
        let path = spool.join(LEDGER);
        let err = |source| TetherError::Spool {
            path: path.clone(),
            source,
        };
        let (file, bytes) = durable::AppendFile::open_lines(&path).map_err(err)?;
        let text = String::from_utf8_lossy(&bytes);
        let mut handled = HashSet::new();
        let mut cameras = HashSet::new();
        for line in text.lines() {
            match line.split_once('\t') {
                Some(("camera", name)) => {
                    cameras.insert(name.to_string());
                }
                Some((_, key)) => {
                    if let Some((camera, _)) = key.split_once('\t') {
                        cameras.insert(camera.to_string());
                    }
                    handled.insert(key.to_string());
                }
                None => {}
            }
        }
        Ok(Ledger {
            file,
            path,
            handled,
            cameras,
        })
    }

    pub fn knows_camera(&self, camera: &str) -> bool {
        self.cameras.contains(camera)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.handled.contains(key)
    }

    /// Appends and fsyncs one line (a few bytes; done inline), or leaves the file as it was.
    pub fn record(&mut self, what: &str, key: &str) -> Result<(), TetherError> {
        let line = format!("{what}\t{key}\n");
        self.file
            .append(line.as_bytes())
            .map_err(|source| TetherError::Spool {
                path: self.path.clone(),
                source,
            })?;
        if what == "camera" {
            self.cameras.insert(key.to_string());
        } else {
            if let Some((camera, _)) = key.split_once('\t') {
                self.cameras.insert(camera.to_string());
            }
            self.handled.insert(key.to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(mtime: i64, name: &str) -> Listed {
        Listed {
            mtime,
            folder: "/store_00010001/DCIM/100NIKON".into(),
            name: name.into(),
            key: format!("D750\t/store_00010001/DCIM/100NIKON/{name}\t1000\t{mtime}"),
        }
    }

    #[test]
    fn leftovers_are_fetched_in_the_order_they_were_taken_not_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path()).unwrap();
        ledger.record("camera", "D750").unwrap();
        let fetched = listed(100, "DSC_0014.JPG");
        ledger.record("got", &fetched.key).unwrap();
        // Before a restart: DSC_0014 (fetched) and DSC_0015 (not); after it the camera numbers
        // from DSC_0001 again.
        let files = vec![
            listed(300, "DSC_0002.JPG"),
            listed(200, "DSC_0001.JPG"),
            fetched,
            listed(110, "DSC_0015.JPG"),
        ];
        let names: Vec<String> = plan_catch_up(false, files, &ledger)
            .into_iter()
            .map(|s| match s {
                Step::Fetch(f) => f.name,
                Step::Seen(f) => panic!("{f:?} is not old work"),
            })
            .collect();
        assert_eq!(names, ["DSC_0015.JPG", "DSC_0001.JPG", "DSC_0002.JPG"]);
        // Within one second (the clock's resolution), by name.
        let same_second = vec![listed(5, "DSC_0008.JPG"), listed(5, "DSC_0007.JPG")];
        let plan = plan_catch_up(false, same_second, &ledger);
        assert!(matches!(&plan[0], Step::Fetch(f) if f.name == "DSC_0007.JPG"));
    }

    #[test]
    fn a_new_camera_holds_old_work_and_the_ledger_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path()).unwrap();
        assert!(!ledger.knows_camera("D750"));
        let plan = plan_catch_up(
            !ledger.knows_camera("D750"),
            vec![listed(1, "DSC_0001.JPG")],
            &ledger,
        );
        let [Step::Seen(old)] = &plan[..] else {
            panic!("{plan:?}")
        };
        ledger.record("seen", &old.key).unwrap();
        ledger.record("camera", "D750").unwrap();
        drop(ledger);
        let ledger = Ledger::open(dir.path()).unwrap();
        assert!(ledger.knows_camera("D750"));
        assert!(ledger.contains(&listed(1, "DSC_0001.JPG").key));
        // The same name with another size or time is another file.
        assert!(!ledger.contains(&listed(2, "DSC_0001.JPG").key));
        assert!(plan_catch_up(false, vec![listed(1, "DSC_0001.JPG")], &ledger).is_empty());
    }
}
