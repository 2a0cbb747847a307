//! Operator-facing text: every message rollcall shows a person is a [`Text`], Chinese first
//! (the operators' language) and English beside it, and a front end picks one with [`Lang`].
//! Every crate uses this one type; none keeps its own `zh`/`en` pair.

use serde::{Deserialize, Serialize};

/// The language a front end shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Of two renderings, the one in this language.
    pub fn pick<T>(self, zh: T, en: T) -> T {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// A text in both languages. Serialized as `{"zh": …, "en": …}` (flatten it into a struct to
/// get the two fields beside the others).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// Both, as one line for a log or a terminal without a language choice: `中文 / English`.
    pub fn both(&self) -> String {
        if self.en.is_empty() || self.en == self.zh {
            self.zh.clone()
        } else {
            format!("{} / {}", self.zh, self.en)
        }
    }

    /// The inverse of [`Text::both`], for text stored in that form (the journal's reasons): the
    /// Chinese before the first ` / `, the English after it; text without one is both.
    pub fn from_both(line: &str) -> Text {
        match line.split_once(" / ") {
            Some((zh, en)) => Text::new(zh, en),
            None => Text::new(line, line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_and_the_languages() {
        let t = Text::new("请重拍", "retake");
        assert_eq!(t.get(Lang::Zh), "请重拍");
        assert_eq!(t.get(Lang::En), "retake");
        assert_eq!(t.both(), "请重拍 / retake");
        assert_eq!(Text::new("缺席", "").both(), "缺席");
        assert_eq!(Text::from_both(&t.both()), t);
        assert_eq!(Text::from_both("缺席"), Text::new("缺席", "缺席"));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"zh":"请重拍","en":"retake"}"#);
        assert_eq!(serde_json::from_str::<Text>(&json).unwrap(), t);
        assert_eq!(serde_json::to_string(&Lang::En).unwrap(), r#""en""#);
    }
}
