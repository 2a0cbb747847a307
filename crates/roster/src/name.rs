//! Student names: normalisation and validation.
//!
//! Owns what a name may contain: Han characters (all CJK blocks) and the middle dot `·`
//! (U+00B7) that separates the parts of ethnic-minority names. Spaces are removed, dot
//! variants unified, and characters that some downstream systems cannot encode (outside GBK)
//! are reported. Pure: strings in, findings out.

/// Characters that people and input methods type instead of U+00B7 in names like
/// `迪丽娜尔·吐尔逊`.
const DOT_VARIANTS: [char; 11] = [
    '\u{2022}', // • bullet
    '\u{30fb}', // ・ katakana middle dot
    '\u{ff65}', // ･ half-width katakana middle dot
    '\u{ff0e}', // ． full-width full stop
    '.',        // . full stop
    '\u{2027}', // ‧ hyphenation point
    '\u{2219}', // ∙ bullet operator
    '\u{22c5}', // ⋅ dot operator
    '\u{0387}', // · Greek ano teleia
    '\u{2e31}', // ⸱ word separator middle dot
    '\u{318d}', // ㆍ Hangul letter araea
];

use crate::filename::MAX_NAME_CHARS;
use crate::problem::{Code, Text};

/// The standard separator.
pub const MIDDLE_DOT: char = '\u{00b7}';

/// What a name check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFinding {
    /// The cell is empty (or only whitespace).
    Empty,
    /// Whitespace before or after the name.
    Trim,
    /// Whitespace inside the name.
    InnerSpace,
    /// A separator other than `·`; `found` is the first variant seen.
    DotVariant { found: char },
    /// A character that is never in a name (`?` left by an encoding accident, Latin letters,
    /// digits, punctuation).
    InvalidChar { ch: char },
    /// Characters that GBK cannot encode (valid, but some office systems cannot take them).
    OutsideGbk { chars: String },
    /// Longer than a file name allows ([`crate::filename::MAX_NAME_CHARS`]).
    TooLong { chars: usize },
}

impl NameFinding {
    /// Fixable findings are normalised and reported; warnings keep the name usable.
    pub fn is_fixable(&self) -> bool {
        matches!(
            self,
            NameFinding::Trim | NameFinding::InnerSpace | NameFinding::DotVariant { .. }
        )
    }

    /// The problem code of this finding.
    pub fn code(&self) -> Code {
        match self {
            NameFinding::Empty => Code::NameEmpty,
            NameFinding::Trim => Code::NameTrim,
            NameFinding::InnerSpace => Code::NameSpace,
            NameFinding::DotVariant { .. } => Code::NameDotVariant,
            NameFinding::InvalidChar { .. } => Code::NameInvalidChar,
            NameFinding::OutsideGbk { .. } => Code::NameOutsideGbk,
            NameFinding::TooLong { .. } => Code::NameTooLong,
        }
    }

    /// What the finding means and what to do, for the team and the school.
    pub fn text(&self) -> Text {
        match self {
            NameFinding::Empty => Text::new("姓名为空。请补填。", "The name is empty. Fill it in."),
            NameFinding::Trim => Text::new(
                "姓名前后有空格，已去掉。",
                "Spaces around the name were removed.",
            ),
            NameFinding::InnerSpace => Text::new(
                "姓名中间有空格，已去掉。",
                "Spaces inside the name were removed.",
            ),
            NameFinding::DotVariant { found } => Text::new(
                format!("姓名中的间隔号写成了“{found}”，已统一为“·”。"),
                format!("The name separator '{found}' was unified to '·'."),
            ),
            NameFinding::InvalidChar { ch } => Text::new(
                format!(
                    "姓名中有不应出现的字符“{ch}”（问号多是导出时生僻字丢失；字母、数字不属于姓名）。请按户口簿改正。"
                ),
                format!(
                    "The name contains '{ch}', which is never part of a name (a '?' usually means a rare character was lost in an export). Correct it from the household register."
                ),
            ),
            NameFinding::OutsideGbk { chars } => Text::new(
                format!(
                    "姓名中的“{chars}”是生僻字（不在 GBK 字符集内），部分系统无法处理。照片仍会按此姓名命名，请提前告知社保经办机构。"
                ),
                format!(
                    "'{chars}' is outside GBK; some office systems cannot take it. The photo is still named with it; tell the office in advance."
                ),
            ),
            NameFinding::TooLong { chars } => Text::new(
                format!(
                    "姓名有 {chars} 个字，超过照片文件名允许的 {MAX_NAME_CHARS} 个字。请核对姓名（是否把几个人的姓名或备注填进了同一格）。"
                ),
                format!(
                    "The name has {chars} characters, more than the {MAX_NAME_CHARS} a photo's file name allows. Check it (several names or a note in one cell?)."
                ),
            ),
        }
    }

    /// True when the name cannot be used as it is (needs a human).
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            NameFinding::Empty | NameFinding::InvalidChar { .. } | NameFinding::TooLong { .. }
        )
    }
}

/// The result of checking one name cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCheck {
    pub normalised: String,
    pub findings: Vec<NameFinding>,
}

impl NameCheck {
    pub fn is_usable(&self) -> bool {
        !self.findings.iter().any(NameFinding::is_error)
    }

