//! Synthetic rosters for benchmarks and the demo: a realistic school workbook (merged title,
//! header on row 2, class column, 核对前 columns) with a few known problems sprinkled in.
//! Deterministic for a given seed. Shared by `benches/import.rs` and `examples/make_roster.rs`.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

const SURNAMES: &[&str] = &[
    "李", "王", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "梁", "覃", "韦", "莫", "蒙", "廖", "邓", "冯", "蒋", "潘",
];
const GIVEN: &[&str] = &[
    "子涵", "梓轩", "欣怡", "浩然", "雨桐", "宇轩", "诗涵", "俊杰", "思彤", "嘉豪", "一诺", "佳怡",
    "明", "芳", "伟", "静", "磊", "婷", "强", "燕", "晨", "悦", "鹏", "琳", "博文", "语嫣",
];
const REGIONS: &[&str] = &[
    "450403", "450405", "450406", "450421", "450422", "450423", "450481",
];
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// xorshift64*: enough randomness for test data, and no dependency for a bench helper.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn id_number(rng: &mut Rng, year: u32, male: bool) -> String {
    let region = REGIONS[rng.below(REGIONS.len())];
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let seq = rng.below(50) * 10 + rng.below(5) * 2 + usize::from(male);
    let first17 = format!("{region}{year:04}{month:02}{day:02}{seq:03}");
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", char::from(CHECK[(sum % 11) as usize]))
}

/// One primary school of `rows` students in classes of 45 (grades one to six in turn), as an
/// `.xlsx` file. With `problem_every = Some(n)`, every n-th row carries a problem, in turn: a
/// lowercase x or a mistyped digit, a number cell, a space in the name.
pub fn school_xlsx(
    school: &str,
    rows: usize,
    seed: u64,
    problem_every: Option<usize>,
) -> Result<Vec<u8>, XlsxError> {
    let mut rng = Rng(seed | 1);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("名册")?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    ws.merge_range(0, 0, 0, 7, &format!("{school}社会保障卡学生名册"), &bold)?;
    let headers = [
        "序号",
        "学校",
        "班级",
        "姓名",
        "性别",
        "身份证号码",
        "核对前身份证号码",
        "核对前姓名",
    ];
    for (c, h) in (0u16..).zip(headers) {
        ws.write_string_with_format(1, c, h, &bold)?;
    }
    let grades = ["一", "二", "三", "四", "五", "六"];
    for i in 0..rows {
        let row = u32::try_from(i + 2).unwrap_or(u32::MAX);
        let class_no = i / 45;
        let grade = class_no % 6;
        let class = format!("{}年级{}班", grades[grade], class_no / 6 + 1);
        let male = rng.below(2) == 1;
        let name = format!(
            "{}{}",
            SURNAMES[rng.below(SURNAMES.len())],
            GIVEN[rng.below(GIVEN.len())]
        );
        let year = 2019 - u32::try_from(grade).unwrap_or(0);
        let id = id_number(&mut rng, year, male);
        let (mut id_cell, mut name_cell) = (id.clone(), name.clone());
        let mut numeric = false;
        if let Some(n) = problem_every
            && i % n == n / 2
        {
            match (i / n) % 4 {
                0 if id.ends_with('X') => id_cell = id.replace('X', "x"),
                0 | 1 => {
                    // A mistyped digit in the middle: the checksum catches it.
                    let mut b = id_cell.into_bytes();
                    b[15] = if b[15] == b'9' { b'0' } else { b[15] + 1 };
                    id_cell = String::from_utf8(b).unwrap_or_default();
                }
                2 => numeric = true,
                _ => name_cell = format!("{} {}", &name[..3], &name[3..]),
            }
        }
        ws.write_number(row, 0, (i + 1) as f64)?;
        ws.write_string(row, 1, school)?;
        ws.write_string(row, 2, &class)?;
        ws.write_string(row, 3, &name_cell)?;
        ws.write_string(row, 4, if male { "男" } else { "女" })?;
        if numeric {
            ws.write_number(row, 5, id[..17].parse::<f64>().unwrap_or(0.0) * 10.0)?;
        } else {
            ws.write_string_with_format(row, 5, &id_cell, &text)?;
        }
        // The school's data as received: the 核对前 columns hold the same values.
        let original = if numeric { &id } else { &id_cell };
        ws.write_string_with_format(row, 6, original, &text)?;
        ws.write_string(row, 7, &name_cell)?;
    }
    wb.save_to_buffer()
}
