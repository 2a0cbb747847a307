//! Why an event cannot be applied: every refusal of the state machine ([`crate::State`]) and
//! of the command resolver ([`crate::command`]), in English (`Display`) and Chinese
//! ([`Refusal::zh`]), both at once as [`Refusal::text`].

use crate::event::{FrameId, VERSION};

/// Why an event cannot be applied (a command is refused, or a journal line contradicts the
/// state). English by `Display`; Chinese by [`Refusal::zh`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no student with key or ID {}", roster::id::mask_all(.0))]
    UnknownStudent(String),
    #[error("{count} students match {query:?}: {candidates}; use <class>:<row>")]
    Ambiguous {
        query: String,
        count: usize,
        candidates: String,
    },
    #[error("a walk-in needs a name and a class")]
    WalkInIncomplete,
    #[error("the name cannot be used: {}", .0.en)]
    InvalidName(roster::Text),
    #[error("{student}: no photo could be filed for this record ({}); refused before anything was recorded", .why.en)]
    Unfileable { student: String, why: roster::Text },
    #[error("{}", .0.en)]
    BadSession(roster::Text),
    #[error("ID number {0} is not valid (it may be left empty for now)")]
    InvalidId(String),
    #[error("no class named {0}")]
    UnknownClass(String),
    #[error("no frame {0}")]
    UnknownFrame(FrameId),
    #[error("frame {0} already arrived (same bytes as frame {1})")]
    Duplicate(FrameId, FrameId),
    #[error("frame numbers must follow each other: expected {expected}, got {got}")]
    FrameOrder { expected: FrameId, got: FrameId },
    #[error("frame {0} belongs to no student")]
    Unassigned(FrameId),
    #[error("frame {0} has not been processed yet")]
    NotProcessed(FrameId),
    #[error("frame {0} produced no photo (the face could not be cropped); it cannot be used")]
    NoPhoto(FrameId),
    #[error("frame {0} already passes every check")]
    AlreadyPasses(FrameId),
    #[error("frame {0} failed its checks: accept it anyway first")]
    NotUsable(FrameId),
    #[error("frame {frame} belongs to another student than the command expected")]
    OwnerMismatch {
        frame: FrameId,
        expected: Option<String>,
        actual: Option<String>,
    },
    #[error("cannot shift: {0}")]
    Shift(String),
    #[error("nothing to undo")]
    NothingToUndo,
    #[error("no student is next (choose a class, or name the student)")]
    NoStudentNext,
    #[error("no frame yet")]
    NoFrameYet,
    #[error("the two students are the same student")]
    SameStudent,
    #[error("already confirmed")]
    AlreadyConfirmed,
    #[error("give the reason for accepting a photo that failed its checks")]
    ReasonMissing,
    #[error("the roster is read again by `rollcall session reload` or the console's button")]
    ReloadElsewhere,
    #[error("only the last action can be undone (event {expected}), not event {got}")]
    UndoOrder { expected: u64, got: u64 },
    #[error("a student with key {} is already on the roster", roster::id::mask_all(.0))]
    DuplicateKey(String),
    #[error(
        "{student} (row {row}) would get ID number {}, which {other} (row {other_row}) already has",
        roster::id::mask(id)
    )]
    IdCollision {
        student: String,
        row: u32,
        id: String,
        other: String,
        other_row: u32,
    },
    #[error("the roster has no students")]
    EmptyRoster,
    #[error("the journal must start with `opened` and then a roster")]
    NotOpened,
    #[error("journal version {0} is newer than this rollcall ({VERSION}); update rollcall")]
    Version(u32),
    #[error("journal line {got} is out of order (expected {expected})")]
    Sequence { expected: u64, got: u64 },
}

impl Refusal {
    /// The message for the operator, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            Refusal::UnknownStudent(k) => {
                format!("名册上没有这个学生：{}", roster::id::mask_all(k))
            }
            Refusal::Ambiguous {
                query,
                count,
                candidates,
            } => format!("“{query}”有 {count} 个学生（{candidates}），请用 班级:行号 指定"),
            Refusal::WalkInIncomplete => "请填写姓名和班级".into(),
            Refusal::InvalidName(why) => format!("姓名不能使用：{}", why.zh),
            Refusal::Unfileable { student, why } => {
                format!("{student}：{}，无法存档照片，未作任何记录", why.zh)
            }
            Refusal::BadSession(why) => why.zh.clone(),
            Refusal::InvalidId(id) => {
                format!("身份证号 {id} 无效，请核对（可以先不填，之后重新载入名册）")
            }
            Refusal::UnknownClass(c) => format!("没有这个班级：{c}"),
            Refusal::UnknownFrame(f) => format!("没有第 {f} 张照片"),
            Refusal::Duplicate(f, g) => format!("第 {f} 张与第 {g} 张是同一张照片"),
            Refusal::FrameOrder { expected, got } => {
                format!("照片编号不连续：应为 {expected}，实为 {got}")
            }
            Refusal::Unassigned(f) => format!("第 {f} 张照片还没有分配给学生"),
            Refusal::NotProcessed(f) => format!("第 {f} 张照片还在处理中，请稍候"),
            Refusal::NoPhoto(f) => format!("第 {f} 张照片无法裁剪出头像，不能使用，请重拍"),
            Refusal::AlreadyPasses(f) => format!("第 {f} 张照片已合格，无需强制采用"),
            Refusal::NotUsable(f) => format!("第 {f} 张照片未通过检查，请先选择“强制采用”"),
            Refusal::OwnerMismatch { frame, .. } => {
                format!("第 {frame} 张照片的归属已经改变，请刷新后重试")
            }
            Refusal::Shift(why) => format!("无法顺移：{why}"),
            Refusal::NothingToUndo => "没有可以撤销的操作".into(),
            Refusal::NoStudentNext => "没有待拍的学生（请先选择班级，或指定学生）".into(),
            Refusal::NoFrameYet => "还没有照片".into(),
            Refusal::SameStudent => "这是同一个学生".into(),
            Refusal::AlreadyConfirmed => "已经确认过了".into(),
            Refusal::ReasonMissing => "请填写强制采用的理由".into(),
            Refusal::ReloadElsewhere => {
                "重新载入名册请用控制台的按钮或 rollcall session reload".into()
            }
            Refusal::UndoOrder { .. } => "只能撤销最近的一步操作".into(),
            Refusal::DuplicateKey(k) => format!("名册上已有此学生：{}", roster::id::mask_all(k)),
            Refusal::IdCollision {
                student,
                row,
                id,
                other,
                other_row,
            } => format!(
                "拒绝载入名册：{student}（第 {row} 行）改正后的身份证号 {} 与 {other}（第 {other_row} 行）相同，请核对名册后重新载入",
                roster::id::mask(id)
            ),
            Refusal::EmptyRoster => "名册中没有学生".into(),
            Refusal::NotOpened => "日志开头缺少会话信息或名册".into(),
            Refusal::Version(v) => format!("日志版本 {v} 比本程序新，请升级 rollcall"),
            Refusal::Sequence { expected, got } => {
                format!("日志第 {got} 条顺序错误（应为第 {expected} 条）")
            }
        }
    }
}

impl Refusal {
    /// For the operator, in both languages.
    pub fn text(&self) -> bilingual::Text {
        bilingual::Text::new(self.zh(), self.to_string())
    }
}
