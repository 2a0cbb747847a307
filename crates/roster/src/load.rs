//! From source files to a checked [`Roster`]: header mapping, school and class inference,
//! per-row validation, and the checks across rows (duplicates, look-alike names).

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::header::{self, Field, Header, column_letter};
use crate::id::{self, Gender, IdFinding};
use crate::messages::{id_problem, name_problem, numeric_id_problem, read_problem};
use crate::model::{Class, Roster, School, SchoolKind, SheetInfo, Student};
use crate::name;
use crate::problem::{Code, Location, Problem, Severity, Text};
use crate::read::{self, Cell, Table};

/// One input file, as bytes, with the names it is known by.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file as the user named it; the folder-relative path when found by walking a folder
    /// (`梧州市万秀区城北小学/一年级1班.csv`). Used in every report.
    pub path: String,
    /// The name of the folder holding the file, when known: the school when files are one per
    /// class.
    pub folder: Option<String>,
    pub bytes: Vec<u8>,
}

impl Source {
    /// File name without folders and extension.
    pub fn stem(&self) -> &str {
        let file = self.path.rsplit(['/', '\\']).next().unwrap_or(&self.path);
        match file.rfind('.') {
            Some(dot) if dot > 0 => &file[..dot],
            _ => file,
        }
    }

    /// Lower-case extension without the dot.
    pub fn extension(&self) -> String {
        let file = self.path.rsplit(['/', '\\']).next().unwrap_or(&self.path);
        file.rfind('.')
            .map(|dot| file[dot + 1..].to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// How to load.
#[derive(Debug, Clone)]
pub struct Options {
    /// The roster date: birth dates after it are errors, ages are taken on it.
    pub as_of: NaiveDate,
    /// Kindergarten children need no photo unless this is set.
    pub kindergarten_photos: bool,
}

/// Words that end a roster file's name but are not part of the school's name.
const FILE_SUFFIXES: &[&str] = &[
    "社保卡学生名册",
    "社保卡名册",
    "学生花名册",
    "学生名册",
    "学生名单",
    "花名册",
    "名册",
    "名单",
    "信息表",
];

/// First words of rows under the data that are not students.
const FOOTER_WORDS: &[&str] = &[
    "合计",
    "总计",
    "小计",
    "共计",
    "制表",
    "填表",
    "审核",
    "负责人",
    "备注",
    "说明",
    "注：",
    "注:",
];

/// Loads and checks every source. Files that cannot be read are reported as problems with no
/// sheet (see [`Roster::unreadable_files`]); the others load regardless.
pub fn load(sources: &[Source], options: &Options) -> Roster {
    let mut b = Builder {
        as_of: options.as_of,
        ..Builder::default()
    };
    for (file_index, source) in sources.iter().enumerate() {
        b.file(file_index, source);
    }
    b.finish(options)
}

/// A student row before school-wide checks, with its problems.
struct Row {
    student: Student,
    problems: Vec<Problem>,
    order: (usize, usize),
}

#[derive(Default)]
struct Builder {
    as_of: NaiveDate,
    rows: Vec<Row>,
    sheets: Vec<SheetInfo>,
    /// Problems that belong to no row, with their sort key.
    other: Vec<((usize, usize, u32), Problem)>,
}

impl Builder {
    fn file(&mut self, file_index: usize, source: &Source) {
        let file_loc = Location {
            file: source.path.clone(),
            ..Location::default()
        };
        let workbook = match read::read(&source.bytes, &source.extension()) {
            Ok(w) => w,
            Err(e) => {
                self.other
                    .push(((file_index, 0, 0), read_problem(&e, file_loc)));
                return;
            }
        };
        let mut found_header = false;
        let mut skipped = Vec::new();
        for (table_index, mut table) in workbook.tables.into_iter().enumerate() {
            if table.sheet.is_empty() {
                table.sheet = source.stem().to_string();
            }
            if table.rows.iter().all(|r| r.iter().all(Cell::is_blank)) {
                continue; // Empty sheets are normal (Sheet2, Sheet3).
            }
            match header::find(&table) {
                Some(h) => {
                    found_header = true;
                    self.table(
                        source,
                        workbook.format,
                        (file_index, table_index),
                        table,
                        &h,
                    );
                }
                None => skipped.push((table_index, table.sheet)),
            }
        }
        if !found_header {
            let msg = Text::new(
                "没有找到表头：前 30 行中没有同时包含“身份证号码”和“姓名”的行。请确认这是学生名册，表头写的是“身份证号码”（或“公民身份号码”）和“姓名”。",
                "No header found: none of the first 30 rows holds both an ID-number column (身份证号码) and a name column (姓名). Check that this is a student roster with those headers.",
            );
            self.other.push((
                (file_index, 0, 0),
                Problem::new(Code::FileNoHeader, file_loc, msg),
            ));
            return;
        }
        for (table_index, sheet) in skipped {
            let loc = Location {
                sheet: Some(sheet.clone()),
                ..file_loc.clone()
            };
            let msg = Text::new(
                format!(
                    "工作表“{sheet}”没有学生名单表头（身份证号码、姓名），已跳过（如汇总表）。"
                ),
                format!(
                    "Sheet \"{sheet}\" has no roster header (ID number, name) and was skipped (e.g. a summary sheet)."
                ),
            );
            self.other.push((
                (file_index, table_index, 0),
                Problem::new(Code::SheetSkipped, loc, msg),
            ));
        }
    }

    fn table(
        &mut self,
        source: &Source,
        format: read::Format,
        order: (usize, usize),
        table: Table,
        h: &Header,
    ) {
        let width = table
            .rows
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .max(h.texts.len());
        let mut headers = h.texts.clone();
        headers.resize(width, String::new());
        let sheet_index = self.sheets.len();
        self.sheets.push(SheetInfo {
            file: source.path.clone(),
            sheet: table.sheet.clone(),
            format,
            header_row: table.row_number(h.index),
            headers,
            columns: h.columns.clone(),
        });
        let sheet = &self.sheets[sheet_index];

        // Class: column, else a sheet name that is not a default one, else the file name.
        // School: column, else the folder when the file is one class, else the file name.
        let class_fallback = if format == read::Format::Csv || is_default_sheet_name(&table.sheet) {
            source.stem().to_string()
        } else {
            table.sheet.clone()
        };
        let class_is_file = !h.columns.has(Field::Class) && class_fallback == source.stem();
        let school_fallback = school_from_names(source, class_is_file);

        let first_row = table.first_row;
        for (index, cells) in table.rows.into_iter().enumerate().skip(h.index + 1) {
            let cell = |f: Field| {
                h.columns
                    .get(f)
                    .and_then(|c| cells.get(c))
                    .unwrap_or(&Cell::Empty)
            };
            let id_cell = cell(Field::Id);
            let name_cell = cell(Field::Name);
            if id_cell.is_blank() && name_cell.is_blank() {
                continue; // Blank rows and footers without a name or ID.
            }
            if let Cell::Text(name) = name_cell {
                let name = name.trim();
                if id_cell.is_blank() && FOOTER_WORDS.iter().any(|w| name.starts_with(w)) {
                    continue;
                }
                if name.contains('名') && header::field(name) == Some(Field::Name) {
                    continue; // A header repeated on every printed page.
                }
            }
            let row = first_row + u32::try_from(index).unwrap_or(u32::MAX - first_row);
            let text_or = |f: Field, fallback: &str| match cell(f) {
                Cell::Text(v) if !v.trim().is_empty() => v.trim().to_string(),
                c if c.is_blank() => fallback.to_string(),
                c => c.display(),
            };
            let school = text_or(Field::School, &school_fallback);
            let class = text_or(Field::Class, &class_fallback);
            let ctx = RowCtx {
                file: &source.path,
                sheet,
                row,
                as_of: self.as_of,
            };
            self.rows.push(check_row(
                &ctx,
                sheet_index,
                (school, class),
                cells,
                width,
                order,
            ));
        }
    }

    fn finish(mut self, options: &Options) -> Roster {
        // Group into schools and classes in order of first appearance.
        let mut schools: Vec<School> = Vec::new();
        let mut school_index: HashMap<&str, usize> = HashMap::new();
        let mut class_index: HashMap<(&str, &str), usize> = HashMap::new();
        let mut place: Vec<(usize, usize)> = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let s = &row.student;
            // Rows of one class follow each other: skip the lookups for a repeat.
            if let (Some(&(si, ci)), Some(prev)) = (place.last(), place.len().checked_sub(1))
                && self.rows[prev].student.class == s.class
                && self.rows[prev].student.school == s.school
            {
                place.push((si, ci));
                continue;
            }
            let si = *school_index.entry(&s.school).or_insert_with(|| {
                schools.push(School {
                    name: s.school.clone(),
                    kind: SchoolKind::from_name(&s.school),
                    classes: Vec::new(),
                });
                schools.len() - 1
            });
            let ci = *class_index.entry((&s.school, &s.class)).or_insert_with(|| {
                schools[si].classes.push(Class {
                    name: s.class.clone(),
                    students: Vec::new(),
                });
                schools[si].classes.len() - 1
            });
            place.push((si, ci));
        }
        drop((school_index, class_index));
        // Checks that need the school: age, photo requirement.
        for (row, &(si, _)) in self.rows.iter_mut().zip(&place) {
            let kind = schools[si].kind;
            row.student.photo_required =
                kind != SchoolKind::Kindergarten || options.kindergarten_photos;
            age_checks(row, kind, options.as_of, &self.sheets);
        }
        duplicate_checks(&mut self.rows, &self.sheets);
        same_name_checks(&mut self.rows, &self.sheets);
        assign_keys(&mut self.rows);

        let mut problems: Vec<((usize, usize, u32), Problem)> = self.other;
        for (mut row, (si, ci)) in self.rows.into_iter().zip(place) {
            let s = &mut row.student;
            s.errors = count(&row.problems, Severity::Error);
            s.warnings = count(&row.problems, Severity::Warning);
            problems.extend(
                row.problems
                    .into_iter()
                    .map(|p| ((row.order.0, row.order.1, s.row), p)),
            );
            schools[si].classes[ci].students.push(row.student);
        }
        problems.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.code.cmp(&b.1.code)));
        Roster {
            schools,
            sheets: self.sheets,
            problems: problems.into_iter().map(|(_, p)| p).collect(),
        }
    }
}

