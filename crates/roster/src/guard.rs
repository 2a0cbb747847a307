//! Bounds on what reading one file may cost, checked before calamine sees the bytes.
//!
//! calamine builds dense grids: an `.xls` or `.ods` sheet with one cell at A1 and one far away
//! (or a cell repeated a million times by ODS's `number-rows-repeated`) becomes billions of
//! cells, and a zip entry can inflate a thousandfold. A 2 KB file must not take a laptop's
//! memory, so each container is measured first, cheaply and within its own bounds:
//!
//! - every zip entry (xlsx, ods) is inflated into a counter, stopping at [`MAX_ENTRY_BYTES`]
//!   and [`MAX_INFLATED_BYTES`] in all;
//! - an `.xls` workbook's cell records are scanned (BIFF records in the CFB stream) for each
//!   sheet's bounding box, the grid calamine will allocate;
//! - an `.ods` `content.xml` is scanned for the cells calamine will materialise, repeats
//!   included;
//! - an `.xlsx` is read cell by cell (`read.rs`), so only used cells cost memory; its limit is
//!   [`MAX_CELLS`] too.
//!
//! The scanners are hand-written because calamine offers no way to bound these costs; they
//! only count, never interpret values.

use std::io::{Cursor, Read};

use quick_xml::events::Event;

/// The largest one zip entry may inflate to.
pub const MAX_ENTRY_BYTES: u64 = 96 << 20;
/// The largest all entries of one file may inflate to together.
pub const MAX_INFLATED_BYTES: u64 = 192 << 20;
/// Cells one workbook may materialise (about 32 bytes each): a school's roster has tens of
/// thousands; four million is far beyond any roster and far below a laptop's memory.
pub const MAX_CELLS: u64 = 4_000_000;

/// Why a file is refused before it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A zip entry, or all together, inflate beyond the limits.
    Inflates { entry: String, bytes: u64 },
    /// A sheet (or the workbook) would need more cells than [`MAX_CELLS`].
    Cells { sheet: Option<String>, cells: u64 },
    /// The container is unreadable at this level (the caller reports it as damaged).
    Damaged(String),
}

/// Inflates every entry of a zip into a counter. Returns the entry names.
pub fn zip_entries(bytes: &[u8]) -> Result<Vec<String>, Refused> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| Refused::Damaged(e.to_string()))?;
    let mut names = Vec::with_capacity(archive.len());
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| Refused::Damaged(e.to_string()))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let left = MAX_INFLATED_BYTES - total;
        let cap = MAX_ENTRY_BYTES.min(left);
        let n = std::io::copy(&mut (&mut entry).take(cap + 1), &mut std::io::sink())
            .map_err(|e| Refused::Damaged(format!("{name}: {e}")))?;
        if n > cap {
            return Err(Refused::Inflates {
                entry: name,
                bytes: total + n,
            });
        }
        total += n;
        names.push(name);
    }
    Ok(names)
}

/// One zip entry, inflated (after [`zip_entries`] bounded it).
pub fn zip_entry(bytes: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut entry = archive.by_name(name).ok()?;
    let mut out = Vec::new();
    (&mut entry)
        .take(MAX_ENTRY_BYTES)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// The cells calamine's `.xls` reader will allocate: for each sheet (BIFF substream), the
/// bounding box of its cell records.
pub fn xls_cells(bytes: &[u8]) -> Result<u64, Refused> {
    let mut file =
        cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| Refused::Damaged(e.to_string()))?;
    let stream = ["/Workbook", "/Book"]
        .into_iter()
        .find(|p| file.is_stream(p))
        .ok_or_else(|| Refused::Damaged("no Workbook stream".into()))?;
    let mut data = Vec::new();
    file.open_stream(stream)
        .and_then(|mut s| s.read_to_end(&mut data))
        .map_err(|e| Refused::Damaged(e.to_string()))?;
    Ok(biff_cells(&data))
}

/// Record types that carry a cell: row (u16) and column (u16) first. MULRK and MULBLANK
/// carry a first column and a last column (in their last two bytes).
const CELL_RECORDS: [u16; 10] = [
    0x0006, // FORMULA
    0x00FD, // LABELSST
    0x0203, // NUMBER
    0x027E, // RK
    0x0201, // BLANK
    0x0204, // LABEL
    0x0205, // BOOLERR
    0x00D6, // RSTRING
    0x00BD, // MULRK
    0x00BE, // MULBLANK
];
const BOF: u16 = 0x0809;

fn biff_cells(data: &[u8]) -> u64 {
    let mut total = 0u64;
    // (min row, max row, min col, max col) of the current substream.
    let mut bbox: Option<(u32, u32, u32, u32)> = None;
    let area = |b: Option<(u32, u32, u32, u32)>| {
        b.map_or(0, |(r0, r1, c0, c1)| {
            u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1)
        })
    };
    let mut at = 0usize;
    while at + 4 <= data.len() {
        let kind = u16::from_le_bytes([data[at], data[at + 1]]);
        let len = usize::from(u16::from_le_bytes([data[at + 2], data[at + 3]]));
        let body = &data[at + 4..(at + 4 + len).min(data.len())];
        at += 4 + len;
        if kind == BOF {
            total += area(bbox.take());
            continue;
        }
        if !CELL_RECORDS.contains(&kind) || body.len() < 4 {
            continue;
        }
        let row = u32::from(u16::from_le_bytes([body[0], body[1]]));
        let first = u32::from(u16::from_le_bytes([body[2], body[3]]));
        let last = if (kind == 0x00BD || kind == 0x00BE) && body.len() >= 6 {
            let n = body.len();
            u32::from(u16::from_le_bytes([body[n - 2], body[n - 1]])).max(first)
        } else {
            first
        };
        bbox = Some(match bbox {
            None => (row, row, first, last),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(first), c1.max(last)),
        });
    }
    total + area(bbox)
}

