//! File-name rules shared by every folder rollcall watches: the spool, a memory card, another
//! tethering program's folder. One list each, compared without regard to case.

/// Endings of files still being written, or left by editors and browsers: never frames.
pub const TEMPORARY_SUFFIXES: [&str; 7] = [
    ".part",
    ".tmp",
    ".temp",
    ".partial",
    ".crdownload",
    ".download",
    "~",
];

/// RAW formats of the camera makers (Canon, Nikon, Sony, Fujifilm, Olympus, Panasonic, Pentax,
/// Samsung, Sigma, Hasselblad, Leica, Phase One, Epson, Kodak, Minolta) and DNG.
pub const RAW_EXTENSIONS: [&str; 21] = [
    "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "dng", "raf", "orf", "rw2", "pef",
    "srw", "x3f", "3fr", "rwl", "iiq", "erf", "kdc", "mrw",
];

/// True for names that are never frames: hidden files and the temporaries above.
pub fn is_temporary(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.') || TEMPORARY_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// True for a RAW file's extension (without the dot, any case).
pub fn is_raw_extension(ext: &str) -> bool {
    let lower = ext.to_ascii_lowercase();
    RAW_EXTENSIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_and_raws_in_any_case() {
        for name in [
            "a.jpg.part",
            ".hidden.jpg",
            "x.TMP",
            "a.JPG.crdownload",
            "b.jpg~",
        ] {
            assert!(is_temporary(name), "{name}");
        }
        for name in [
            "DSC_0001.JPG",
            "20261129T101010.000Z-000001-cam.jpg",
            "a.cr2",
        ] {
            assert!(!is_temporary(name), "{name}");
        }
        assert!(is_raw_extension("NEF") && is_raw_extension("cr3") && !is_raw_extension("jpg"));
    }
}