fn count(problems: &[Problem], severity: Severity) -> u32 {
    u32::try_from(problems.iter().filter(|p| p.severity() == severity).count()).unwrap_or(u32::MAX)
}

fn is_default_sheet_name(name: &str) -> bool {
    let lower = name.trim().to_lowercase();
    let rest = lower
        .strip_prefix("sheet")
        .or_else(|| lower.strip_prefix("工作表"))
        .or_else(|| lower.strip_prefix("表"));
    match rest {
        Some(r) => r.trim().chars().all(|c| c.is_ascii_digit()),
        None => lower.is_empty(),
    }
}

fn school_from_names(source: &Source, file_is_class: bool) -> String {
    let stem = source.stem();
    if file_is_class && let Some(folder) = &source.folder {
        return folder.clone();
    }
    let mut name = stem.trim();
    for suffix in FILE_SUFFIXES {
        if let Some(rest) = name.strip_suffix(suffix) {
            name = rest.trim_end_matches(['-', '_', ' ']);
            break;
        }
    }
    if name.is_empty() {
        source.folder.clone().unwrap_or_else(|| stem.to_string())
    } else {
        name.to_string()
    }
}

struct RowCtx<'a> {
    file: &'a str,
    sheet: &'a SheetInfo,
    row: u32,
    as_of: NaiveDate,
}

