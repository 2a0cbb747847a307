//! The primitives on a real full file system (a small tmpfs; needs root, as CI has).

use std::fs;

use durable::{AppendFile, is_disk_full, write_atomic};

#[test]
fn a_failed_append_on_a_full_disk_leaves_the_file_exactly_as_it_was() {
    let Some(fs_) = testkit::Tmpfs::mount(256) else {
        return;
    };
    let path = fs_.path().join("journal.jsonl");
    let (mut log, _) = AppendFile::open(&path).unwrap();
    log.append(b"{\"seq\":1}\n").unwrap();
    let before = fs::read(&path).unwrap();
    let ballast = fs_.fill();
    // A line longer than any slack the file system may still have.
    let line = vec![b'x'; 16 * 1024];
    let mut failures = 0;
    for _ in 0..20 {
        match log.append(&line) {
            Ok(()) => panic!("an append succeeded on a full disk"),
            Err(e) => {
                assert!(is_disk_full(&e), "{e}");
                failures += 1;
            }
        }
        assert_eq!(fs::read(&path).unwrap(), before, "the file changed");
    }
    assert_eq!(failures, 20);
    // The same for a whole-file write: the old file stays, no temporary is left.
    let photo = fs_.path().join("photo.jpg");
    assert!(write_atomic(&photo, &vec![1u8; 64 * 1024]).is_err());
    assert!(!photo.exists());
    assert!(!fs_.path().join(".photo.jpg.tmp").exists());

    fs::remove_file(ballast).unwrap();
    log.append(b"{\"seq\":2}\n").unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "{\"seq\":1}\n{\"seq\":2}\n",
        "the next append after space was freed follows the last good line"
    );
}
