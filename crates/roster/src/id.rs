//! Chinese resident ID numbers (GB 11643-1999): normalisation and validation.
//!
//! This module owns every rule about the 18-character 公民身份号码: the fixable
//! normalisations (spaces, full-width digits, lowercase `x`), structure, region, birth date,
//! plausible age, the ISO 7064 MOD 11-2 check character, the 17th-digit gender, the upgrade of
//! a 15-digit first-generation number, and masking for logs. It is pure: strings in, findings out.
//! ID numbers are text everywhere; nothing here parses one as a number.

use chrono::{Datelike, NaiveDate};

/// Weights of ISO 7064 MOD 11-2 as used by GB 11643-1999.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder of the weighted sum mod 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Province-level codes (first two digits) in use: GB/T 2260 plus 81/82 (Hong Kong, Macao
/// residence permits) and 83 (Taiwan residence permits).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// Gender encoded in the 17th character (odd = male, even = female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// Reads a gender cell: 男/女 and the usual variants. `None` when the text says neither.
    pub fn parse(text: &str) -> Option<Gender> {
        match text.trim() {
            "男" | "男性" | "男生" | "M" | "m" | "male" | "Male" | "1" => Some(Gender::Male),
            "女" | "女性" | "女生" | "F" | "f" | "female" | "Female" | "2" => {
                Some(Gender::Female)
            }
            _ => None,
        }
    }

    /// The Chinese word used on rosters.
    pub fn zh(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }
}

/// Inclusive range of plausible ages (whole years at the roster date) for a kind of school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeRange {
    pub min: u32,
    pub max: u32,
}

/// What an ID check found. Fixable findings come with the value already normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdFinding {
    /// Whitespace (ASCII, U+3000, NBSP, tabs) before, after or inside the number.
    Space,
    /// Full-width digits or `Ｘ`.
    FullWidth,
    /// Check character written as `x`.
    LowercaseX,
    /// Not 18 characters after the fixable normalisations. `upgraded` is the 18-character number
    /// computed from a 15-digit first-generation number.
    Length {
        len: usize,
        upgraded: Option<String>,
    },
    /// Characters other than digits (and `X` in the last place).
    InvalidChar { ch: char },
    /// The first two digits are not a province code.
    Region { code: String },
    /// Characters 7–14 are not a real date.
    Date { text: String },
    /// The birth date is after the roster date.
    Future { birth: NaiveDate },
    /// The age at the roster date is outside the plausible range.
    Age { age: u32, range: AgeRange },
    /// The check character does not match.
    Checksum { expected: char, found: char },
}

impl IdFinding {
    /// Fixable findings are normalised and reported; the others make the number unusable.
    pub fn is_fixable(&self) -> bool {
        matches!(
            self,
            IdFinding::Space | IdFinding::FullWidth | IdFinding::LowercaseX
        )
    }
}

/// The result of checking one ID cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdCheck {
    /// The text after the fixable normalisations (whatever its length).
    pub normalised: String,
    pub findings: Vec<IdFinding>,
}

impl IdCheck {
    /// True when no finding makes the number unusable.
    pub fn is_usable(&self) -> bool {
        self.findings.iter().all(IdFinding::is_fixable)
    }

    /// The normalised 18-character number when it is usable.
    pub fn usable(&self) -> Option<&str> {
        self.is_usable().then_some(self.normalised.as_str())
    }
}

/// Applies the fixable normalisations and reports which ones were needed.
pub fn normalise(raw: &str) -> (String, Vec<IdFinding>) {
    let mut out = String::with_capacity(18);
    let (mut space, mut full, mut lower) = (false, false, false);
    for ch in raw.chars() {
        if ch.is_whitespace() || ch == '\u{200b}' || ch == '\u{feff}' {
            space = true;
        } else if ('\u{ff10}'..='\u{ff19}').contains(&ch) {
            full = true;
            out.push(char::from(b'0' + (ch as u32 - 0xff10) as u8));
        } else if ch == '\u{ff38}' || ch == '\u{ff58}' {
            // Ｘ / ｘ: full-width check characters.
            full = true;
            out.push('X');
        } else if ch == 'x' {
            lower = true;
            out.push('X');
        } else {
            out.push(ch);
        }
    }
    let mut findings = Vec::new();
    if space {
        findings.push(IdFinding::Space);
    }
    if full {
        findings.push(IdFinding::FullWidth);
    }
    if lower {
        findings.push(IdFinding::LowercaseX);
    }
    (out, findings)
}