impl RowCtx<'_> {
    fn loc(&self, field: Option<Field>) -> Location {
        location(self.file, self.sheet, self.row, field)
    }
}

fn location(file: &str, sheet: &SheetInfo, row: u32, field: Option<Field>) -> Location {
    let col = field.and_then(|f| sheet.columns.get(f));
    Location {
        file: file.to_string(),
        sheet: Some(sheet.sheet.clone()),
        row: Some(row),
        column: col.map(column_letter),
        header: col
            .and_then(|c| sheet.headers.get(c))
            .map(|h| h.replace('\n', "")),
    }
}

/// `4.50405E+17`, `4.50405201602031e17`: what a CSV holds for an ID that was a number cell.
fn is_scientific(text: &str) -> bool {
    let t = text.trim();
    let Some((mantissa, exp)) = t.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

fn check_row(
    ctx: &RowCtx<'_>,
    sheet_index: usize,
    (school, class): (String, String),
    cells: Vec<Cell>,
    width: usize,
    order: (usize, usize),
) -> Row {
    let cell = |f: Field| {
        ctx.sheet
            .columns
            .get(f)
            .and_then(|c| cells.get(c))
            .unwrap_or(&Cell::Empty)
    };
    let mut problems = Vec::new();
    let id_loc = || ctx.loc(Some(Field::Id));
    let name_loc = || ctx.loc(Some(Field::Name));
    let id_cell = cell(Field::Id);
    let id_display = id_cell.display();

    // The ID number: numeric cells first, since their digits are gone.
    let mut id_text = id_display.trim().to_string();
    let mut id_number = None;
    let mut id_numeric = false;
    match id_cell {
        c if c.is_blank() => problems.push(Problem::new(
            Code::IdEmpty,
            id_loc(),
            Text::new(
                "身份证号码为空。请向学校或家长核实后填写（可用《信息采集表》）。",
                "The ID number is empty. Get it from the school or the parents (the information form helps) and fill it in.",
            ),
        )),
        Cell::Number(_) => {
            id_numeric = true;
            problems.push(numeric_id_problem(id_loc(), &id_display));
        }
        Cell::Text(t) if is_scientific(t) => {
            id_numeric = true;
            problems.push(numeric_id_problem(id_loc(), &id_display));
        }
        _ => {
            let check = id::check(&id_display, ctx.as_of, None);
            id_text.clone_from(&check.normalised);
            problems.extend(
                check
                    .findings
                    .iter()
                    .map(|f| id_problem(f, id_loc(), &id_display, &check.normalised)),
            );
            id_number = check.usable().map(str::to_string);
        }
    }

    // The name.
    let name_raw = cell(Field::Name).display();
    let name_check = name::check(&name_raw);
    problems.extend(
        name_check
            .findings
            .iter()
            .map(|f| name_problem(f, name_loc(), &name_raw, &name_check.normalised)),
    );

    // School and class become folder names.
    for (what_zh, what_en, folder) in [("学校", "school", &school), ("班级", "class", &class)] {
        if let Some(n) = crate::filename::folder_too_long(folder) {
            problems.push(Problem::new(
                Code::FolderNameTooLong,
                ctx.loc(None),
                Text::new(
                    format!(
                        "{what_zh}名称“{folder}”有 {n} 个字，超过文件夹名允许的 {} 个字。请改短名称。",
                        crate::filename::MAX_FOLDER_CHARS
                    ),
                    format!(
                        "The {what_en} name {folder:?} has {n} characters, more than the {} a folder name allows. Shorten it.",
                        crate::filename::MAX_FOLDER_CHARS
                    ),
                ),
            ));
        }
    }

    // Gender against the 17th digit (only for a usable number).
    let gender_text = cell(Field::Gender).display();
    let gender = Gender::parse(&gender_text);
    if let (Some(g), Some(id)) = (gender, id_number.as_deref())
        && let Some(from_id) = id::gender(id)
        && from_id != g
    {
        problems.push(
            Problem::new(
                Code::GenderMismatch,
                ctx.loc(Some(Field::Gender)),
                Text::new(
                    format!("性别写的是“{}”，但身份证号码第 17 位表示“{}”。请核对性别或身份证号码。", g.zh(), from_id.zh()),
                    format!("Gender says {:?} but the ID number's 17th digit says {:?}. Check the gender or the ID number.", g, from_id),
                ),
            )
            .with_value(gender_text.trim()),
        );
    }

    // 核对前 values: as received, never validated, never changed.
    let orig_id_col = ctx.sheet.columns.has(Field::OriginalId);
    let orig_name_col = ctx.sheet.columns.has(Field::OriginalName);
    let orig_id = cell(Field::OriginalId).display().trim().to_string();
    let orig_name = cell(Field::OriginalName).display().trim().to_string();
    let addition = (orig_id_col || orig_name_col) && orig_id.is_empty() && orig_name.is_empty();
    let mut corrected = Vec::new();
    if !addition {
        if orig_id_col && !orig_id.is_empty() && !id_numeric && !id_text.is_empty() {
            let (orig_norm, _) = id::normalise(&orig_id);
            if orig_norm != id_text {
                corrected.push(("身份证号码", "ID number", orig_id.clone(), id_text.clone()));
            }
        }
        if orig_name_col && !orig_name.is_empty() && !name_check.normalised.is_empty() {
            let orig_norm = name::check(&orig_name).normalised;
            if orig_norm != name_check.normalised {
                corrected.push((
                    "姓名",
                    "name",
                    orig_name.clone(),
                    name_check.normalised.clone(),
                ));
            }
        }
    }
    if !corrected.is_empty() {
        let zh: Vec<String> = corrected
            .iter()
            .map(|(f, _, a, b)| format!("{f}由“{a}”改为“{b}”"))
            .collect();
        let en: Vec<String> = corrected
            .iter()
            .map(|(_, f, a, b)| format!("{f} {a} → {b}"))
            .collect();
        problems.push(Problem::new(
            Code::Correction,
            ctx.loc(None),
            Text::new(
                format!("已更正：{}（核对前的值保持不变）。", zh.join("，")),
                format!(
                    "Corrected: {} (the 核对前 values stay as they are).",
                    en.join(", ")
                ),
            ),
        ));
    }
    if addition {
        problems.push(Problem::new(
            Code::Addition,
            ctx.loc(None),
            Text::new(
                "名单外新增的学生（核对前身份证号码、核对前姓名为空）。",
                "A student added to the list (the 核对前 columns are empty).",
            ),
        ));
    }

    // The row's cells as the file shows them, for the sheets written later (moved, not copied).
    let mut cells: Vec<String> = cells.into_iter().map(Cell::into_display).collect();
    cells.resize(width, String::new());
    let student = Student {
        key: String::new(),
        school,
        class,
        sheet: sheet_index,
        row: ctx.row,
        original_id: if orig_id_col {
            orig_id
        } else {
            id_display.trim().to_string()
        },
        original_name: if orig_name_col {
            orig_name
        } else {
            name_raw.trim().to_string()
        },
        id_number,
        id_text,
        name: name_check.normalised,
        gender,
        cells,
        photo_required: true,
        errors: 0,
        warnings: 0,
        correction: !corrected.is_empty(),
        addition,
    };
    Row {
        student,
        problems,
        order,
    }
}

fn age_checks(row: &mut Row, kind: SchoolKind, as_of: NaiveDate, sheets: &[SheetInfo]) {
    // Only numbers whose structure is sound: 18 characters, digits (X last), a real date.
    // Age needs the school's kind, which is known only once every row is read.
    let text = &row.student.id_text;
    let structured = text.len() == 18
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 17 && b == b'X'));
    let Some(birth) = id::birth_date(text).filter(|_| structured) else {
        return;
    };
    // A birth date in the future was reported with the other ID findings.
    let range = kind.ages();
    let age = id::age_on(birth, as_of);
    if birth > as_of || (age >= range.min && age <= range.max) {
        return;
    }
    let finding = IdFinding::Age { age, range };
    let sheet = &sheets[row.student.sheet];
    let loc = location(&sheet.file, sheet, row.student.row, Some(Field::Id));
    let raw = row
        .student
        .cells
        .get(sheet.columns.get(Field::Id).unwrap_or(0))
        .cloned()
        .unwrap_or_default();
    row.problems
        .push(id_problem(&finding, loc, &raw, &row.student.id_text));
    row.student.id_number = None;
}

