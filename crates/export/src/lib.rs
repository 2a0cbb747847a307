//! What leaves the kit for the social-security office, as pure functions: the class sheet
//! (`sheet`), the check of a school's folder against its roster (`verify`), the zip (`pack`),
//! the submission schedule (`plan`) and printable lists (`print`). Callers read and write the
//! files; nothing here touches the disk or the clock.

pub mod pack;
pub mod plan;
pub mod print;
pub mod sheet;
pub mod verify;

/// A message in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }
}
