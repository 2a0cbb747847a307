//! The daemon's configuration: one TOML file (`/etc/rollcall/rollcall.toml` under systemd),
//! every key documented in `systemd/rollcall.toml.example`, and `rollcall config check`.
//!
//! Unknown keys are errors (a misspelt key silently ignored is a photo day configured wrong);
//! the TOML parser's message names the line and column.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bilingual::Text;
use serde::{Deserialize, Serialize};
use tether::{CameraConfig, CaptureTarget, ImageSize};

use crate::{Error, Result};

/// Where systemd's unit looks for the file.
pub const DEFAULT_PATH: &str = "/etc/rollcall/rollcall.toml";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The data folder: journal, originals, output, submissions, spool.
    pub data: PathBuf,
    /// Roster files or folders. Used to start the session when the data folder has none yet;
    /// the session remembers them for the console's "reload roster".
    #[serde(default)]
    pub roster: Vec<PathBuf>,
    /// The school, when the data folder (or the rosters) hold more than one.
    #[serde(default)]
    pub school: Option<String>,
    /// Photo standard: `358x441`, `236x295`, or a TOML profile file.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Warn when one student has more frames than this.
    #[serde(default = "default_shot_limit")]
    pub shot_limit: usize,
    /// Pipeline workers; default: the number of cores.
    #[serde(default)]
    pub jobs: Option<usize>,
    /// Kindergarten children need photos too (roster check).
    #[serde(default)]
    pub kindergarten_photos: bool,
    /// Below this much free space (MB) on the data disk the console warns and the camera keeps
    /// its frames (about 200 frames of a 24 MP camera by default).
    #[serde(default = "default_low_space_mb")]
    pub low_space_mb: u64,
    #[serde(default)]
    pub camera: CameraSection,
    #[serde(default)]
    pub console: ConsoleSection,
    /// The coordinator's office this kit reports to (`rollcall sync`); none: the kit is alone.
    #[serde(default)]
    pub office: OfficeSection,
}

fn default_profile() -> String {
    pipeline::spec::DEFAULT_PROFILE.into()
}

fn default_shot_limit() -> usize {
    4
}

fn default_low_space_mb() -> u64 {
    session::engine::LOW_SPACE_BYTES / 1_000_000
}

impl Config {
    /// [`Config::low_space_mb`] in bytes.
    pub fn low_space_bytes(&self) -> u64 {
        self.low_space_mb.saturating_mul(1_000_000)
    }
}

/// Where frames come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceName {
    /// A tethered camera through libgphoto2 (waits for one to be plugged).
    #[default]
    Camera,
    /// A folder filled by other software or a card reader (`folder`).
    Folder,
    /// The built-in demo camera with the bundled frames.
    Demo,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraSection {
    pub source: SourceName,
    /// Only this camera: text in its model name, or its serial number.
    pub model: Option<String>,
    /// `card`, `ram` (deleted from the camera once safe) or `leave`.
    pub capture_target: CaptureTarget,
    /// `small` or `leave`.
    pub image_size: ImageSize,
    /// Never delete anything from the camera.
    pub keep_on_card: bool,
    /// For `source = "folder"`.
    pub folder: Option<PathBuf>,
    /// For `source = "demo"`: seconds between shots by itself; 0 = only on the shutter button.
    pub demo_pace: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSection {
    /// Address of the console. Beyond loopback it asks for the token in `<data>/console.token`.
    pub listen: SocketAddr,
    /// Pass/fail sounds in the console.
    pub sounds: bool,
    /// The access token beyond loopback; default: one made on first start and kept in
    /// `<data>/console.token`.
    pub token: Option<String>,
    /// Host names (besides IP addresses and localhost) a browser may use to reach the console,
    /// e.g. the laptop's name on the school's network. Any other name is refused (DNS
    /// rebinding).
    pub hosts: Vec<String>,
}

/// Where the kit reports (docs/operator-guide.md, 多个小组).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfficeSection {
    /// The office's address, e.g. `https://office.example:8743`; none: no sync.
    pub url: Option<String>,
    /// This kit's token (`rollcall office token add`), or
    pub token: Option<String>,
    /// a file holding it (kept out of the config file).
    pub token_file: Option<PathBuf>,
    /// The office's certificate (PEM) when it is self-signed (`rollcall office cert`); default:
    /// the system's certificate authorities.
    pub ca: Option<PathBuf>,
    /// Seconds between syncs while the daemon runs.
    pub interval_s: u64,
    /// Upload each pack (zip) too, not only its checksum.
    pub upload_packs: bool,
}

