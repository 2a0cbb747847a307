//! From file bytes to tables of cells.
//!
//! Owns format sniffing (by content, not by extension), the calamine readers for
//! `.xlsx/.xlsm/.xls/.ods`, CSV decoding (UTF-8 with or without BOM, GBK/GB 18030, detected,
//! never mangled) and the errors that name a file that cannot be read. Nothing here knows what
//! a roster is.

use std::io::Cursor;

use calamine::{Data, DataRef, ExcelDateTime, Ods, Reader, Xls, Xlsx};

use crate::guard::{self, MAX_CELLS, Refused};

/// One cell as the roster code needs it. Text stays text; numbers stay numbers, so an ID that
/// Excel stored as a number can be told apart from one stored as text.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell {
    #[default]
    Empty,
    Text(String),
    /// A numeric cell (Excel/ODS number, or its value from a formula).
    Number(f64),
    Bool(bool),
    /// A date cell, shown as `YYYY-MM-DD` (or the ISO text the file held).
    Date(String),
    /// An error value such as `#N/A`.
    Error(String),
}

impl Cell {
    /// True for an empty cell or one holding only whitespace.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// [`Cell::display`], consuming the cell (text is moved, not copied).
    pub fn into_display(self) -> String {
        match self {
            Cell::Text(s) | Cell::Date(s) | Cell::Error(s) => s,
            other => other.display(),
        }
    }

    /// What a spreadsheet shows for the cell. Numbers of 15 significant digits or fewer print as
    /// integers when whole; larger ones in Excel's scientific notation (`4.50405201602031E+17`),
    /// because that is all the file still knows.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) | Cell::Date(s) | Cell::Error(s) => s.clone(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Number(n) => format_number(*n),
        }
    }
}

/// Formats a number the way Excel's General format shows it.
pub fn format_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        // Exact: every whole number below 1e15 fits an i64.
        return (n as i64).to_string();
    }
    if n.is_finite() && n.abs() >= 1e15 {
        // 15 significant digits, trailing zeros dropped, as Excel does.
        let s = format!("{n:.14E}");
        if let Some((mantissa, exp)) = s.split_once('E') {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            let sign = if exp.starts_with('-') { "" } else { "+" };
            return format!("{mantissa}E{sign}{exp}");
        }
    }
    n.to_string()
}

/// One sheet (or one CSV file) as a grid. `first_row` is the 1-based row number, as Excel
/// shows it, of `rows[0]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub sheet: String,
    pub first_row: u32,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The 1-based row number of `rows[index]`.
    pub fn row_number(&self, index: usize) -> u32 {
        self.first_row + u32::try_from(index).unwrap_or(u32::MAX - self.first_row)
    }
}

/// The container formats told apart by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

/// Why a file could not be read. Each variant names what the team should do in its message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("the file is empty")]
    Empty,
    #[error("the workbook is password-protected (encrypted)")]
    Encrypted,
    #[error("the file is a web page or text saved with a spreadsheet extension")]
    HtmlOrText,
    #[error("not a spreadsheet (unrecognised content)")]
    NotSpreadsheet,
    #[error("the {format:?} file is damaged: {detail}")]
    Corrupt { format: Format, detail: String },
    #[error("the text encoding could not be determined (neither UTF-8 nor GBK/GB 18030)")]
    Encoding,
    /// Reading it would cost more than any roster may: a zip that inflates enormously, a sheet
    /// whose used range spans millions of cells.
    #[error("too large to read{}: {}", sheet.as_ref().map(|s| format!(" (sheet {s})")).unwrap_or_default(), size.en())]
    TooLarge {
        sheet: Option<String>,
        size: TooLarge,
    },
    /// A real spreadsheet in a format rollcall does not read.
    #[error("{what} is not supported")]
    Unsupported { what: Unsupported },
}

/// What makes a file too large to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TooLarge {
    /// A zip entry (or all of them) inflate beyond the limit; at least `mb` megabytes.
    Inflates { entry: String, mb: u64 },
    /// A used range of this many cells.
    Cells(u64),
}

impl TooLarge {
    pub fn zh(&self) -> String {
        match self {
            TooLarge::Inflates { entry, mb } => format!(
                "其中的 {entry} 解压后超过 {} MB（至少 {mb} MB）",
                guard::MAX_ENTRY_BYTES >> 20
            ),
            TooLarge::Cells(n) => format!("使用范围达 {n} 个单元格，上限为 {MAX_CELLS} 个"),
        }
    }

    pub fn en(&self) -> String {
        match self {
            TooLarge::Inflates { entry, mb } => format!(
                "its part {entry} unpacks to more than {} MB (at least {mb} MB)",
                guard::MAX_ENTRY_BYTES >> 20
            ),
            TooLarge::Cells(n) => {
                format!("its used range spans {n} cells; the limit is {MAX_CELLS}")
            }
        }
    }
}

