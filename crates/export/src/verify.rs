//! Checking a school's folder before it leaves: every student who needs a photo has exactly
//! one, under the name the current roster gives; nothing else is in the folder; every photo is
//! a real JPEG of the profile's size, density and size window; each class sheet lists exactly
//! the students whose photos are there.
//!
//! Pure: the caller lists the folder and reads what each file is ([`Found`]); [`verify`]
//! compares it with what the roster expects ([`Expected`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::Text;

/// A stable defect code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// A student who needs a photo has none.
    MissingPhoto,
    /// A student needs a photo but the roster row has an error, so no file name can be made.
    RosterError,
    /// A photo whose ID belongs to a student of the class, under another name.
    NameMismatch,
    /// A student's file name the office or Windows would not take (name rules, lengths).
    BadFileName,
    /// A file that belongs to no student.
    ExtraFile,
    /// A `.jpg` that is not a readable JPEG.
    NotJpeg,
    WrongSize,
    WrongDensity,
    NotRgb,
    FileSize,
    /// The class sheet is missing.
    MissingSheet,
    /// The class sheet cannot be read.
    BadSheet,
    /// The sheet and the photos disagree.
    SheetMismatch,
    /// Two students' photos show the same face and nobody confirmed they are two people.
    SameFace,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MissingPhoto => "missing_photo",
            Code::RosterError => "roster_error",
            Code::NameMismatch => "name_mismatch",
            Code::BadFileName => "bad_file_name",
            Code::ExtraFile => "extra_file",
            Code::NotJpeg => "not_jpeg",
            Code::WrongSize => "wrong_size",
            Code::WrongDensity => "wrong_density",
            Code::NotRgb => "not_rgb",
            Code::FileSize => "file_size",
            Code::MissingSheet => "missing_sheet",
            Code::BadSheet => "bad_sheet",
            Code::SheetMismatch => "sheet_mismatch",
            Code::SameFace => "same_face",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Defect {
    pub code: Code,
    pub class: String,
    /// The file, relative to the school folder, when the defect is about one.
    pub file: Option<String>,
    pub message: Text,
}

/// One student of a class as the roster has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub name: String,
    /// The checked ID; `None` while the roster row has an error.
    pub id_number: Option<String>,
    /// The photo's file name (`<id>-<name>.jpg`), when one can be made.
    pub file: Option<String>,
    pub needs_photo: bool,
}

/// What the folder must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// The school (the zip's top folder).
    pub school: String,
    /// Between ID number and name in file names.
    pub separator: String,
    /// Class name → students in roster order.
    pub classes: BTreeMap<String, Vec<Student>>,
    pub width: u16,
    pub height: u16,
    pub dpi: u16,
    pub size_min_kb: u32,
    pub size_max_kb: u32,
    /// Pairs of students of one class whose photos show the same face, not confirmed as two
    /// people (the session's face check, `session::FacePair`).
    pub same_faces: Vec<SameFace>,
}

/// Two students of a class whose photos look like one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SameFace {
    pub class: String,
    /// The two students' names, and the photo file of the later one.
    pub names: [String; 2],
    pub file: Option<String>,
}

/// What one file in the folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facts {
    Jpeg {
        width: u16,
        height: u16,
        components: u8,
        /// JFIF density unit (1 = dots per inch) and value.
        density_unit: u8,
        density: u16,
        bytes: u64,
    },
    /// Named `.jpg` but not readable as JPEG.
    NotJpeg,
    /// A class sheet, read back: the (ID, name) of every row.
    Sheet(Result<Vec<(String, String)>, String>),
    /// Anything else.
    Other,
}

/// A file found in the school folder: `<class>/<file name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub class: String,
    pub file: String,
    pub facts: Facts,
}

/// The name of a class's sheet.
pub fn sheet_file(class: &str) -> String {
    format!("{class}.xlsx")
}

