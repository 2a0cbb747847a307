//! The problems sheet: the rows with problems, all original columns in their original order,
//! plus a 问题说明 column, ID cells written as text. A school fixes it and sends it back.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

use crate::model::Roster;
use crate::problem::{Lang, Severity};

/// Characters Excel refuses in sheet names.
const BAD_SHEET_CHARS: [char; 7] = ['[', ']', ':', '*', '?', '/', '\\'];

/// Writes the problems sheet and returns the `.xlsx` bytes. One worksheet per source sheet
/// that has rows with errors or warnings. Returns `None` when there is nothing to fix.
pub fn problems_workbook(roster: &Roster, lang: Lang) -> Result<Option<Vec<u8>>, XlsxError> {
    // sheet index -> row -> problem texts
    let mut by_sheet: BTreeMap<usize, BTreeMap<u32, Vec<String>>> = BTreeMap::new();
    for p in &roster.problems {
        if p.severity() == Severity::Info {
            continue;
        }
        let (Some(sheet), Some(row)) = (&p.location.sheet, p.location.row) else {
            continue;
        };
        let Some(index) = roster
            .sheets
            .iter()
            .position(|s| &s.sheet == sheet && s.file == p.location.file)
        else {
            continue;
        };
        let mut text = p.message.get(lang).to_string();
        if let Some(s) = &p.suggestion {
            text.push(' ');
            text.push_str(s.get(lang));
        }
        by_sheet
            .entry(index)
            .or_default()
            .entry(row)
            .or_default()
            .push(text);
    }
    if by_sheet.is_empty() {
        return Ok(None);
    }
    let mut workbook = Workbook::new();
    let header_format = Format::new()
        .set_bold()
        .set_background_color("#F2F2F2")
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let text_format = Format::new().set_num_format("@");
    let note_format = Format::new().set_font_color("#C00000").set_text_wrap();
    let mut used_names: Vec<String> = Vec::new();
    for (index, rows) in by_sheet {
        let info = &roster.sheets[index];
        let sheet = workbook.add_worksheet();
        sheet.set_name(unique_sheet_name(&info.sheet, &mut used_names))?;
        let note_col = u16::try_from(info.headers.len()).unwrap_or(u16::MAX - 1);
        for (c, h) in info.headers.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            sheet.write_string_with_format(0, c, h, &header_format)?;
            sheet.set_column_width(c, 14)?;
            sheet.set_column_format(c, &text_format)?;
        }
        let note_header = match lang {
            Lang::Zh => "问题说明",
            Lang::En => "Problems",
        };
        sheet.write_string_with_format(0, note_col, note_header, &header_format)?;
        sheet.set_column_width(note_col, 60)?;
        sheet.set_freeze_panes(1, 0)?;
        for (out_row, (row, notes)) in rows.into_iter().enumerate() {
            let out_row = u32::try_from(out_row + 1).unwrap_or(u32::MAX);
            if let Some(student) = roster.student_at(index, row) {
                for (c, value) in student.cells.iter().enumerate() {
                    let c = u16::try_from(c).unwrap_or(u16::MAX);
                    // Every cell as text: an ID must never become a number again.
                    sheet.write_string_with_format(out_row, c, value, &text_format)?;
                }
            }
            let prefix = match lang {
                Lang::Zh => format!("原表第 {row} 行："),
                Lang::En => format!("Row {row}: "),
            };
            sheet.write_string_with_format(
                out_row,
                note_col,
                format!("{prefix}{}", notes.join("；")),
                &note_format,
            )?;
        }
    }
    workbook.save_to_buffer().map(Some)
}

fn unique_sheet_name(name: &str, used: &mut Vec<String>) -> String {
    let clean: String = name
        .chars()
        .map(|c| if BAD_SHEET_CHARS.contains(&c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'');
    let base: String = if clean.is_empty() {
        "Sheet".into()
    } else {
        clean.chars().take(28).collect()
    };
    let mut candidate = base.clone();
    let mut n = 1;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&candidate)) {
        n += 1;
        candidate = format!("{base}({n})");
    }
    used.push(candidate.clone());
    candidate
}