/// Spreadsheet formats recognised but not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// Excel binary workbook.
    Xlsb,
    /// Excel 2.1–4.0 worksheets (BIFF2–4), before workbooks in OLE containers.
    Biff4,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unsupported::Xlsb => "an Excel binary workbook (.xlsb)",
            Unsupported::Biff4 => "an Excel 2.1–4.0 worksheet",
        })
    }
}

fn refused(format: Format, r: Refused) -> ReadError {
    match r {
        Refused::Inflates { entry, bytes } => ReadError::TooLarge {
            sheet: None,
            size: TooLarge::Inflates {
                entry,
                mb: bytes >> 20,
            },
        },
        Refused::Cells { sheet, cells } => ReadError::TooLarge {
            sheet,
            size: TooLarge::Cells(cells),
        },
        Refused::Damaged(detail) => ReadError::Corrupt {
            format,
            detail: plain(&detail),
        },
    }
}

/// A library's error text without Rust's debug renderings (`Foo { bar: .. }`, `Some(..)`):
/// the part before the first such rendering, which is the human part.
pub fn plain(detail: &str) -> String {
    let cut = ["{", "[", "Some(", "None", "Ok(", "Err(", "\\"]
        .iter()
        .filter_map(|m| detail.find(m))
        .min()
        .unwrap_or(detail.len());
    let text = detail[..cut]
        .trim()
        .trim_end_matches([':', ',', '('])
        .trim();
    let text: String = text.chars().take(120).collect();
    if text.is_empty() {
        "unreadable content".into()
    } else {
        text
    }
}

/// Tables read from one file, and the format the content turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub struct Workbook {
    pub format: Format,
    pub tables: Vec<Table>,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads a workbook or CSV file. `extension` (lower-case, without the dot) only decides how
/// plain text is treated; binary formats are recognised by content.
pub fn read(bytes: &[u8], extension: &str) -> Result<Workbook, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        // ODS keeps an uncompressed `mimetype` entry first; xlsx never does.
        let head = &bytes[..bytes.len().min(256)];
        let is_ods = find(head, b"application/vnd.oasis.opendocument.spreadsheet").is_some();
        let format = if is_ods { Format::Ods } else { Format::Xlsx };
        let entries = guard::zip_entries(bytes).map_err(|r| refused(format, r))?;
        if entries.iter().any(|e| e == "xl/workbook.bin") {
            return Err(ReadError::Unsupported {
                what: Unsupported::Xlsb,
            });
        }
        return if is_ods {
            let manifest = guard::zip_entry(bytes, "META-INF/manifest.xml").unwrap_or_default();
            if find(&manifest, b"encryption-data").is_some() {
                return Err(ReadError::Encrypted);
            }
            let content = guard::zip_entry(bytes, "content.xml").unwrap_or_default();
            let cells = guard::ods_cells(&content).map_err(|r| refused(format, r))?;
            if cells > MAX_CELLS {
                return Err(refused(format, Refused::Cells { sheet: None, cells }));
            }
            read_ods(bytes)
        } else {
            read_xlsx(bytes)
        };
    }
    if bytes.starts_with(CFB_MAGIC) {
        // An encrypted .xlsx is an OLE container with an `EncryptedPackage` stream.
        if find(bytes, &utf16le("EncryptedPackage")).is_some() {
            return Err(ReadError::Encrypted);
        }
        let cells = guard::xls_cells(bytes).map_err(|r| refused(Format::Xls, r))?;
        if cells > MAX_CELLS {
            return Err(refused(Format::Xls, Refused::Cells { sheet: None, cells }));
        }
        return read_xls(bytes);
    }
    // Excel 2.1, 3.0 and 4.0 worksheets: a bare BOF record, no OLE container.
    if bytes.len() >= 4 && bytes[0] == 0x09 && matches!(bytes[1], 0x00 | 0x02 | 0x04) {
        let len = u16::from_le_bytes([bytes[2], bytes[3]]);
        if (4..=16).contains(&len) {
            return Err(ReadError::Unsupported {
                what: Unsupported::Biff4,
            });
        }
    }
    if looks_binary(bytes) {
        return Err(ReadError::NotSpreadsheet);
    }
    let text = decode_text(bytes)?;
    let lower = text
        .trim_start()
        .get(..64)
        .unwrap_or("")
        .to_ascii_lowercase();
    if matches!(extension, "xlsx" | "xlsm" | "xls" | "ods")
        || lower.starts_with("<!doctype")
        || lower.starts_with("<html")
        || lower.starts_with("<?xml")
        || lower.starts_with("<table")
    {
        return Err(ReadError::HtmlOrText);
    }
    Ok(Workbook {
        format: Format::Csv,
        tables: vec![read_csv_text(&text)],
    })
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// NUL bytes or many control characters mean the content is not text.
fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(4096)];
    let control = sample
        .iter()
        .filter(|&&b| b < 0x09 || (0x0e..0x20).contains(&b) && b != 0x1b)
        .count();
    sample.contains(&0) || control * 20 > sample.len()
}

