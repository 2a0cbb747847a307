//! The demo's bundled material: public-domain frames the demo camera shoots (the daemon's
//! `source = "demo"`) and the demo roster.

use std::sync::Arc;

use tether::demo::DemoFrame;

/// The public-domain frames (US federal government portraits, see
/// crates/pipeline/tests/data/pd/README.md), in the order the demo shoots them.
pub const FRAMES: [(&str, &[u8]); 9] = [
    (
        "IMG_1007.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1007.JPG"),
    ),
    (
        "IMG_1014.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1014.JPG"),
    ),
    // A grey wall: fails `background_white`; the next frame is the retake.
    (
        "IMG_1028.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1028.JPG"),
    ),
    (
        "IMG_1021.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1021.JPG"),
    ),
    // A tilted head: fails `roll`.
    (
        "IMG_1042.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1042.JPG"),
    ),
    (
        "IMG_1007.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1007.JPG"),
    ),
    (
        "IMG_1014.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1014.JPG"),
    ),
    (
        "IMG_1021.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1021.JPG"),
    ),
    // A face too small and off-centre: fails, and the student stays on the make-up list.
    (
        "IMG_1049.JPG",
        include_bytes!("../../pipeline/tests/data/pd/frames/IMG_1049.JPG"),
    ),
];

/// The demo roster (one class; row 6 has a 15-digit ID, the last row no 序号).
pub const ROSTER: (&str, &[u8]) = (
    "梧州市示例中学/初一(1)班.csv",
    include_bytes!("../../../demo/rosters/梧州市示例中学/初一(1)班.csv"),
);

/// The bundled frames, in shooting order.
pub fn frames() -> Vec<DemoFrame> {
    FRAMES
        .iter()
        .map(|(name, bytes)| DemoFrame {
            name: (*name).to_string(),
            bytes: Arc::from(*bytes),
        })
        .collect()
}
