//! The roster check's message catalogue: for each finding of the reader and the row rules,
//! the problem the operator and the school read (code, words in both languages, the value
//! found, what it was fixed to, what to do). The rules decide; this module words.

use crate::id::IdFinding;
use crate::name::NameFinding;
use crate::problem::{Code, Location, Problem, Text};
use crate::read::{self, ReadError};

/// A file that could not be read.
pub(crate) fn read_problem(e: &ReadError, loc: Location) -> Problem {
    let (code, zh, en) = match e {
        ReadError::Empty => (
            Code::FileEmpty,
            "文件是空的（0 字节）。请向学校重新要一份名册。".to_string(),
            "The file is empty (0 bytes). Ask the school for the roster again.".to_string(),
        ),
        ReadError::Encrypted => (
            Code::FileEncrypted,
            "工作簿设置了打开密码。请在 Excel 中输入密码打开，去掉密码（文件 → 信息 → 保护工作簿）后另存，再导入。".to_string(),
            "The workbook is password-protected. Open it in Excel with the password, remove the protection (File → Info → Protect Workbook), save, and import again.".to_string(),
        ),
        ReadError::HtmlOrText => (
            Code::FileHtmlOrText,
            "这不是真正的 Excel 文件（内容是网页或纯文本，常见于从系统导出的 .xls）。请用 Excel 打开后“另存为” .xlsx 再导入。".to_string(),
            "Not a real Excel file (the content is a web page or plain text, common for .xls exported by web systems). Open it in Excel, Save As .xlsx, and import again.".to_string(),
        ),
        ReadError::NotSpreadsheet => (
            Code::FileNotSpreadsheet,
            "不是电子表格文件（无法识别内容）。名册须为 .xlsx、.xls、.ods 或 .csv。".to_string(),
            "Not a spreadsheet (content not recognised). Rosters must be .xlsx, .xls, .ods or .csv.".to_string(),
        ),
        ReadError::Corrupt { detail, .. } => (
            Code::FileCorrupt,
            format!("文件已损坏，无法读取（{detail}）。请向学校重新要一份，或用 Excel 打开修复后另存。"),
            format!("The file is damaged and cannot be read ({detail}). Ask the school for a new copy, or open and repair it in Excel and save again."),
        ),
        ReadError::TooLarge { sheet, size } => {
            let (zh_sheet, en_sheet) = match sheet {
                Some(s) => (format!("工作表“{s}”"), format!("sheet {s:?}")),
                None => ("文件".to_string(), "the file".to_string()),
            };
            (
                Code::FileTooLarge,
                format!("{zh_sheet}太大，无法读取（{}）。常见原因是表格远处有零星内容或格式；请把名册复制到一个新工作簿（只复制有学生的行和列）后另存再导入。", size.zh()),
                format!("{en_sheet} is too large to read ({}). Usually stray content or formatting far away: copy the roster (only the rows and columns with students) into a new workbook, save, and import again.", size.en()),
            )
        }
        ReadError::Unsupported { what } => (
            Code::FileUnsupported,
            format!("不支持这种格式（{}）。请用 Excel 打开后“另存为” .xlsx 再导入。", match what {
                read::Unsupported::Xlsb => "Excel 二进制工作簿 .xlsb",
                read::Unsupported::Biff4 => "Excel 2.1–4.0 的旧格式",
            }),
            format!("The format is not supported ({what}). Open it in Excel, Save As .xlsx, and import again."),
        ),
        ReadError::Encoding => (
            Code::FileEncoding,
            "无法识别 CSV 的文字编码（既不是 UTF-8 也不是 GBK）。请用 Excel 打开后另存为 .xlsx。".to_string(),
            "The CSV text encoding is neither UTF-8 nor GBK. Open it in Excel and save as .xlsx.".to_string(),
        ),
    };
    Problem::new(code, loc, Text::new(zh, en))
}

/// An ID column cell Excel stored as a number: digits are lost.
pub(crate) fn numeric_id_problem(loc: Location, display: &str) -> Problem {
    Problem::new(
        Code::IdNumericCell,
        loc,
        Text::new(
            format!("身份证号码被存成了数字（{display}），Excel 只保留 15 位有效数字，后几位已丢失，无法恢复。"),
            format!("The ID number was stored as a number ({display}); Excel keeps 15 significant digits, so the last digits are lost and cannot be recovered."),
        ),
    )
    .with_value(display)
    .with_suggestion(Text::new(
        "把该列设为“文本”格式，再按户口簿或原始名单重新输入完整的 18 位号码。",
        "Format the column as Text, then type the full 18-character number again from the household register or the original list.",
    ))
}