/// Decodes CSV text: a BOM decides; else valid UTF-8 is UTF-8; else the detector's guess
/// (Chinese rosters are GBK/GB 18030), accepted only if it decodes without a single error.
fn decode_text(bytes: &[u8]) -> Result<String, ReadError> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling_and_without_replacement(&bytes[bom_len..])
            .map(|s| s.into_owned())
            .ok_or(ReadError::Encoding);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(Some(b"cn"), chardetng::Utf8Detection::Allow);
    // GBK text is GB 18030 text; decode with the superset so nothing valid is refused.
    let encoding = if guess == encoding_rs::GBK {
        encoding_rs::GB18030
    } else {
        guess
    };
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| s.into_owned())
        .ok_or(ReadError::Encoding)
}

fn read_csv_text(text: &str) -> Table {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut record = csv::StringRecord::new();
    // Row numbers are line numbers, so a quoted field spanning lines keeps later rows right.
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record
                    .position()
                    .map(|p| usize::try_from(p.line()).unwrap_or(usize::MAX))
                    .unwrap_or(rows.len() + 1);
                while rows.len() + 1 < line {
                    rows.push(Vec::new());
                }
                rows.push(
                    record
                        .iter()
                        .map(|f| {
                            if f.is_empty() {
                                Cell::Empty
                            } else {
                                Cell::Text(f.to_string())
                            }
                        })
                        .collect(),
                );
            }
            // Text from `decode_text` is valid UTF-8, so the only errors left are I/O errors
            // of an in-memory reader, which cannot happen; stop rather than loop.
            Err(_) => break,
        }
    }
    Table {
        sheet: String::new(),
        first_row: 1,
        rows,
    }
}

fn convert<T>(range: &calamine::Range<T>, sheet: String, cell: impl Fn(&T) -> Cell) -> Table
where
    T: calamine::CellType,
{
    let first_row = range.start().map(|(r, _)| r + 1).unwrap_or(1);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let rows = range
        .rows()
        .map(|row| {
            let mut cells = Vec::with_capacity(first_col + row.len());
            cells.resize(first_col, Cell::Empty);
            cells.extend(row.iter().map(&cell));
            cells
        })
        .collect();
    Table {
        sheet,
        first_row,
        rows,
    }
}

fn date_cell(dt: &ExcelDateTime) -> Cell {
    match dt.as_datetime() {
        Some(t) if dt.is_datetime() => Cell::Date(t.format("%Y-%m-%d").to_string()),
        _ => Cell::Number(dt.as_f64()),
    }
}