fn duplicate_checks(rows: &mut [Row], sheets: &[SheetInfo]) {
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if let Some(id) = &row.student.id_number {
            by_id.entry(id).or_default().push(i);
        }
    }
    // In row order, so the report is the same on every run.
    let mut groups: Vec<Vec<usize>> = by_id.into_values().filter(|m| m.len() > 1).collect();
    groups.sort_unstable();
    for members in &groups {
        for &i in members {
            let me = &rows[i].student;
            let describe = |j: usize| {
                let o = &rows[j].student;
                let s = &sheets[o.sheet];
                (
                    format!("{}（{}）第 {} 行 {}", o.school, s.sheet, o.row, o.name),
                    format!("{} ({}) row {} {}", o.school, s.sheet, o.row, o.name),
                )
            };
            let same: Vec<_> = members
                .iter()
                .filter(|&&j| j != i && rows[j].student.school == me.school)
                .map(|&j| describe(j))
                .collect();
            let other: Vec<_> = members
                .iter()
                .filter(|&&j| rows[j].student.school != me.school)
                .map(|&j| describe(j))
                .collect();
            let sheet = &sheets[me.sheet];
            let loc = location(&sheet.file, sheet, me.row, Some(Field::Id));
            let id = me.id_number.clone().unwrap_or_default();
            let mut new = Vec::new();
            if !same.is_empty() {
                let (zh, en): (Vec<_>, Vec<_>) = same.into_iter().unzip();
                new.push(Problem::new(
                    Code::DuplicateIdInSchool,
                    loc.clone(),
                    Text::new(
                        format!("本校有相同的身份证号码：{}。同一学生列了两次，或抄错了别人的号码。", zh.join("；")),
                        format!("The same ID number appears elsewhere in this school: {}. The student is listed twice or another student's number was copied.", en.join("; ")),
                    ),
                ).with_value(id.clone()));
            }
            if !other.is_empty() {
                let (zh, en): (Vec<_>, Vec<_>) = other.into_iter().unzip();
                new.push(Problem::new(
                    Code::DuplicateIdAcrossSchools,
                    loc,
                    Text::new(
                        format!("其他学校也有这个身份证号码：{}。请与两校核实该生在哪所学校。", zh.join("；")),
                        format!("Another school has the same ID number: {}. Check with both schools where the student is enrolled.", en.join("; ")),
                    ),
                ).with_value(id));
            }
            rows[i].problems.extend(new);
        }
    }
}