/// The cells calamine's `.ods` reader will materialise for `content.xml`: per table, the cells
/// pushed while reading rows (repeated used cells count each time) and the grid it then builds
/// (used rows, repeats included, times the used width). Stops counting past [`MAX_CELLS`].
pub fn ods_cells(content: &[u8]) -> Result<u64, Refused> {
    let mut reader = quick_xml::Reader::from_reader(content);
    let mut buf = Vec::new();
    let mut done = 0u64;
    let mut table = TableCount::default();
    let mut row = RowCount::default();
    let mut in_row = false;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| Refused::Damaged(e.to_string()))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            match e.name().as_ref() {
                "table:table" => table = TableCount::default(),
                "table:table-row" => {
                    row = RowCount {
                        repeats: repeat(e, "table:number-rows-repeated"),
                        ..RowCount::default()
                    };
                    in_row = true;
                }
                "table:table-cell" | "table:covered-table-cell" if in_row => {
                    let n = repeat(e, "table:number-columns-repeated");
                    // Used: a value or formula, or content (child elements). Counting content
                    // as used errs on the side of more cells.
                    let valued = e.attributes().flatten().any(|a| {
                        matches!(
                            a.key.as_ref(),
                            "office:value-type" | "office:value" | "table:formula"
                        )
                    });
                    row.note(n, valued || !empty);
                }
                _ => {}
            }
        }
        match &event {
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                in_row = false;
                table.add_row(&row);
                if done.saturating_add(table.cells()) > MAX_CELLS {
                    return Err(Refused::Cells {
                        sheet: None,
                        cells: done.saturating_add(table.cells()),
                    });
                }
            }
            Event::End(e) if e.name().as_ref() == "table:table" => {
                done = done.saturating_add(table.cells());
                table = TableCount::default();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(done.saturating_add(table.cells()))
}

fn repeat(e: &quick_xml::events::BytesStart<'_>, key: &str) -> u64 {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| a.value.trim().parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// calamine caps a row at this many columns and a table at this many rows.
const ODS_MAX_COLUMNS: u64 = 16_384;
const ODS_MAX_ROWS: u64 = 1_048_576;

#[derive(Debug, Default)]
struct RowCount {
    repeats: u64,
    /// Columns so far (empty runs included).
    width: u64,
    /// One past the last used column: the cells calamine pushes for the row (an empty run is
    /// pushed only when a used cell follows it).
    used_width: u64,
}

impl RowCount {
    fn note(&mut self, n: u64, used: bool) {
        let n = n.min(ODS_MAX_COLUMNS.saturating_sub(self.width));
        self.width += n;
        if used {
            self.used_width = self.width;
        }
    }
}

#[derive(Debug, Default)]
struct TableCount {
    rows: u64,
    first_used: Option<u64>,
    /// Rows up to and including the last used one.
    last_used_end: u64,
    width: u64,
    pushed: u64,
}

impl TableCount {
    fn add_row(&mut self, row: &RowCount) {
        let repeats = row.repeats.min(ODS_MAX_ROWS.saturating_sub(self.rows));
        if row.used_width > 0 {
            self.first_used.get_or_insert(self.rows);
            self.last_used_end = self.rows + repeats;
            self.width = self.width.max(row.used_width);
        }
        self.pushed = self.pushed.saturating_add(row.used_width);
        self.rows += repeats;
    }

    /// Pushed cells plus the grid built from them.
    fn cells(&self) -> u64 {
        let grid = match self.first_used {
            Some(first) => (self.last_used_end - first).saturating_mul(self.width),
            None => 0,
        };
        self.pushed.saturating_add(grid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ods_row_repeated_a_million_times_is_counted_not_built() {
        let xml = br#"<office:document-content><office:body><office:spreadsheet>
            <table:table table:name="S">
              <table:table-row table:number-rows-repeated="1048576">
                <table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p></table:table-cell>
              </table:table-row>
            </table:table></office:spreadsheet></office:body></office:document-content>"#;
        assert!(matches!(ods_cells(xml), Err(Refused::Cells { .. })));
        let small = br#"<table:table table:name="S">
              <table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell><table:table-cell/><table:table-cell office:value-type="float" office:value="1"/></table:table-row>
              <table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="5"/></table:table-row>
              <table:table-row><table:table-cell office:value-type="string"><text:p>b</text:p></table:table-cell></table:table-row>
            </table:table>"#;
        // Rows 1..5 used (5 rows with the 3 empty ones between) × width 3, plus 3 + 1 pushed.
        assert_eq!(ods_cells(small).unwrap(), 5 * 3 + 4);
    }

    #[test]
    fn biff_bounding_boxes_per_sheet() {
        let mut data = Vec::new();
        let mut rec = |kind: u16, body: &[u8]| {
            data.extend_from_slice(&kind.to_le_bytes());
            data.extend_from_slice(&(body.len() as u16).to_le_bytes());
            data.extend_from_slice(body);
        };
        rec(BOF, &[0; 16]); // workbook globals
        rec(BOF, &[0; 16]); // sheet 1
        rec(0x0203, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // A1
        rec(
            0x0203,
            &[0xFF, 0xFF, 0xFF, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ); // IV65536
        rec(BOF, &[0; 16]); // sheet 2
        rec(0x00BE, &[2, 0, 1, 0, 0, 0, 0, 0, 3, 0]); // MULBLANK row 3, B..D
        assert_eq!(biff_cells(&data), 65536 * 256 + 3);
    }
}