/// Every defect, ordered by class, code and file.
pub fn verify(expected: &Expected, found: &[Found]) -> Vec<Defect> {
    let mut defects = Vec::new();
    let mut push = |code: Code, class: &str, file: Option<&str>, zh: String, en: String| {
        defects.push(Defect {
            code,
            class: class.to_string(),
            file: file.map(|f| format!("{class}/{f}")),
            message: Text::new(zh, en),
        });
    };
    let mut by_class: BTreeMap<&str, Vec<&Found>> = BTreeMap::new();
    for f in found {
        by_class.entry(f.class.as_str()).or_default().push(f);
    }
    for (class, students) in &expected.classes {
        let files = by_class.remove(class.as_str()).unwrap_or_default();
        let wanted: BTreeMap<&str, &Student> = students
            .iter()
            .filter_map(|s| Some((s.file.as_deref()?, s)))
            .collect();
        let present: BTreeSet<&str> = files.iter().map(|f| f.file.as_str()).collect();
        for s in students.iter().filter(|s| s.needs_photo) {
            match &s.file {
                None => push(
                    Code::RosterError,
                    class,
                    None,
                    format!(
                        "{} 的名册信息有误，无法给照片命名：请改正名册后重新载入",
                        s.name
                    ),
                    format!(
                        "{}: the roster row has an error, so the photo cannot be named; fix the roster and reload it",
                        s.name
                    ),
                ),
                Some(file)
                    if let Some(why) = s.id_number.as_deref().and_then(|id| {
                        roster::filename::photo_path_problem(
                            &expected.school,
                            class,
                            id,
                            &expected.separator,
                            &s.name,
                        )
                    }) =>
                {
                    push(
                        Code::BadFileName,
                        class,
                        Some(file),
                        format!(
                            "{} 的照片文件名不可用：{}；请改正名册后重新载入",
                            s.name, why.zh
                        ),
                        format!(
                            "{}: the photo's file name cannot be used: {}; fix the roster and reload it",
                            s.name, why.en
                        ),
                    )
                }
                Some(file) if !present.contains(file.as_str()) => push(
                    Code::MissingPhoto,
                    class,
                    Some(file),
                    format!("{} 没有照片：补拍后再提交", s.name),
                    format!(
                        "{} has no photo: photograph them (make-up day) before submitting",
                        s.name
                    ),
                ),
                Some(_) => {}
            }
        }
        let sheet_name = sheet_file(class);
        let mut sheet_seen = false;
        for f in &files {
            if f.file == sheet_name {
                sheet_seen = true;
                check_sheet(class, f, students, &present, &mut push);
                continue;
            }
            match wanted.get(f.file.as_str()) {
                Some(_) => check_photo(expected, class, f, &mut push),
                None => {
                    let id = f.file.split(['-', '.']).next().unwrap_or("");
                    let owner = students
                        .iter()
                        .find(|s| !id.is_empty() && s.id_number.as_deref() == Some(id));
                    match owner.and_then(|s| s.file.as_deref().map(|file| (s, file))) {
                        Some((s, right)) => push(
                            Code::NameMismatch,
                            class,
                            Some(&f.file),
                            format!("文件名与名册不符：{} 应为 {right}（{}）", f.file, s.name),
                            format!(
                                "file name does not match the roster: {} should be {right}",
                                f.file
                            ),
                        ),
                        None => push(
                            Code::ExtraFile,
                            class,
                            Some(&f.file),
                            format!(
                                "多余的文件 {}：不属于名册上的任何学生，请删除或移出",
                                f.file
                            ),
                            format!(
                                "extra file {}: it belongs to no student on the roster; remove it",
                                f.file
                            ),
                        ),
                    }
                }
            }
        }
        if !sheet_seen {
            push(
                Code::MissingSheet,
                class,
                Some(&sheet_name),
                format!("缺少班级名册 {sheet_name}：运行 rollcall pack 会自动生成"),
                format!("the class sheet {sheet_name} is missing: rollcall pack writes it"),
            );
        }
    }
    for (class, files) in by_class {
        for f in files {
            push(
                Code::ExtraFile,
                class,
                Some(&f.file),
                format!("班级“{class}”不在名册中，文件 {} 多余", f.file),
                format!("class {class} is not on the roster: {} is extra", f.file),
            );
        }
    }
    for pair in &expected.same_faces {
        let [a, b] = &pair.names;
        defects.push(Defect {
            code: Code::SameFace,
            class: pair.class.clone(),
            file: pair.file.as_ref().map(|f| format!("{}/{f}", pair.class)),
            message: Text::new(
                format!(
                    "{a} 和 {b} 的照片像是同一个人：请核对，拍错了就顺移或重拍，确是两个人（如双胞胎）就在控制台或用 rollcall session different-people 确认"
                ),
                format!(
                    "{a} and {b}: the photos look like the same person; check them — shift or retake if one was photographed twice, or confirm they are two people (twins) in the console or with rollcall session different-people"
                ),
            ),
        });
    }
    defects.sort_by(|a, b| (&a.class, a.code, &a.file).cmp(&(&b.class, b.code, &b.file)));
    defects
}