fn same_name_checks(rows: &mut [Row], sheets: &[SheetInfo]) {
    let mut by_name: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let s = &row.student;
        if !s.name.is_empty() {
            by_name
                .entry((&s.school, &s.class, &s.name))
                .or_default()
                .push(i);
        }
    }
    let mut found: Vec<(usize, Vec<u32>)> = Vec::new();
    for members in by_name.values().filter(|m| m.len() > 1) {
        for &i in members {
            let others: Vec<u32> = members
                .iter()
                .filter(|&&j| j != i && rows[j].student.id_text != rows[i].student.id_text)
                .map(|&j| rows[j].student.row)
                .collect();
            if !others.is_empty() {
                found.push((i, others));
            }
        }
    }
    for (i, others) in found {
        let s = &rows[i].student;
        let sheet = &sheets[s.sheet];
        let list = others
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join("、");
        let p = Problem::new(
            Code::SameNameInClass,
            location(&sheet.file, sheet, s.row, Some(Field::Name)),
            Text::new(
                format!(
                    "同班有同名学生（第 {list} 行），身份证号码不同。拍照时请核对身份证号码，切莫张冠李戴。"
                ),
                format!(
                    "Another student in this class has the same name (row {list}) and a different ID number. Check the ID number when photographing."
                ),
            ),
        );
        rows[i].problems.push(p);
    }
}

