//! Printable pages (HTML with print CSS, opened in the browser and printed): the class list in
//! shooting order with check boxes, the make-up list, and pre-filled 信息采集表 forms for
//! students whose ID or name is in doubt. IDs are masked: the pages lie on a table all day.

use std::fmt::Write as _;

/// One line of a class list or make-up list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub class: String,
    pub row: u32,
    pub name: String,
    /// Masked ID.
    pub id: String,
    /// Status words (已拍 / 缺席 / 需重拍 …).
    pub status: String,
}

/// One 信息采集表 form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub class: String,
    pub name: String,
    /// What the roster holds, masked, and why it is in doubt.
    pub roster_id: String,
    pub problem: String,
}

const STYLE: &str = "<style>
body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:12mm;color:#000}
h1{font-size:18pt;margin:0 0 4mm}h2{font-size:14pt;margin:6mm 0 2mm}
table{border-collapse:collapse;width:100%;font-size:12pt}
th,td{border:1px solid #444;padding:2mm 3mm;text-align:left}
td.box{width:10mm;text-align:center;font-size:16pt}
.form{page-break-inside:avoid;border:2px solid #000;padding:6mm;margin-bottom:8mm}
.idboxes{display:flex;gap:0}.idboxes span{display:inline-block;width:8mm;height:10mm;border:1px solid #000;margin-right:-1px}
.page{page-break-after:always}
@media print{body{margin:8mm}}
</style>";

/// The text of an HTML text node or attribute. (Five replacements: a crate for them would be
/// larger than the function.)
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>{STYLE}</head><body>{body}</body></html>\n",
        escape(title)
    )
}

/// One table row: a box to tick, row, name, masked ID, status.
fn row(body: &mut String, l: &Line) {
    let _ = write!(
        body,
        "<tr><td class=\"box\">☐</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        l.row,
        escape(&l.name),
        escape(&l.id),
        escape(&l.status)
    );
}

/// Class lists in shooting order, one page per class, with a box to tick per student.
pub fn class_lists(school: &str, lines: &[Line]) -> String {
    let mut body = String::new();
    let mut classes: Vec<&str> = Vec::new();
    for l in lines {
        if !classes.contains(&l.class.as_str()) {
            classes.push(&l.class);
        }
    }
    for class in classes {
        let _ = write!(
            body,
            "<div class=\"page\"><h1>{} {} 拍照名单</h1><table><tr><th>已拍</th><th>行</th><th>姓名</th><th>身份证号</th><th>状态</th></tr>",
            escape(school),
            escape(class)
        );
        for l in lines.iter().filter(|l| l.class == class) {
            row(&mut body, l);
        }
        body.push_str("</table></div>");
    }
    page(&format!("{school} 拍照名单"), &body)
}

/// The make-up list (补拍名单), grouped by class.
pub fn make_up(school: &str, lines: &[Line]) -> String {
    let mut body = format!("<h1>{} 补拍名单（{} 人）</h1>", escape(school), lines.len());
    let mut current = None;
    for l in lines {
        if current != Some(&l.class) {
            if current.is_some() {
                body.push_str("</table>");
            }
            let _ = write!(
                body,
                "<h2>{}</h2><table><tr><th>已补拍</th><th>行</th><th>姓名</th><th>身份证号</th><th>原因</th></tr>",
                escape(&l.class)
            );
            current = Some(&l.class);
        }
        row(&mut body, l);
    }
    if current.is_some() {
        body.push_str("</table>");
    }
    page(&format!("{school} 补拍名单"), &body)
}

/// 信息采集表: school, class and name filled in, 18 empty boxes for the family to write the ID
/// from the household register (户口簿).
pub fn forms(school: &str, forms: &[Form]) -> String {
    let mut body = String::new();
    for f in forms {
        let _ = write!(
            body,
            "<div class=\"form\"><h1>社会保障卡信息采集表</h1><table>\
             <tr><th>学校</th><td>{}</td><th>班级</th><td>{}</td></tr>\
             <tr><th>姓名</th><td colspan=\"3\">{}</td></tr>\
             <tr><th>公民身份号码</th><td colspan=\"3\"><div class=\"idboxes\">{}</div></td></tr>\
             <tr><th>名册中</th><td colspan=\"3\">{}（{}）</td></tr>\
             <tr><th>监护人签字</th><td colspan=\"3\" style=\"height:14mm\"></td></tr></table>\
             <p>请按户口簿逐位填写，核对无误后交回班主任。</p></div>",
            escape(school),
            escape(&f.class),
            escape(&f.name),
            "<span></span>".repeat(18),
            escape(&f.roster_id),
            escape(&f.problem)
        );
    }
    page(&format!("{school} 信息采集表"), &body)
}
