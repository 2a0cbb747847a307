//! The class sheet the office imports: `<school>/<class>/<class>.xlsx`.
//!
//! The roster's original columns in their original order; `核对前身份证号码`/`核对前姓名` exactly
//! as received (appended, filled from the received values, when the source lacked them); the
//! corrected `身份证号码`/`姓名`; walk-in students appended; every cell written as text, so an
//! ID never becomes a number. Nothing else goes into this sheet.

use roster::header::{self, Field};
use roster::{Roster, Student};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// A walk-in student (not on the roster) to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkIn {
    pub name: String,
    /// The ID as typed (may be empty until known).
    pub id: String,
}

/// A class sheet as rows of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassSheet {
    pub class: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

const ORIGINAL_ID: &str = "核对前身份证号码";
const ORIGINAL_NAME: &str = "核对前姓名";

/// Builds the sheet of one class of one school from the checked roster.
pub fn class_sheet(roster: &Roster, school: &str, class: &str, walk_ins: &[WalkIn]) -> ClassSheet {
    let students: Vec<&Student> = roster
        .schools
        .iter()
        .filter(|s| s.name == school)
        .flat_map(|s| s.classes.iter())
        .filter(|c| c.name == class)
        .flat_map(|c| c.students.iter())
        .collect();
    let Some(first) = students.first() else {
        return walk_in_only(class, walk_ins);
    };
    let info = &roster.sheets[first.sheet];
    let mut headers = info.headers.clone();
    let find = |headers: &[String], field: Field| {
        headers.iter().position(|h| header::field(h) == Some(field))
    };
    let id_col = find(&headers, Field::Id);
    let name_col = find(&headers, Field::Name);
    let school_col = find(&headers, Field::School);
    let class_col = find(&headers, Field::Class);
    let orig_id_col = match find(&headers, Field::OriginalId) {
        Some(c) => c,
        None => {
            headers.push(ORIGINAL_ID.into());
            headers.len() - 1
        }
    };
    let orig_name_col = match find(&headers, Field::OriginalName) {
        Some(c) => c,
        None => {
            headers.push(ORIGINAL_NAME.into());
            headers.len() - 1
        }
    };
    let mut rows = Vec::with_capacity(students.len() + walk_ins.len());
    for s in &students {
        // A class may span sheets with other column orders: take cells by header text.
        let own = &roster.sheets[s.sheet].headers;
        let mut row: Vec<String> = headers
            .iter()
            .map(|h| {
                own.iter()
                    .position(|o| header::normalise(o) == header::normalise(h))
                    .and_then(|i| s.cells.get(i).cloned())
                    .unwrap_or_default()
            })
            .collect();
        if let Some(c) = id_col {
            row[c] = s.id_number.clone().unwrap_or_else(|| s.id_text.clone());
        }
        if let Some(c) = name_col {
            row[c] = s.name.clone();
        }
        row[orig_id_col] = s.original_id.clone();
        row[orig_name_col] = s.original_name.clone();
        rows.push(row);
    }
    for w in walk_ins {
        let mut row = vec![String::new(); headers.len()];
        if let Some(c) = id_col {
            row[c] = w.id.clone();
        }
        if let Some(c) = name_col {
            row[c] = w.name.clone();
        }
        if let Some(c) = school_col {
            row[c] = school.to_string();
        }
        if let Some(c) = class_col {
            row[c] = class.to_string();
        }
        // A walk-in's received values are the ones the team took down.
        row[orig_id_col] = w.id.clone();
        row[orig_name_col] = w.name.clone();
        rows.push(row);
    }
    ClassSheet {
        class: class.to_string(),
        headers,
        rows,
    }
}

fn walk_in_only(class: &str, walk_ins: &[WalkIn]) -> ClassSheet {
    ClassSheet {
        class: class.to_string(),
        headers: vec![
            "姓名".into(),
            "身份证号码".into(),
            ORIGINAL_ID.into(),
            ORIGINAL_NAME.into(),
        ],
        rows: walk_ins
            .iter()
            .map(|w| vec![w.name.clone(), w.id.clone(), w.id.clone(), w.name.clone()])
            .collect(),
    }
}

/// The sheet as `.xlsx` bytes: one worksheet named after the class, header row bold, every
/// cell a text cell (number format `@`).
pub fn to_xlsx(sheet: &ClassSheet) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name(sheet_name(&sheet.class))?;
    let text = Format::new().set_num_format("@");
    let head = Format::new().set_bold().set_num_format("@");
    for (c, h) in sheet.headers.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(0, col, h, &head)?;
        let width = if matches!(header::field(h), Some(Field::Id | Field::OriginalId)) {
            22.0
        } else {
            12.0
        };
        ws.set_column_width(col, width)?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, value) in row.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(r, col, value, &text)?;
        }
    }
    // Fixed document properties: the same sheet gives the same bytes (the zip is deterministic).
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1)?;
    workbook.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("rollcall"),
    );
    workbook.save_to_buffer()
}

/// Excel refuses `[]:*?/\` and more than 31 characters in a sheet name.
fn sheet_name(class: &str) -> String {
    let cleaned: String = class
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if cleaned.trim().is_empty() {
        "Sheet1".into()
    } else {
        cleaned
    }
}