/// A finding of the ID rules on one cell.
pub(crate) fn id_problem(f: &IdFinding, loc: Location, raw: &str, normalised: &str) -> Problem {
    let p = |code, zh: String, en: String| {
        Problem::new(code, loc.clone(), Text::new(zh, en)).with_value(raw.trim_end_matches('\n'))
    };
    match f {
        IdFinding::Space => p(
            Code::IdSpace,
            "身份证号码中有空格，已去掉。".into(),
            "Spaces in the ID number were removed.".into(),
        )
        .with_fixed(normalised),
        IdFinding::FullWidth => p(
            Code::IdFullwidth,
            "身份证号码用了全角数字，已转为半角。".into(),
            "Full-width digits in the ID number were converted.".into(),
        )
        .with_fixed(normalised),
        IdFinding::LowercaseX => p(
            Code::IdLowercaseX,
            "身份证号码末位写成了小写 x，已改为大写 X。".into(),
            "The check character was a lowercase x; changed to X.".into(),
        )
        .with_fixed(normalised),
        IdFinding::Length { len, upgraded } => {
            let problem = p(
                Code::IdLength,
                format!("身份证号码是 {len} 位，应为 18 位。"),
                format!("The ID number has {len} characters; it must have 18."),
            );
            match upgraded {
                Some(up) => problem.with_suggestion(Text::new(
                    format!("15 位号码是第一代身份证号码，或输入时漏了出生年份的前两位和末位校验码；对应的 18 位号码应为 {up}。请与户口簿核对后填写。"),
                    format!("A 15-digit number is a first-generation ID, or an 18-character one typed without the century and the check character; its 18-character form is {up}. Check it against the household register and fill it in."),
                )),
                None => problem.with_suggestion(Text::new(
                    "请对照户口簿核对，可能多输或漏输了数字。",
                    "Check it against the household register: a digit was probably added or left out.",
                )),
            }
        }
        IdFinding::InvalidChar { ch } => p(
            Code::IdInvalidChar,
            format!("身份证号码中有非法字符“{ch}”（只能是数字，末位可以是 X）。"),
            format!("The ID number contains '{ch}' (only digits, and X as the last character, are allowed)."),
        ),
        IdFinding::Region { code } => p(
            Code::IdRegion,
            format!("身份证号码前 6 位“{code}”不是有效的地区代码（前两位应为省级代码）。"),
            format!("The first six digits '{code}' are not a valid region code."),
        ),
        IdFinding::Date { text } => p(
            Code::IdDate,
            format!("身份证号码第 7–14 位“{text}”不是有效的出生日期。"),
            format!("Characters 7–14 ('{text}') are not a real birth date."),
        ),
        IdFinding::Future { birth } => p(
            Code::IdFuture,
            format!("身份证号码中的出生日期 {birth} 晚于名册日期。"),
            format!("The birth date {birth} in the ID number is after the roster date."),
        ),
        IdFinding::Age { age, range } => p(
            Code::IdAge,
            format!("按身份证号码，该生 {age} 岁，不符合本校学生年龄（{}–{} 岁）。可能填了家长的号码。", range.min, range.max),
            format!("By the ID number the student is {age}, outside this school's ages ({}–{}). A parent's number may have been entered.", range.min, range.max),
        ),
        IdFinding::Checksum { expected, found } => p(
            Code::IdChecksum,
            format!("身份证号码校验位不对：末位是“{found}”，按前 17 位应为“{expected}”。号码中有数字输错了。"),
            format!("Check character mismatch: the last character is '{found}', the first 17 digits require '{expected}'. A digit was mistyped."),
        )
        .with_suggestion(Text::new(
            "请对照户口簿逐位核对，不要只改末位。",
            "Compare every digit with the household register; do not just change the last character.",
        )),
    }
}

/// A finding of the name rules on one cell.
pub(crate) fn name_problem(f: &NameFinding, loc: Location, raw: &str, normalised: &str) -> Problem {
    let problem = Problem::new(f.code(), loc, f.text()).with_value(raw);
    if f.is_fixable() {
        problem.with_fixed(normalised)
    } else {
        problem
    }
}