fn assign_keys(rows: &mut [Row]) {
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in rows {
        let s = &row.student;
        let base = if s.original_id.is_empty() {
            let name = if s.original_name.is_empty() {
                &s.name
            } else {
                &s.original_name
            };
            format!("{}/{}/{}", s.school, s.class, name)
        } else {
            id::normalise(&s.original_id).0
        };
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        row.student.key = if *n == 1 { base } else { format!("{base}#{n}") };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scientific_text() {
        assert!(is_scientific("4.50202E+17"));
        assert!(is_scientific("4.50405201602031e17"));
        assert!(is_scientific("4E+17"));
        assert!(!is_scientific("45040320190914394X"));
        assert!(!is_scientific("E+17"));
        assert!(!is_scientific("4.5E"));
    }

    #[test]
    fn default_sheet_names() {
        for n in ["Sheet1", "sheet", "工作表1", "表1", ""] {
            assert!(is_default_sheet_name(n), "{n}");
        }
        for n in ["一年级1班", "汇总", "名册"] {
            assert!(!is_default_sheet_name(n), "{n}");
        }
    }

    #[test]
    fn school_names_from_files() {
        let src = |path: &str, folder: Option<&str>| Source {
            path: path.into(),
            folder: folder.map(str::to_string),
            bytes: Vec::new(),
        };
        assert_eq!(
            school_from_names(&src("梧州市长洲区滨江小学社保卡学生名册.xlsx", None), false),
            "梧州市长洲区滨江小学"
        );
        assert_eq!(
            school_from_names(&src("城北小学/一年级1班.csv", Some("城北小学")), true),
            "城北小学"
        );
        assert_eq!(
            school_from_names(&src("名册.xlsx", Some("某中学")), false),
            "某中学"
        );
    }
}