type Push<'a> = dyn FnMut(Code, &str, Option<&str>, String, String) + 'a;

fn check_photo(expected: &Expected, class: &str, f: &Found, push: &mut Push<'_>) {
    let file = Some(f.file.as_str());
    match &f.facts {
        Facts::Jpeg {
            width,
            height,
            components,
            density_unit,
            density,
            bytes,
        } => {
            if (*width, *height) != (expected.width, expected.height) {
                push(
                    Code::WrongSize,
                    class,
                    file,
                    format!(
                        "{} 尺寸为 {width}×{height}，应为 {}×{}：请重新生成（rollcall rebuild --reprocess）",
                        f.file, expected.width, expected.height
                    ),
                    format!(
                        "{} is {width}×{height}, must be {}×{}",
                        f.file, expected.width, expected.height
                    ),
                );
            }
            if *density_unit != 1 || *density != expected.dpi {
                push(
                    Code::WrongDensity,
                    class,
                    file,
                    format!("{} 分辨率不是 {} dpi", f.file, expected.dpi),
                    format!("{} is not {} dpi", f.file, expected.dpi),
                );
            }
            if *components != 3 {
                push(
                    Code::NotRgb,
                    class,
                    file,
                    format!("{} 不是 24 位彩色照片", f.file),
                    format!("{} is not 24-bit RGB", f.file),
                );
            }
            let kb = bytes.div_ceil(1024);
            if kb < u64::from(expected.size_min_kb) || kb > u64::from(expected.size_max_kb) {
                push(
                    Code::FileSize,
                    class,
                    file,
                    format!(
                        "{} 大小 {kb} KB，超出 {}–{} KB",
                        f.file, expected.size_min_kb, expected.size_max_kb
                    ),
                    format!(
                        "{} is {kb} KB, outside {}–{} KB",
                        f.file, expected.size_min_kb, expected.size_max_kb
                    ),
                );
            }
        }
        _ => push(
            Code::NotJpeg,
            class,
            file,
            format!("{} 不是可读的 JPEG 照片：请重新生成", f.file),
            format!("{} is not a readable JPEG", f.file),
        ),
    }
}

fn check_sheet(
    class: &str,
    f: &Found,
    students: &[Student],
    present: &BTreeSet<&str>,
    push: &mut Push<'_>,
) {
    let file = Some(f.file.as_str());
    let rows = match &f.facts {
        Facts::Sheet(Ok(rows)) => rows,
        Facts::Sheet(Err(e)) => {
            return push(
                Code::BadSheet,
                class,
                file,
                format!("{} 无法读取（{e}）：运行 rollcall pack 重新生成", f.file),
                format!(
                    "{} cannot be read ({e}): rollcall pack writes it again",
                    f.file
                ),
            );
        }
        _ => {
            return push(
                Code::BadSheet,
                class,
                file,
                format!("{} 不是 Excel 表格", f.file),
                format!("{} is not a workbook", f.file),
            );
        }
    };
    let in_sheet: BTreeSet<(&str, &str)> =
        rows.iter().map(|(i, n)| (i.as_str(), n.as_str())).collect();
    for s in students {
        let (Some(id), Some(photo)) = (&s.id_number, &s.file) else {
            continue;
        };
        let listed = in_sheet.contains(&(id.as_str(), s.name.as_str()));
        let has_photo = present.contains(photo.as_str());
        if has_photo && !listed {
            push(
                Code::SheetMismatch,
                class,
                file,
                format!(
                    "班级名册中没有 {}（{}），但有其照片：运行 rollcall pack 重新生成名册",
                    s.name,
                    roster::id::mask(id)
                ),
                format!(
                    "the sheet lacks {} although the photo is there: rollcall pack writes it again",
                    s.name
                ),
            );
        }
    }
    let known: BTreeSet<(&str, &str)> = students
        .iter()
        .filter_map(|s| Some((s.id_number.as_deref()?, s.name.as_str())))
        .collect();
    for (id, name) in rows {
        let is_known = known.contains(&(id.as_str(), name.as_str()))
            || students
                .iter()
                .any(|s| s.id_number.is_none() && s.name == *name);
        if !is_known {
            push(
                Code::SheetMismatch,
                class,
                file,
                format!(
                    "班级名册中的 {name}（{}）与当前名册不符：运行 rollcall pack 重新生成",
                    roster::id::mask(id)
                ),
                format!(
                    "the sheet's row {name} does not match the current roster: rollcall pack writes it again"
                ),
            );
        }
    }
}
