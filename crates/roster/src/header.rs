//! Finding the header row and mapping its columns.
//!
//! Owns the column synonyms. Header texts are compared after removing whitespace (line breaks
//! and spaces between characters are common: `姓  名`, `核对前\n身份证号码`), `*` markers and a
//! trailing parenthesised note, and they must match a synonym exactly: a substring match would
//! take `核对前身份证号码` for `身份证号码`.

use crate::read::{Cell, Table};

/// The columns rollcall understands. Every other column is kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Seq,
    School,
    Class,
    Name,
    Gender,
    Id,
    OriginalId,
    OriginalName,
}

const ID: &[&str] = &[
    "身份证号码",
    "公民身份号码",
    "身份证号",
    "证件号码",
    "身份证件号码",
    "公民身份证号码",
    "公民身份证号",
    "身份号码",
    "证件号",
    "身份证",
];
const NAME: &[&str] = &[
    "姓名",
    "学生姓名",
    "幼儿姓名",
    "儿童姓名",
    "学生名字",
    "名字",
];
const SCHOOL: &[&str] = &[
    "学校",
    "学校名称",
    "学校全称",
    "所在学校",
    "园所名称",
    "幼儿园名称",
];
const CLASS: &[&str] = &["班级", "班别", "班级名称", "所在班级", "班名", "班"];
const GENDER: &[&str] = &["性别"];
const SEQ: &[&str] = &["序号", "序"];
const ORIGINAL: &str = "核对前";

/// Normalises a header text for matching.
pub fn normalise(text: &str) -> String {
    let mut s: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '＊')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect();
    // Drop a trailing note such as `身份证号码(18位)`, but not when it is the whole text.
    if s.ends_with(')')
        && let Some(open) = s.rfind('(')
        && open > 0
    {
        s.truncate(open);
    }
    s
}

/// Maps one header text to a field.
pub fn field(text: &str) -> Option<Field> {
    let n = normalise(text);
    if let Some(rest) = n.strip_prefix(ORIGINAL) {
        return if ID.contains(&rest) {
            Some(Field::OriginalId)
        } else if NAME.contains(&rest) {
            Some(Field::OriginalName)
        } else {
            None
        };
    }
    let n = n.as_str();
    [
        (ID, Field::Id),
        (NAME, Field::Name),
        (SCHOOL, Field::School),
        (CLASS, Field::Class),
        (GENDER, Field::Gender),
        (SEQ, Field::Seq),
    ]
    .into_iter()
    .find_map(|(names, f)| names.contains(&n).then_some(f))
}

/// The 0-based column of each recognised field (the first such column when a field repeats).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Columns(pub Vec<(Field, usize)>);

impl Columns {
    pub fn get(&self, field: Field) -> Option<usize> {
        self.0.iter().find_map(|&(f, c)| (f == field).then_some(c))
    }

    pub fn has(&self, field: Field) -> bool {
        self.get(field).is_some()
    }
}

/// The header of one table: where it is and which column holds what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Index into `Table::rows`.
    pub index: usize,
    /// Header text of every column, as in the file (line breaks kept).
    pub texts: Vec<String>,
    pub columns: Columns,
}

/// How many rows from the top are searched for the header.
pub const SCAN_ROWS: usize = 30;

/// Finds the first row, among the first [`SCAN_ROWS`], that has both an ID column and a name
/// column.
pub fn find(table: &Table) -> Option<Header> {
    table
        .rows
        .iter()
        .take(SCAN_ROWS)
        .enumerate()
        .find_map(|(index, row)| {
            let mut columns = Columns::default();
            for (col, cell) in row.iter().enumerate() {
                if let Cell::Text(text) = cell
                    && let Some(f) = field(text)
                    && !columns.has(f)
                {
                    columns.0.push((f, col));
                }
            }
            (columns.has(Field::Id) && columns.has(Field::Name)).then(|| Header {
                index,
                texts: row.iter().map(Cell::display).collect(),
                columns,
            })
        })
}

/// Spreadsheet column letters for a 0-based index (`0` → `A`, `27` → `AB`).
pub fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + (index % 26) as u8));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_and_the_original_trap() {
        assert_eq!(field("核对前\n身份证号码"), Some(Field::OriginalId));
        assert_eq!(field("核对前身份证号码"), Some(Field::OriginalId));
        assert_eq!(field("核对前姓名"), Some(Field::OriginalName));
        assert_eq!(field("身份证号码"), Some(Field::Id));
        assert_eq!(field("公民身份号码"), Some(Field::Id));
        assert_eq!(field("身份证号码（18位）"), Some(Field::Id));
        assert_eq!(field("*姓名"), Some(Field::Name));
        assert_eq!(field("姓  名"), Some(Field::Name));
        assert_eq!(field("学生姓名"), Some(Field::Name));
        assert_eq!(field("班别"), Some(Field::Class));
        assert_eq!(field("学校名称"), Some(Field::School));
        assert_eq!(field("出生日期"), None);
        assert_eq!(field("民族"), None);
        assert_eq!(field("核对前民族"), None);
    }

    #[test]
    fn header_is_found_below_titles() {
        let t = |s: &str| Cell::Text(s.to_string());
        let table = Table {
            sheet: "一年级1班".into(),
            first_row: 1,
            rows: vec![
                vec![t("梧州市某小学社保卡名册")],
                vec![t("身份证号码请核对")],
                vec![
                    t("序号"),
                    t("姓名"),
                    t("核对前\n身份证号码"),
                    t("身份证号码"),
                ],
            ],
        };
        let h = find(&table).unwrap();
        assert_eq!(h.index, 2);
        assert_eq!(h.columns.get(Field::Id), Some(3));
        assert_eq!(h.columns.get(Field::OriginalId), Some(2));
        assert_eq!(h.columns.get(Field::Class), None);
    }

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