    /// The first finding that makes the name unusable.
    pub fn first_error(&self) -> Option<&NameFinding> {
        self.findings.iter().find(|f| f.is_error())
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{200b}' || c == '\u{feff}'
}

/// True for Han ideographs of every CJK block, including the extensions and compatibility
/// ideographs, and `〇`.
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3007
        | 0x3400..=0x4DBF   // Extension A
        | 0x4E00..=0x9FFF   // Unified
        | 0xF900..=0xFAFF   // Compatibility
        | 0x20000..=0x2A6DF // B
        | 0x2A700..=0x2EBEF // C, D, E, F, I
        | 0x2F800..=0x2FA1F // Compatibility supplement
        | 0x30000..=0x323AF // G, H
    )
}

/// True when GBK (code page 936, without GB 18030's four-byte sequences) holds `c` as that
/// character. GBK's user-defined area at 0xFE50–0xFEA0 held some Extension A characters as
/// private-use code points only, so Extension A is outside GBK for systems built on CP936.
pub fn in_gbk(c: char) -> bool {
    let code = c as u32;
    // GBK holds every unified ideograph of Unicode 1.1 (U+4E00–U+9FA5): the fast path for
    // nearly every name. The encoder is slow per character and is only asked about the rest.
    if (0x4E00..=0x9FA5).contains(&code) {
        return true;
    }
    if (0x3400..=0x4DBF).contains(&code) {
        return false;
    }
    let mut buf = [0u8; 4];
    let s: &str = c.encode_utf8(&mut buf);
    let (_, _, unmappable) = encoding_rs::GBK.encode(s);
    !unmappable
}

/// Normalises and checks one name.
pub fn check(raw: &str) -> NameCheck {
    let mut findings = Vec::new();
    let trimmed = raw.trim_matches(is_space);
    if trimmed.is_empty() {
        findings.push(NameFinding::Empty);
        return NameCheck {
            normalised: String::new(),
            findings,
        };
    }
    if trimmed.len() != raw.len() {
        findings.push(NameFinding::Trim);
    }
    let mut normalised = String::with_capacity(trimmed.len());
    let mut inner_space = false;
    let mut dot: Option<char> = None;
    for c in trimmed.chars() {
        if is_space(c) {
            inner_space = true;
        } else if DOT_VARIANTS.contains(&c) {
            dot.get_or_insert(c);
            normalised.push(MIDDLE_DOT);
        } else {
            normalised.push(c);
        }
    }
    if inner_space {
        findings.push(NameFinding::InnerSpace);
    }
    if let Some(found) = dot {
        findings.push(NameFinding::DotVariant { found });
    }
    if let Some(ch) = normalised
        .chars()
        .find(|&c| !(is_han(c) || c == MIDDLE_DOT))
    {
        findings.push(NameFinding::InvalidChar { ch });
    }
    let outside: String = normalised
        .chars()
        .filter(|&c| is_han(c) && !in_gbk(c))
        .collect();
    if !outside.is_empty() {
        findings.push(NameFinding::OutsideGbk { chars: outside });
    }
    if let Some(chars) = crate::filename::name_too_long(&normalised) {
        findings.push(NameFinding::TooLong { chars });
    }
    NameCheck {
        normalised,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_names_pass() {
        for n in ["李光艳", "迪丽娜尔·吐尔逊", "欧阳〇"] {
            let c = check(n);
            assert!(c.findings.is_empty(), "{n}: {c:?}");
            assert_eq!(c.normalised, n);
        }
    }

    #[test]
    fn spaces_are_removed() {
        let c = check(" 覃嘉豪");
        assert_eq!(
            (c.normalised.as_str(), &c.findings[..]),
            ("覃嘉豪", &[NameFinding::Trim][..])
        );
        let c = check("王\u{3000}霞");
        assert_eq!(c.normalised, "王霞");
        assert_eq!(c.findings, vec![NameFinding::InnerSpace]);
        let c = check("\u{a0}卢立 伟\u{3000}");
        assert_eq!(c.normalised, "卢立伟");
        assert_eq!(c.findings, vec![NameFinding::Trim, NameFinding::InnerSpace]);
    }

    #[test]
    fn dot_variants_are_unified() {
        for v in [
            "古丽娜尔•艾则孜",
            "古丽娜尔・艾则孜",
            "古丽娜尔．艾则孜",
            "古丽娜尔.艾则孜",
        ] {
            let c = check(v);
            assert_eq!(c.normalised, "古丽娜尔·艾则孜", "{v}");
            assert!(matches!(c.findings[..], [NameFinding::DotVariant { .. }]));
            assert!(c.is_usable());
        }
    }

    #[test]
    fn invalid_characters_are_errors() {
        for v in ["刘语?", "Tom", "李2", "张-三"] {
            let c = check(v);
            assert!(!c.is_usable(), "{v}");
        }
        assert!(!check("").is_usable());
        assert_eq!(check("\u{3000}").findings, vec![NameFinding::Empty]);
    }

    #[test]
    fn characters_outside_gbk_are_reported() {
        let c = check("卢永䶮");
        assert_eq!(
            c.findings,
            vec![NameFinding::OutsideGbk {
                chars: "䶮".into()
            }]
        );
        assert!(c.is_usable());
        let c = check("宋俊𠇔");
        assert_eq!(
            c.findings,
            vec![NameFinding::OutsideGbk {
                chars: "𠇔".into()
            }]
        );
        assert!(in_gbk('李') && in_gbk('〇'));
    }
}
