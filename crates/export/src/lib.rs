//! What leaves the kit for the social-security office, as pure functions: the class sheet
//! (`sheet`), the check of a school's folder against its roster (`verify`), the zip (`pack`),
//! the submission schedule (`plan`) and printable lists (`print`). Callers read and write the
//! files; nothing here touches the disk or the clock.

pub mod pack;
pub mod plan;
pub mod print;
pub mod sheet;
pub mod verify;

pub use roster::Text;