impl Default for OfficeSection {
    fn default() -> Self {
        OfficeSection {
            url: None,
            token: None,
            token_file: None,
            ca: None,
            interval_s: 30,
            upload_packs: false,
        }
    }
}

impl Default for ConsoleSection {
    fn default() -> Self {
        ConsoleSection {
            listen: SocketAddr::from(([127, 0, 0, 1], 8750)),
            sounds: true,
            token: None,
            hosts: Vec::new(),
        }
    }
}

impl CameraSection {
    /// The camera source's settings.
    pub fn options(&self, low_space_bytes: u64) -> CameraConfig {
        CameraConfig {
            camera: self.model.clone(),
            capture_target: self.capture_target,
            image_size: self.image_size,
            keep_on_card: self.keep_on_card,
            low_space_bytes,
            ..CameraConfig::default()
        }
    }

    pub fn demo_pace(&self) -> Option<Duration> {
        (self.demo_pace.is_finite() && self.demo_pace > 0.0)
            .then(|| Duration::from_secs_f64(self.demo_pace))
    }
}

/// Reads and parses the file (syntax, types, unknown keys).
pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::io(
            Text::new(
                format!("无法读取配置文件 {}", path.display()),
                format!("cannot read the configuration file {}", path.display()),
            ),
            e,
        )
    })?;
    parse(&text).map_err(|message| {
        Error::invalid(
            Text::new(
                format!("配置文件 {} 有误，请按提示的行号修改", path.display()),
                format!(
                    "the configuration file {} is wrong (see the line)",
                    path.display()
                ),
            ),
            message,
        )
    })
}

/// Parses a configuration; the error names the line and column (the TOML parser's words).
pub fn parse(text: &str) -> Result<Config, String> {
    let mut config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
    if let Some(t) = &config.console.token
        && (t.len() < 16 || !t.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(
            "[console] token: at least 16 letters or digits (令牌至少 16 位字母或数字)".into(),
        );
    }
    if config.jobs == Some(0) {
        return Err("jobs = 0: at least one worker is needed (jobs 至少为 1)".into());
    }
    config.camera.demo_pace = config.camera.demo_pace.max(0.0);
    Ok(config)
}

/// The documented example, kept in the repository as `systemd/rollcall.toml.example`.
pub const EXAMPLE: &str = include_str!("../../../systemd/rollcall.toml.example");

/// One line of `rollcall config check`.
#[derive(Debug, Serialize)]
pub struct Finding {
    pub ok: bool,
    pub what: String,
    pub message: Text,
}