/// The check character for the first 17 digits, or `None` if they are not 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

/// Upgrades a 15-digit first-generation number (births 1900–1999) to 18 characters.
pub fn upgrade_15(id15: &str) -> Option<String> {
    upgrade_15_in(id15, "19")
}

/// Upgrades a 15-digit number with the given century (`"19"` or `"20"`). On a student roster a
/// 15-character entry is usually an 18-character number typed without the century and the
/// check character, so [`check`] suggests `20` when that birth date is not in the future.
pub fn upgrade_15_in(id15: &str, century: &str) -> Option<String> {
    if id15.len() != 15 || !id15.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let first17 = format!("{}{century}{}", &id15[..6], &id15[6..]);
    let check = check_char(&first17)?;
    Some(format!("{first17}{check}"))
}

/// The birth date in characters 7–14, when it is a real date.
pub fn birth_date(id: &str) -> Option<NaiveDate> {
    let digits = id.get(6..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = digits[..4].parse().ok()?;
    let m: u32 = digits[4..6].parse().ok()?;
    let d: u32 = digits[6..].parse().ok()?;
    if y < 1900 {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The gender encoded in the 17th character.
pub fn gender(id: &str) -> Option<Gender> {
    let b = *id.as_bytes().get(16)?;
    if !b.is_ascii_digit() {
        return None;
    }
    Some(if (b - b'0') % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    })
}

/// Whole years between `birth` and `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// Checks one ID text. `as_of` is the roster date; `ages` the plausible range, if any.
pub fn check(raw: &str, as_of: NaiveDate, ages: Option<AgeRange>) -> IdCheck {
    let (normalised, mut findings) = normalise(raw);
    let len = normalised.chars().count();
    if len != 18 {
        let upgraded = if len == 15 {
            upgrade_15_in(&normalised, "20")
                .filter(|id| birth_date(id).is_some_and(|b| b <= as_of))
                .or_else(|| upgrade_15(&normalised))
        } else {
            None
        };
        findings.push(IdFinding::Length { len, upgraded });
        return IdCheck {
            normalised,
            findings,
        };
    }
    let bad_char = normalised
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 17 && c == 'X')));
    if let Some((_, ch)) = bad_char {
        findings.push(IdFinding::InvalidChar { ch });
        return IdCheck {
            normalised,
            findings,
        };
    }
    let region = &normalised[..2];
    let region_ok = region
        .parse::<u8>()
        .map(|code| PROVINCES.contains(&code))
        .unwrap_or(false);
    if !region_ok {
        findings.push(IdFinding::Region {
            code: normalised[..6].to_string(),
        });
    }
    match birth_date(&normalised) {
        None => findings.push(IdFinding::Date {
            text: normalised[6..14].to_string(),
        }),
        Some(birth) if birth > as_of => findings.push(IdFinding::Future { birth }),
        Some(birth) => {
            if let Some(range) = ages {
                let age = age_on(birth, as_of);
                if age < range.min || age > range.max {
                    findings.push(IdFinding::Age { age, range });
                }
            }
        }
    }
    let found = normalised.chars().nth(17).unwrap_or('?');
    if let Some(expected) = check_char(&normalised[..17])
        && expected != found
    {
        findings.push(IdFinding::Checksum { expected, found });
    }
    IdCheck {
        normalised,
        findings,
    }
}

/// True for a well-formed 18-character number with a real date and a matching check character
/// (region and age not considered).
pub fn is_well_formed(id: &str) -> bool {
    id.len() == 18 && birth_date(id).is_some() && check_char(&id[..17]) == id[17..].chars().next()
}

