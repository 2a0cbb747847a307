#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `rollcall tether` against libgphoto2's own virtual camera (built by scripts/build-vcamera):
//! the real binary, the real libgphoto2, a photographer pressing the shutter (a file in
//! VCAMERA_PRESSES) and pulling the cable (VCAMERA_UNPLUG). The virtual camera lives inside the
//! rollcall process, so every test runs its own process.