/// Everything that can be checked without starting anything.
pub fn check(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut finding = |ok: bool, what: &str, zh: String, en: String| {
        out.push(Finding {
            ok,
            what: what.into(),
            message: Text::new(zh, en),
        })
    };
    finding(
        true,
        "file",
        "语法与键名正确".into(),
        "syntax and keys are right".into(),
    );

    // The data folder: exists and writable, or its parent can hold it.
    let data = &config.data;
    let data_ok = if data.is_dir() {
        tempfile_probe(data)
    } else {
        match data.ancestors().skip(1).find(|p| p.is_dir()) {
            Some(parent) => tempfile_probe(parent),
            None => false,
        }
    };
    let d = data.display();
    if data_ok {
        finding(
            true,
            "data",
            format!("{d} 可写"),
            format!("{d} is writable"),
        );
    } else {
        finding(
            false,
            "data",
            format!("{d} 无法写入：请创建并交给运行 rollcall 的用户"),
            format!("cannot write {d}: create it and give it to the user running rollcall"),
        );
    }

    // A session, or rosters to start one.
    let layout = session::Layout::new(data);
    let has_session = layout.schools().map(|s| !s.is_empty()).unwrap_or(false);
    if config.roster.is_empty() {
        if has_session {
            finding(
                true,
                "roster",
                "未配置名册；使用数据目录中已有的拍摄会话".into(),
                "no roster configured; using the session in the data folder".into(),
            );
        } else {
            finding(
                false,
                "roster",
                "没有名册，数据目录中也没有拍摄会话：请设置 roster = [\"名册文件或文件夹\"]".into(),
                "no roster and no session in the data folder: set roster = [\"file or folder\"]"
                    .into(),
            );
        }
    } else {
        match crate::inputs::load(
            &config.roster,
            chrono::Local::now().date_naive(),
            config.kindergarten_photos,
        ) {
            Ok(roster) => {
                let students = roster.students().count();
                let schools: Vec<String> = roster.schools.iter().map(|s| s.name.clone()).collect();
                let ok = students > 0
                    && (schools.len() == 1
                        || config
                            .school
                            .as_ref()
                            .is_some_and(|s| schools.iter().any(|x| x == s)));
                if ok {
                    finding(
                        true,
                        "roster",
                        format!("{students} 名学生，学校：{}", schools.join("、")),
                        format!("{students} students, schools: {}", schools.join(", ")),
                    );
                } else if students == 0 {
                    finding(
                        false,
                        "roster",
                        "名册中没有学生".into(),
                        "the rosters hold no student".into(),
                    );
                } else {
                    finding(
                        false,
                        "roster",
                        format!(
                            "名册中有多所学校（{}）：请设置 school = \"…\"",
                            schools.join("、")
                        ),
                        format!(
                            "the rosters hold several schools ({}): set school = \"…\"",
                            schools.join(", ")
                        ),
                    );
                }
            }
            Err(e) => {
                let t = e.text();
                finding(false, "roster", t.zh, t.en)
            }
        }
    }

    match crate::load_profile(&config.profile) {
        Ok(_) => finding(
            true,
            "profile",
            config.profile.clone(),
            config.profile.clone(),
        ),
        Err(e) => {
            let t = e.text();
            finding(false, "profile", t.zh, t.en)
        }
    }

    let camera = &config.camera;
    match camera.source {
        SourceName::Camera if cfg!(feature = "camera") => finding(
            true,
            "camera",
            "libgphoto2 相机；插上相机即开始".into(),
            "a camera through libgphoto2; plug it in to start".into(),
        ),
        SourceName::Camera => finding(
            false,
            "camera",
            "此版本不含相机支持，请用 source = \"folder\"".into(),
            "built without libgphoto2: use source = \"folder\"".into(),
        ),
        SourceName::Folder => match &camera.folder {
            Some(f) if f.is_dir() => finding(
                true,
                "camera",
                format!("文件夹 {}", f.display()),
                format!("folder {}", f.display()),
            ),
            Some(f) => finding(
                false,
                "camera",
                format!("文件夹 {} 不存在", f.display()),
                format!("the folder {} does not exist", f.display()),
            ),
            None => finding(
                false,
                "camera",
                "source = \"folder\" 需要 folder = \"…\"".into(),
                "source = \"folder\" needs folder = \"…\"".into(),
            ),
        },
        SourceName::Demo => finding(true, "camera", "演示相机".into(), "the demo camera".into()),
    }

    let listen = config.console.listen;
    if std::net::TcpListener::bind(listen).is_ok() {
        finding(
            true,
            "console",
            format!("{listen} 可用"),
            format!("{listen} is free"),
        );
    } else {
        finding(
            false,
            "console",
            format!("{listen} 已被占用（rollcall 已在运行？）"),
            format!("{listen} is in use (is rollcall running?)"),
        );
    }

    if let Some(url) = &config.office.url {
        match crate::sync::Office::from_config(&config.office) {
            Ok(_) => finding(
                true,
                "office",
                format!("向办公室 {url} 报送（每 {} 秒）", config.office.interval_s),
                format!(
                    "reports to the office at {url} (every {} s)",
                    config.office.interval_s
                ),
            ),
            Err(e) => finding(
                false,
                "office",
                e.in_lang(bilingual::Lang::Zh),
                e.in_lang(bilingual::Lang::En),
            ),
        }
    }
    out
}

/// Whether a file can be created in `dir`.
fn tempfile_probe(dir: &Path) -> bool {
    let probe = dir.join(format!(".rollcall-probe-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_and_sets_every_section() {
        let c = parse(EXAMPLE).unwrap();
        assert_eq!(c.profile, "358x441");
        assert_eq!(c.console.listen.port(), 8750);
        assert_eq!(c.camera.source, SourceName::Camera);
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_its_line() {
        let e = parse("data = \"/tmp/x\"\n\n[camera]\nsorce = \"demo\"\n").unwrap_err();
        let text = e;
        assert!(text.contains("line 4"), "{text}");
        assert!(text.contains("sorce"), "{text}");
    }

    #[test]
    fn a_short_token_is_refused() {
        let e = parse("data = \"/tmp/x\"\n[console]\ntoken = \"abc\"\n").unwrap_err();
        assert!(e.contains("16"), "{e}");
        let c = parse("data = \"/tmp/x\"\n[console]\ntoken = \"abcdefgh12345678\"\n").unwrap();
        assert_eq!(c.console.token.as_deref(), Some("abcdefgh12345678"));
    }

    #[test]
    fn a_wrong_type_names_its_line() {
        let e = parse("data = \"/tmp/x\"\nshot_limit = \"four\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }
}
