//! Problems found in rosters: stable codes, severities and messages in Chinese and English.
//!
//! A code never changes meaning once released; scripts and the school's problems sheet rely on
//! it. Messages are written for the bank team and the school, and say what to do.

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The row needs a human fix before a photo can be filed for it (or the file is unreadable).
    Error,
    /// Reported; the (normalised) value is used and a photo can be filed.
    Warning,
    /// For the record: corrections, additions, skipped sheets, look-alike names.
    Info,
}

pub use bilingual::{Lang, Text};

/// Stable problem codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    // Files and sheets.
    FileEmpty,
    FileEncrypted,
    FileNotSpreadsheet,
    FileHtmlOrText,
    FileCorrupt,
    FileEncoding,
    FileTooLarge,
    FileUnsupported,
    FileNoHeader,
    SheetSkipped,
    // ID numbers.
    IdEmpty,
    IdNumericCell,
    IdSpace,
    IdFullwidth,
    IdLowercaseX,
    IdLength,
    IdInvalidChar,
    IdRegion,
    IdDate,
    IdFuture,
    IdAge,
    IdChecksum,
    // Names.
    NameEmpty,
    NameTrim,
    NameSpace,
    NameDotVariant,
    NameInvalidChar,
    NameOutsideGbk,
    NameTooLong,
    FolderNameTooLong,
    // Across columns and rows.
    GenderMismatch,
    DuplicateIdInSchool,
    DuplicateIdAcrossSchools,
    SameNameInClass,
    Correction,
    Addition,
}

impl Code {
    /// Every code, in the order of the documentation (`docs/roster-checks.md`).
    pub const ALL: [Code; 36] = [
        Code::FileEmpty,
        Code::FileEncrypted,
        Code::FileNotSpreadsheet,
        Code::FileHtmlOrText,
        Code::FileCorrupt,
        Code::FileEncoding,
        Code::FileTooLarge,
        Code::FileUnsupported,
        Code::FileNoHeader,
        Code::SheetSkipped,
        Code::IdEmpty,
        Code::IdNumericCell,
        Code::IdSpace,
        Code::IdFullwidth,
        Code::IdLowercaseX,
        Code::IdLength,
        Code::IdInvalidChar,
        Code::IdRegion,
        Code::IdDate,
        Code::IdFuture,
        Code::IdAge,
        Code::IdChecksum,
        Code::NameEmpty,
        Code::NameTrim,
        Code::NameSpace,
        Code::NameDotVariant,
        Code::NameInvalidChar,
        Code::NameOutsideGbk,
        Code::NameTooLong,
        Code::FolderNameTooLong,
        Code::GenderMismatch,
        Code::DuplicateIdInSchool,
        Code::DuplicateIdAcrossSchools,
        Code::SameNameInClass,
        Code::Correction,
        Code::Addition,
    ];

    /// The code as written in reports (`id_checksum`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::FileEmpty => "file_empty",
            Code::FileEncrypted => "file_encrypted",
            Code::FileNotSpreadsheet => "file_not_spreadsheet",
            Code::FileHtmlOrText => "file_html_or_text",
            Code::FileCorrupt => "file_corrupt",
            Code::FileEncoding => "file_encoding",
            Code::FileTooLarge => "file_too_large",
            Code::FileUnsupported => "file_unsupported",
            Code::FileNoHeader => "file_no_header",
            Code::SheetSkipped => "sheet_skipped",
            Code::IdEmpty => "id_empty",
            Code::IdNumericCell => "id_numeric_cell",
            Code::IdSpace => "id_space",
            Code::IdFullwidth => "id_fullwidth",
            Code::IdLowercaseX => "id_lowercase_x",
            Code::IdLength => "id_length",
            Code::IdInvalidChar => "id_invalid_char",
            Code::IdRegion => "id_region",
            Code::IdDate => "id_date",
            Code::IdFuture => "id_future",
            Code::IdAge => "id_age",
            Code::IdChecksum => "id_checksum",
            Code::NameEmpty => "name_empty",
            Code::NameTrim => "name_trim",
            Code::NameSpace => "name_space",
            Code::NameDotVariant => "name_dot_variant",
            Code::NameInvalidChar => "name_invalid_char",
            Code::NameOutsideGbk => "name_outside_gbk",
            Code::NameTooLong => "name_too_long",
            Code::FolderNameTooLong => "folder_name_too_long",
            Code::GenderMismatch => "gender_mismatch",
            Code::DuplicateIdInSchool => "duplicate_id_in_school",
            Code::DuplicateIdAcrossSchools => "duplicate_id_across_schools",
            Code::SameNameInClass => "same_name_in_class",
            Code::Correction => "correction",
            Code::Addition => "addition",
        }
    }

    /// The severity every problem of this code has.
    pub fn severity(self) -> Severity {
        match self {
            c if c.is_fixable() => Severity::Warning,
            Code::NameOutsideGbk => Severity::Warning,
            Code::SheetSkipped | Code::SameNameInClass | Code::Correction | Code::Addition => {
                Severity::Info
            }
            _ => Severity::Error,
        }
    }

    /// True for codes whose value rollcall normalises by itself (the report says what it used).
    pub fn is_fixable(self) -> bool {
        matches!(
            self,
            Code::IdSpace
                | Code::IdFullwidth
                | Code::IdLowercaseX
                | Code::NameTrim
                | Code::NameSpace
                | Code::NameDotVariant
        )
    }
}

/// Where a problem is: the file always; sheet, row and column when they apply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file as the user named it (relative to the folder given on the command line).
    pub file: String,
    pub sheet: Option<String>,
    /// 1-based row number as Excel shows it (CSV: line number).
    pub row: Option<u32>,
    /// Column letter (`F`).
    pub column: Option<String>,
    /// The column's header text, to show next to the letter.
    pub header: Option<String>,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub location: Location,
    /// The cell's value as the file shows it, when the problem is about one cell.
    pub value: Option<String>,
    /// The value rollcall uses instead, for fixable problems.
    pub fixed: Option<String>,
    pub message: Text,
    /// What to do, when there is more to say than the message.
    pub suggestion: Option<Text>,
}

impl Problem {
    pub fn new(code: Code, location: Location, message: Text) -> Problem {
        Problem {
            code,
            location,
            value: None,
            fixed: None,
            message,
            suggestion: None,
        }
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn with_value(mut self, value: impl Into<String>) -> Problem {
        self.value = Some(value.into());
        self
    }

    pub fn with_fixed(mut self, fixed: impl Into<String>) -> Problem {
        self.fixed = Some(fixed.into());
        self
    }

    pub fn with_suggestion(mut self, suggestion: Text) -> Problem {
        self.suggestion = Some(suggestion);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code is documented with its severity, so the table the team reads stays true.
    #[test]
    fn every_code_is_documented() {
        let doc = include_str!("../../../docs/roster-checks.md");
        for code in Code::ALL {
            let severity = match code.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let row = doc
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", code.as_str())))
                .unwrap_or_else(|| panic!("{} is not in docs/roster-checks.md", code.as_str()));
            assert!(row.contains(&format!("| {severity} |")), "{row}");
        }
        let serialized: Vec<String> = Code::ALL
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(serialized, names);
    }
}