/// Masks an ID for logs: the region (6) and the last 4 stay, the birth date goes
/// (`450481********062X`). Text of another length keeps only its first and last 2 characters.
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let n = chars.len();
    let (head, tail) = if n == 18 {
        (6, 4)
    } else {
        (2.min(n), 2.min(n.saturating_sub(2)))
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

/// Masks every ID number in a text (a message, a path): runs of 18 characters that are 17
/// digits and a digit or `X`, and runs of exactly 15 digits. Everything else is unchanged.
pub fn mask_all(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 17 && i < chars.len() && matches!(chars[i], 'X' | 'x') {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            if run.len() == 18 || run.len() == 15 {
                out.push_str(&mask(&run));
            } else {
                out.push_str(&run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_in_a_text_is_masked() {
        assert_eq!(
            mask_all("originals/校/班/45048120080327062X/000003-ab.jpg: 450421130127806 x 123"),
            "originals/校/班/450481********062X/000003-ab.jpg: 45***********06 x 123"
        );
        assert_eq!(
            mask_all("frame 000012, 2026-11-29"),
            "frame 000012, 2026-11-29"
        );
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    const PRIMARY: Option<AgeRange> = Some(AgeRange { min: 5, max: 14 });

    #[test]
    fn seed_example_is_valid() {
        let c = check(
            "45048120080327062X",
            d("2015-10-01"),
            Some(AgeRange { min: 5, max: 14 }),
        );
        assert!(c.findings.is_empty(), "{c:?}");
        assert!(is_well_formed("45048120080327062X"));
        assert_eq!(gender("45048120080327062X"), Some(Gender::Female));
        assert_eq!(birth_date("45048120080327062X"), Some(d("2008-03-27")));
    }

    #[test]
    fn fixable_normalisations() {
        let c = check(
            " ４５０４８１２００８０３２７０６２ｘ",
            d("2015-10-01"),
            PRIMARY,
        );
        assert_eq!(c.normalised, "45048120080327062X");
        assert_eq!(c.findings, vec![IdFinding::Space, IdFinding::FullWidth]);
        assert!(c.is_usable());
        let c = check("45048120080327062x", d("2015-10-01"), PRIMARY);
        assert_eq!(c.findings, vec![IdFinding::LowercaseX]);
        assert_eq!(c.usable(), Some("45048120080327062X"));
    }

    #[test]
    fn length_and_fifteen_digit_upgrade() {
        // 2008-03-27 is before the roster date: a student's number typed without "20".
        let c = check("450481080327062", d("2015-10-01"), None);
        let upgraded = upgrade_15_in("450481080327062", "20").unwrap();
        assert_eq!(upgraded, "45048120080327062X");
        assert_eq!(
            c.findings,
            vec![IdFinding::Length {
                len: 15,
                upgraded: Some(upgraded)
            }]
        );
        // 2080 would be in the future: a real first-generation number of 1980.
        let c = check("450481800327062", d("2015-10-01"), None);
        let upgraded = upgrade_15("450481800327062").unwrap();
        assert_eq!(&upgraded[..17], "45048119800327062");
        assert!(is_well_formed(&upgraded));
        assert_eq!(
            c.findings,
            vec![IdFinding::Length {
                len: 15,
                upgraded: Some(upgraded)
            }]
        );
        let c = check("4504812008032706", d("2015-10-01"), None);
        assert!(matches!(
            c.findings[..],
            [IdFinding::Length {
                len: 16,
                upgraded: None
            }]
        ));
    }

    #[test]
    fn date_future_age_checksum() {
        let on = d("2026-09-01");
        let c = check("450107202309317718", on, None);
        assert!(matches!(c.findings[0], IdFinding::Date { .. }));
        assert!(matches!(c.findings[1], IdFinding::Checksum { .. }));
        let future = format!(
            "45042121030929927{}",
            check_char("45042121030929927").unwrap()
        );
        assert!(matches!(
            check(&future, on, PRIMARY).findings[..],
            [IdFinding::Future { .. }]
        ));
        let parent = format!(
            "45042119840902884{}",
            check_char("45042119840902884").unwrap()
        );
        assert!(matches!(
            check(&parent, on, PRIMARY).findings[..],
            [IdFinding::Age { age: 41, .. }]
        ));
        assert!(matches!(
            check("450481200803270621", on, None).findings[..],
            [IdFinding::Checksum {
                expected: 'X',
                found: '1'
            }]
        ));
        assert!(matches!(
            check("99048120080327062X", on, None).findings[..],
            [IdFinding::Region { .. }, ..]
        ));
        assert!(matches!(
            check("4504812008032706?X", on, None).findings[..],
            [IdFinding::InvalidChar { ch: '?' }]
        ));
    }

    #[test]
    fn age_counts_whole_years() {
        assert_eq!(age_on(d("2020-09-02"), d("2026-09-01")), 5);
        assert_eq!(age_on(d("2020-09-01"), d("2026-09-01")), 6);
    }

    #[test]
    fn masking_keeps_region_and_tail() {
        assert_eq!(mask("45048120080327062X"), "450481********062X");
        assert_eq!(mask("12345"), "12*45");
        assert_eq!(mask(""), "");
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn valid_id() -> impl Strategy<Value = String> {
            (
                prop::sample::select(PROVINCES.to_vec()),
                0u32..10000,
                1990i32..2024,
                1u32..13,
                1u32..29,
                0u32..1000,
            )
                .prop_map(|(p, area, y, m, day, seq)| {
                    let first17 = format!("{p:02}{area:04}{y:04}{m:02}{day:02}{seq:03}");
                    let c = check_char(&first17).unwrap();
                    format!("{first17}{c}")
                })
        }

        proptest! {
            #[test]
            fn generated_ids_are_well_formed(id in valid_id()) {
                prop_assert!(is_well_formed(&id));
                let c = check(&id, NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(), None);
                prop_assert!(c.findings.is_empty(), "{:?}", c);
            }

            #[test]
            fn any_single_digit_change_breaks_the_checksum(id in valid_id(), pos in 0usize..17, delta in 1u8..10) {
                let mut bytes = id.clone().into_bytes();
                bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
                let changed = String::from_utf8(bytes).unwrap();
                prop_assert!(check_char(&changed[..17]) != changed[17..].chars().next());
            }

            #[test]
            fn adjacent_transposition_breaks_the_checksum(id in valid_id(), pos in 0usize..16) {
                let mut bytes = id.clone().into_bytes();
                prop_assume!(bytes[pos] != bytes[pos + 1]);
                bytes.swap(pos, pos + 1);
                let changed = String::from_utf8(bytes).unwrap();
                prop_assert!(check_char(&changed[..17]) != changed[17..].chars().next());
            }

            #[test]
            fn normalise_is_idempotent_and_lossless_on_ascii(id in valid_id()) {
                let spaced = format!(" {} {} ", &id[..6], &id[6..]);
                let (n, f) = normalise(&spaced);
                prop_assert_eq!(&n, &id);
                prop_assert_eq!(f, vec![IdFinding::Space]);
                let (n2, f2) = normalise(&n);
                prop_assert_eq!(n2, n);
                prop_assert!(f2.is_empty());
            }

            #[test]
            fn check_never_panics(s in "\\PC{0,25}") {
                let _ = check(&s, NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(), Some(AgeRange { min: 5, max: 14 }));
                let _ = mask(&s);
            }

            #[test]
            fn upgrade_15_gives_a_1900s_well_formed_id(p in prop::sample::select(PROVINCES.to_vec()), area in 0u32..10000, yy in 0u32..100, m in 1u32..13, day in 1u32..29, seq in 0u32..1000) {
                let id15 = format!("{p:02}{area:04}{yy:02}{m:02}{day:02}{seq:03}");
                let up = upgrade_15(&id15).unwrap();
                prop_assert!(is_well_formed(&up));
                prop_assert_eq!(&up[6..8], "19");
            }
        }
    }
}
