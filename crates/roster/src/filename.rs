//! What a photo's path may be: `<school>/<class>/<ID><separator><name>.jpg`, as the office's
//! import and the Windows machines that open the zips take it.
//!
//! One definition, used wherever a path is decided: the roster check (a name too long is an
//! error of its row), the session's state machine (a student record that could not be filed is
//! refused before its journal line is written), walk-ins, and `rollcall verify`. Pure.

use crate::name;
use crate::problem::Text;

/// Longest name, in characters. Names of 20–30 characters exist (transliterated names of
/// several parts); 40 keeps the file name within 255 bytes whatever the characters
/// (40 × 4 bytes + 18 + separator + `.jpg`).
pub const MAX_NAME_CHARS: usize = 40;
/// Longest school or class name, in characters (each becomes a folder).
pub const MAX_FOLDER_CHARS: usize = 60;
/// Longest file name in bytes (ext4; Windows allows 255 UTF-16 units, which is more).
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// Longest `<school>/<class>/<file>` path inside a zip, in characters: Windows' 260-character
/// path limit leaves about 60 for the folder the office unzips into.
pub const MAX_ZIP_PATH_CHARS: usize = 200;
/// Longest separator between ID number and name.
pub const MAX_SEPARATOR_CHARS: usize = 3;

/// Characters no folder or file name may hold (Windows' list and the path separators).
const FORBIDDEN: &[char] = &['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

/// A name too long for a file name, when it is.
pub fn name_too_long(name: &str) -> Option<usize> {
    let n = name.chars().count();
    (n > MAX_NAME_CHARS).then_some(n)
}

/// A school or class name too long for a folder, when it is.
pub fn folder_too_long(folder: &str) -> Option<usize> {
    let n = folder.chars().count();
    (n > MAX_FOLDER_CHARS).then_some(n)
}

/// Why a separator cannot stand between ID and name in a file name, if it cannot.
pub fn separator_problem(separator: &str) -> Option<Text> {
    let bad = separator.chars().count() > MAX_SEPARATOR_CHARS
        || separator
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || FORBIDDEN.contains(&c) || c == '.');
    bad.then(|| {
        Text::new(
            format!(
                "文件名分隔符“{separator}”不可用：最多 {MAX_SEPARATOR_CHARS} 个字符，不能含空格、点或 \\ / : * ? \" < > |"
            ),
            format!(
                "separator {separator:?} cannot be used: at most {MAX_SEPARATOR_CHARS} characters, no spaces, dots or \\ / : * ? \" < > |"
            ),
        )
    })
}

/// Why a student's photo could not be filed as `<school>/<class>/<id><sep><name>.jpg`, if it
/// could not: the name must pass the name rules as it stands (already normalised), the ID
/// must be 18 characters of digits with a final digit or `X`, and the file name and the whole
/// path must fit their limits.
pub fn photo_path_problem(
    school: &str,
    class: &str,
    id_number: &str,
    separator: &str,
    student_name: &str,
) -> Option<Text> {
    let check = name::check(student_name);
    if let Some(finding) = check.first_error() {
        return Some(finding.text());
    }
    if check.normalised != student_name {
        return Some(Text::new(
            format!("姓名“{student_name}”含空格或不规范的间隔号，不能作为文件名"),
            format!(
                "the name {student_name:?} holds spaces or a non-standard separator and cannot name a file"
            ),
        ));
    }
    let id_ok = id_number.len() == 18
        && id_number
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 17 && b == b'X'));
    if !id_ok {
        return Some(Text::new(
            "身份证号码不是 18 位，不能作为文件名",
            "the ID number is not 18 characters and cannot name a file",
        ));
    }
    if let Some(t) = separator_problem(separator) {
        return Some(t);
    }
    for folder in [school, class] {
        if let Some(n) = folder_too_long(folder) {
            return Some(Text::new(
                format!("“{folder}”有 {n} 个字，超过文件夹名允许的 {MAX_FOLDER_CHARS} 个字"),
                format!(
                    "{folder:?} has {n} characters, more than the {MAX_FOLDER_CHARS} a folder name allows"
                ),
            ));
        }
    }
    let file = format!("{id_number}{separator}{student_name}.jpg");
    if file.len() > MAX_FILE_NAME_BYTES {
        return Some(Text::new(
            format!(
                "文件名有 {} 字节，超过 {MAX_FILE_NAME_BYTES} 字节",
                file.len()
            ),
            format!(
                "the file name has {} bytes, more than {MAX_FILE_NAME_BYTES}",
                file.len()
            ),
        ));
    }
    let path = school.chars().count() + class.chars().count() + file.chars().count() + 2;
    if path > MAX_ZIP_PATH_CHARS {
        return Some(Text::new(
            format!(
                "学校/班级/文件名共 {path} 个字符，超过 Windows 解压允许的 {MAX_ZIP_PATH_CHARS} 个"
            ),
            format!(
                "school/class/file has {path} characters, more than the {MAX_ZIP_PATH_CHARS} Windows can unzip"
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "11010519491231002X";

    #[test]
    fn ordinary_paths_pass() {
        assert_eq!(
            photo_path_problem("城北小学", "一(1)班", ID, "-", "李光艳"),
            None
        );
        assert_eq!(
            photo_path_problem("城北小学", "一(1)班", ID, "", "迪丽娜尔·吐尔逊"),
            None
        );
        let forty: String = "赵".repeat(MAX_NAME_CHARS);
        assert_eq!(
            photo_path_problem("城北小学", "一(1)班", ID, "-", &forty),
            None
        );
    }

    #[test]
    fn what_cannot_name_a_file_is_refused_with_the_limit() {
        let long = "赵".repeat(90);
        let t = photo_path_problem("城北小学", "一(1)班", ID, "-", &long).unwrap();
        assert!(t.zh.contains("90") && t.zh.contains("40"), "{}", t.zh);
        assert!(photo_path_problem("城北小学", "一(1)班", ID, "-", "Bob <b>").is_some());
        assert!(photo_path_problem("城北小学", "一(1)班", ID, "-", " 李光艳").is_some());
        assert!(photo_path_problem("城北小学", "一(1)班", "123", "-", "李光艳").is_some());
        assert!(photo_path_problem("城北小学", "一(1)班", ID, "/", "李光艳").is_some());
        assert!(photo_path_problem(&"校".repeat(61), "一(1)班", ID, "-", "李光艳").is_some());
        // The longest school, class and name together still fit Windows' path limit.
        assert_eq!(
            photo_path_problem(
                &"校".repeat(60),
                &"班".repeat(60),
                ID,
                "---",
                &"赵".repeat(40)
            ),
            None
        );
    }

    #[test]
    fn separators() {
        for ok in ["-", "", "_", "－"] {
            assert_eq!(separator_problem(ok), None, "{ok:?}");
        }
        for bad in ["/", " ", "....", ":", "\t", ".", "abcd"] {
            assert!(separator_problem(bad).is_some(), "{bad:?}");
        }
    }
}
