//! The roster as the rest of rollcall sees it: schools, classes, students, problems.

use serde::Serialize;

use crate::header::Columns;
use crate::id::{AgeRange, Gender};
use crate::problem::{Problem, Severity};
use crate::read::Format;

/// The kind of school, from its name. Decides the plausible ages and whether photos are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SchoolKind {
    Kindergarten,
    Primary,
    Middle,
    College,
    Other,
}

impl SchoolKind {
    /// Infers the kind from the school's name (`…幼儿园`, `…小学`, `…中学`, `…学院`).
    pub fn from_name(name: &str) -> SchoolKind {
        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
        if has(&["幼儿园", "幼稚园", "托儿所"]) {
            SchoolKind::Kindergarten
        } else if has(&["小学"]) {
            SchoolKind::Primary
        } else if has(&["中学", "初中", "高中", "初级中学", "高级中学"]) {
            SchoolKind::Middle
        } else if has(&["大学", "学院", "技校", "技工", "中专", "职校", "职业技术"])
        {
            SchoolKind::College
        } else {
            SchoolKind::Other
        }
    }

    /// Plausible ages (whole years at the roster date).
    pub fn ages(self) -> AgeRange {
        let (min, max) = match self {
            SchoolKind::Kindergarten => (2, 7),
            SchoolKind::Primary => (5, 14),
            SchoolKind::Middle => (10, 20),
            SchoolKind::College => (15, 30),
            SchoolKind::Other => (2, 30),
        };
        AgeRange { min, max }
    }

    pub fn zh(self) -> &'static str {
        match self {
            SchoolKind::Kindergarten => "幼儿园",
            SchoolKind::Primary => "小学",
            SchoolKind::Middle => "中学",
            SchoolKind::College => "大中专",
            SchoolKind::Other => "学校",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            SchoolKind::Kindergarten => "kindergarten",
            SchoolKind::Primary => "primary",
            SchoolKind::Middle => "middle",
            SchoolKind::College => "college",
            SchoolKind::Other => "school",
        }
    }
}

/// One sheet that held students: where it came from and its columns, so that sheets written
/// later (problems sheet, class sheet) keep the original columns in their original order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetInfo {
    pub file: String,
    /// Sheet name; for CSV the file name without extension.
    pub sheet: String,
    pub format: Format,
    /// 1-based row of the header.
    pub header_row: u32,
    /// Header texts of all columns, as in the file.
    pub headers: Vec<String>,
    pub columns: Columns,
}

/// One student row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    /// Stable identity across reloads: the normalised 核对前身份证号码 when present, else
    /// `school/class/name` (with `#n` for the n-th repeat).
    pub key: String,
    pub school: String,
    pub class: String,
    /// Index into [`Roster::sheets`].
    pub sheet: usize,
    /// 1-based row as Excel shows it (CSV: line number).
    pub row: u32,
    /// 核对前身份证号码 exactly as received (trimmed); the ID cell's value when the file has no
    /// such column. Never changed by rollcall.
    pub original_id: String,
    /// 核对前姓名 exactly as received (trimmed); the name cell's value when the file has no
    /// such column. Never changed by rollcall.
    pub original_name: String,
    /// The checked ID number (normalised), when it passed every ID rule.
    pub id_number: Option<String>,
    /// The ID text after normalisation, whatever its state (for display).
    pub id_text: String,
    /// The name after normalisation.
    pub name: String,
    pub gender: Option<Gender>,
    /// Every cell of the row as the file shows it, one per column of the sheet.
    pub cells: Vec<String>,
    pub photo_required: bool,
    pub errors: u32,
    pub warnings: u32,
    /// The bank corrected the ID or name (current value differs from the 核对前 value).
    pub correction: bool,
    /// Added by the school (核对前 columns empty).
    pub addition: bool,
}

impl Student {
    /// True when a photo file name can be made for the row (no error-severity problem).
    pub fn is_ready(&self) -> bool {
        self.errors == 0 && self.id_number.is_some()
    }

    /// `<id_number><separator><name>`, the photo's file name without extension, when ready.
    pub fn photo_stem(&self, separator: &str) -> Option<String> {
        if !self.is_ready() {
            return None;
        }
        self.id_number
            .as_ref()
            .map(|id| format!("{id}{separator}{}", self.name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub name: String,
    /// In roster order.
    pub students: Vec<Student>,
}

impl Class {
    pub fn photos_required(&self) -> usize {
        self.students.iter().filter(|s| s.photo_required).count()
    }

    pub fn photos_ready(&self) -> usize {
        self.students
            .iter()
            .filter(|s| s.photo_required && s.is_ready())
            .count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub name: String,
    pub kind: SchoolKind,
    pub classes: Vec<Class>,
}

impl School {
    pub fn students(&self) -> impl Iterator<Item = &Student> {
        self.classes.iter().flat_map(|c| c.students.iter())
    }
}

/// Everything loaded from a set of files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roster {
    pub schools: Vec<School>,
    pub sheets: Vec<SheetInfo>,
    /// Every problem, ordered by file, sheet and row.
    pub problems: Vec<Problem>,
}

/// Counts for one school's summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    pub classes: usize,
    pub students: usize,
    pub photos_required: usize,
    /// Students who need a photo and whose row has no error: a file name can be made.
    pub photos_ready: usize,
    pub errors: usize,
    pub warnings: usize,
    pub corrections: usize,
    pub additions: usize,
}

impl Roster {
    pub fn students(&self) -> impl Iterator<Item = &Student> {
        self.schools.iter().flat_map(School::students)
    }

    /// The student on a given row of a given sheet.
    pub fn student_at(&self, sheet: usize, row: u32) -> Option<&Student> {
        self.students().find(|s| s.sheet == sheet && s.row == row)
    }

    /// Problems whose severity is `error`.
    pub fn error_count(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity() == Severity::Error)
            .count()
    }

    /// Files that could not be read at all.
    pub fn unreadable_files(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.location.sheet.is_none())
    }

    /// Summary counts of one school. Problems are counted per row (a row with two errors
    /// counts once in `errors`).
    pub fn counts(&self, school: &School) -> Counts {
        let mut c = Counts {
            classes: school.classes.len(),
            ..Counts::default()
        };
        for s in school.students() {
            c.students += 1;
            c.photos_required += usize::from(s.photo_required);
            c.photos_ready += usize::from(s.photo_required && s.is_ready());
            c.errors += usize::from(s.errors > 0);
            c.warnings += usize::from(s.warnings > 0);
            c.corrections += usize::from(s.correction);
            c.additions += usize::from(s.addition);
        }
        c
    }
}