fn convert_cell(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => date_cell(dt),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Date(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

fn convert_cell_ref(data: &DataRef<'_>) -> Cell {
    match data {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => date_cell(dt),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Date(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn tables<R: Reader<Cursor<Vec<u8>>>>(mut workbook: R) -> Vec<Table> {
    workbook
        .worksheets()
        .into_iter()
        .map(|(name, range)| convert(&range, name, convert_cell))
        .collect()
}

fn read_xlsx(bytes: &[u8]) -> Result<Workbook, ReadError> {
    let corrupt = |e: calamine::XlsxError| ReadError::Corrupt {
        format: Format::Xlsx,
        detail: plain(&e.to_string()),
    };
    let mut workbook = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(corrupt)?;
    // Cell by cell: only used cells cost memory, and the used range is checked before a grid
    // is built (a cell at A1 and one at XFD1048576 are two cells, not 17 billion).
    let mut tables = Vec::new();
    let mut budget = MAX_CELLS;
    for name in workbook.sheet_names() {
        let mut reader = match workbook.worksheet_cells_reader(&name) {
            Ok(r) => r,
            // A chart sheet: no cells.
            Err(calamine::XlsxError::NotAWorksheet(_)) => continue,
            Err(e) => return Err(corrupt(e)),
        };
        let mut cells: Vec<(u32, u32, Cell)> = Vec::new();
        while let Some(cell) = reader.next_cell().map_err(corrupt)? {
            let value = convert_cell_ref(cell.get_value());
            if value == Cell::Empty {
                continue;
            }
            let (row, col) = cell.get_position();
            cells.push((row, col, value));
            if cells.len() as u64 > budget {
                return Err(ReadError::TooLarge {
                    sheet: Some(name.clone()),
                    size: TooLarge::Cells(cells.len() as u64),
                });
            }
        }
        let table = sparse_table(name, cells)?;
        budget = budget.saturating_sub(area(&table));
        tables.push(table);
    }
    Ok(Workbook {
        format: Format::Xlsx,
        tables,
    })
}

/// The cells a table holds as a grid (rows × the widest row).
fn area(table: &Table) -> u64 {
    let width = table.rows.iter().map(Vec::len).max().unwrap_or(0);
    table.rows.len() as u64 * width as u64
}

/// A table from used cells: rows from the first used row to the last, columns from A (as
/// Excel shows them) to each row's last used cell; refused when the used range is too large.
fn sparse_table(sheet: String, mut cells: Vec<(u32, u32, Cell)>) -> Result<Table, ReadError> {
    cells.sort_by_key(|&(r, c, _)| (r, c));
    let (Some(first), Some(last)) = (cells.first().map(|c| c.0), cells.last().map(|c| c.0)) else {
        return Ok(Table {
            sheet,
            first_row: 1,
            rows: Vec::new(),
        });
    };
    let width = cells.iter().map(|c| u64::from(c.1) + 1).max().unwrap_or(0);
    let range = (u64::from(last - first) + 1) * width;
    if range > MAX_CELLS {
        return Err(ReadError::TooLarge {
            sheet: Some(sheet),
            size: TooLarge::Cells(range),
        });
    }
    let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); (last - first) as usize + 1];
    for (r, c, value) in cells {
        let row = &mut rows[(r - first) as usize];
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, Cell::Empty);
        }
        row[c] = value;
    }
    Ok(Table {
        sheet,
        first_row: first + 1,
        rows,
    })
}

fn read_ods(bytes: &[u8]) -> Result<Workbook, ReadError> {
    let workbook = Ods::new(Cursor::new(bytes.to_vec())).map_err(|e| match e {
        calamine::OdsError::CellLimitExceeded { requested, .. } => ReadError::TooLarge {
            sheet: None,
            size: TooLarge::Cells(requested as u64),
        },
        e => ReadError::Corrupt {
            format: Format::Ods,
            detail: plain(&e.to_string()),
        },
    })?;
    Ok(Workbook {
        format: Format::Ods,
        tables: tables(workbook),
    })
}

fn read_xls(bytes: &[u8]) -> Result<Workbook, ReadError> {
    match Xls::new(Cursor::new(bytes.to_vec())) {
        Ok(workbook) => Ok(Workbook {
            format: Format::Xls,
            tables: tables(workbook),
        }),
        Err(calamine::XlsError::Password) => Err(ReadError::Encrypted),
        Err(e) => Err(ReadError::Corrupt {
            format: Format::Xls,
            detail: plain(&e.to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_excel() {
        assert_eq!(format_number(4.50405201602031e17), "4.50405201602031E+17");
        assert_eq!(format_number(450421201205214000.0), "4.50421201205214E+17");
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(1.5), "1.5");
    }

    #[test]
    fn csv_in_gbk_utf8_and_bom() {
        let text = "序号,姓名\n1,李光艳\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        for bytes in [
            gbk.to_vec(),
            text.as_bytes().to_vec(),
            [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
        ] {
            let wb = read(&bytes, "csv").unwrap();
            assert_eq!(wb.format, Format::Csv);
            assert_eq!(wb.tables[0].rows[1][1], Cell::Text("李光艳".into()));
        }
    }

    #[test]
    fn csv_rows_are_line_numbers() {
        let wb = read("a,b\n\"x\ny\",1\n2,3\n".as_bytes(), "csv").unwrap();
        let t = &wb.tables[0];
        assert_eq!(t.row_number(t.rows.len() - 1), 4);
        assert_eq!(t.rows[3][0], Cell::Text("2".into()));
    }

    #[test]
    fn junk_is_refused_with_a_reason() {
        assert_eq!(read(b"", "xlsx"), Err(ReadError::Empty));
        assert_eq!(
            read(&[0u8, 1, 2, 3, 255, 0, 7], "xlsx"),
            Err(ReadError::NotSpreadsheet)
        );
        assert_eq!(
            read(b"<html><table></table></html>", "xls"),
            Err(ReadError::HtmlOrText)
        );
        assert_eq!(read(b"hello", "xlsx"), Err(ReadError::HtmlOrText));
        assert!(matches!(
            read(b"PK\x03\x04garbage", "xlsx"),
            Err(ReadError::Corrupt { .. })
        ));
        let mut cfb = CFB_MAGIC.to_vec();
        cfb.extend(utf16le("EncryptedPackage"));
        assert_eq!(read(&cfb, "xlsx"), Err(ReadError::Encrypted));
        assert!(matches!(
            read(CFB_MAGIC, "xls"),
            Err(ReadError::Corrupt { .. })
        ));
    }
}
