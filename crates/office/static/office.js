// The coordinator's page: reads /api/city every 15 s and draws it; a school's make-up list on
// request. Chinese first; EN switches the words (data-en). Text is always set with textContent.
"use strict";
let lang = "zh";
const STANDING = {
  waiting: ["待拍", "to come"], failed: ["需重拍", "retake"], absent: ["缺席", "absent"],
  processing: ["处理中", "processing"], photographed: ["已拍", "photographed"],
  no_photo_needed: ["无需拍照", "no photo needed"], removed: ["已从名册删除", "removed"],
};
const t = (zh, en) => (lang === "zh" ? zh : en);
const $ = (s) => document.querySelector(s);

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
function when(iso) {
  if (!iso) return t("从未", "never");
  const d = new Date(iso);
  const mins = Math.round((Date.now() - d.getTime()) / 60000);
  if (mins < 1) return t("刚刚", "just now");
  if (mins < 60) return t(`${mins} 分钟前`, `${mins} min ago`);
  return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB");
}
function fill(id, rows, draw, empty) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell(tr, empty, "empty");
    td.colSpan = 10;
    body.appendChild(tr);
    return;
  }
  for (const r of rows) {
    const tr = document.createElement("tr");
    draw(tr, r);
    body.appendChild(tr);
  }
}

let last = null;
function draw(city) {
  last = city;
  let students = 0, done = 0;
  for (const s of city.schools) { students += s.counts.students; done += s.counts.photographed; }
  $("#total").textContent = t(`全市 ${city.schools.length} 所学校，已拍 ${done} / ${students} 人`,
    `${city.schools.length} schools, ${done} of ${students} photographed`);
  const due = $("#due");
  due.replaceChildren();
  if (!city.due.length) {
    due.textContent = t("目前没有应报送的数据", "nothing due now");
  }
  for (const d of city.due) {
    const p = document.createElement("p");
    const open = d.schools.filter((s) => !s.submitted).map((s) => s.school);
    const kind = d.kind === "daily" ? t("每日", "daily") : t("每周", "weekly");
    p.textContent = t(`${d.due} 应报送（${kind}，${d.covers}）：`, `due ${d.due} (${kind}, ${d.covers}): `) +
      (open.length ? t(`未报送 ${open.join("、")}`, `not submitted: ${open.join(", ")}`)
                   : t("已全部报送", "all submitted"));
    p.className = open.length ? "late" : "done";
    due.appendChild(p);
  }
  const kits = [];
  for (const team of city.teams) for (const k of team.kits) kits.push([team.team, k]);
  fill("kits", kits, (tr, [team, k]) => {
    cell(tr, team); cell(tr, k.kit + (k.revoked ? t("（已吊销）", " (revoked)") : ""));
    cell(tr, when(k.last_sync)); cell(tr, k.schools, "num");
    cell(tr, k.counts.photographed, "num"); cell(tr, k.counts.retake, "num");
    cell(tr, k.counts.absent, "num"); cell(tr, k.counts.to_come, "num");
    const now = cell(tr, k.status && k.status.school ? k.status.school : "—");
    // Lines the office refused: the kit works on, but the coordinator should call the team.
    for (const r of (k.status && k.status.refused) || []) {
      const p = document.createElement("div");
      p.className = "low";
      const why = r.refusal.zh ? t(r.refusal.zh, r.refusal.en) : r.refusal.refusal;
      p.textContent = t(`办公室拒收「${r.school}」的日志：${why}`, `the office refuses ${r.school}'s journal: ${why}`);
      now.appendChild(p);
    }
    const free = k.status ? k.status.free_bytes : null;
    // Under 5 GB: less than a busy day of frames (~1,000 × 6 MB); the kit itself warns at 2 GB.
    cell(tr, free == null ? "—" : `${(free / 1e9).toFixed(1)} GB`, free != null && free < 5e9 ? "num low" : "num");
  }, t("还没有设备", "no kits yet"));
  fill("schools", city.schools, (tr, s) => {
    cell(tr, s.school); cell(tr, `${s.team} / ${s.kit}`); cell(tr, s.counts.students, "num");
    cell(tr, s.counts.photographed, "num"); cell(tr, s.counts.retake, "num");
    cell(tr, s.counts.absent, "num"); cell(tr, s.counts.to_come, "num");
    cell(tr, when(s.synced_at));
    cell(tr, s.submitted ? s.submitted + (s.submitted_complete ? "" : t("（部分）", " (partial)")) : "—");
    const left = s.counts.retake + s.counts.absent + s.counts.to_come;
    const td = cell(tr, "");
    if (left) {
      const b = document.createElement("button");
      b.className = "link";
      b.textContent = t(`${left} 人`, `${left}`);
      b.addEventListener("click", () => makeUp(s.kit, s.school));
      td.appendChild(b);
    } else {
      td.textContent = t("无", "none");
    }
    if (s.completed_on) tr.className = "done";
  }, t("还没有学校的数据", "no school yet"));
  fill("duplicates", city.duplicates, (tr, d) => {
    cell(tr, d.id);
    cell(tr, d.places.map((p) => `${p.school} ${p.class} ${p.name}（${p.kit}，${STANDING[p.standing] ? t(...STANDING[p.standing]) : p.standing}）`).join("；"));
  }, t("没有跨校重复", "none"));
  $("#duplicates-more").textContent = city.duplicates_total > city.duplicates.length
    ? t(`共 ${city.duplicates_total} 个，只列出前 ${city.duplicates.length} 个`, `${city.duplicates_total} in all; the first ${city.duplicates.length} listed`) : "";
  $("#problems-more").textContent = city.problems_total > city.problems.length
    ? t(`共 ${city.problems_total} 行，只列出前 ${city.problems.length} 行`, `${city.problems_total} in all; the first ${city.problems.length} listed`) : "";
  fill("problems", city.problems, (tr, p) => {
    cell(tr, p.school); cell(tr, p.class); cell(tr, p.row, "num"); cell(tr, p.name); cell(tr, p.id);
  }, t("没有", "none"));
}

let shownMakeUp = null;
async function makeUp(kit, school) {
  const r = await fetch(`/api/school?kit=${encodeURIComponent(kit)}&school=${encodeURIComponent(school)}`);
  if (!r.ok) return;
  drawMakeUp(await r.json());
}
function drawMakeUp(d) {
  shownMakeUp = d;
  $("#makeup").hidden = false;
  $("#makeup-title").textContent = t(`${d.school} 补拍名单（${d.make_up.length} 人）`, `${d.school}: make-up list (${d.make_up.length})`);
  const body = $("#makeup tbody");
  body.replaceChildren();
  for (const m of d.make_up) {
    const tr = document.createElement("tr");
    cell(tr, m.class); cell(tr, m.row, "num"); cell(tr, m.name); cell(tr, m.id);
    cell(tr, STANDING[m.standing] ? t(...STANDING[m.standing]) : m.standing);
    body.appendChild(tr);
  }
}

async function refresh() {
  try {
    const r = await fetch("/api/city");
    if (!r.ok) throw new Error(String(r.status));
    draw(await r.json());
    $("#conn").className = "up";
    $("#conn").textContent = t("已连接", "connected");
  } catch (e) {
    $("#conn").className = "down";
    $("#conn").textContent = t("连接中断", "disconnected");
  }
}

function words() {
  for (const el of document.querySelectorAll("[data-en]")) {
    if (!el.dataset.zh) el.dataset.zh = el.textContent;
    el.textContent = lang === "zh" ? el.dataset.zh : el.dataset.en;
  }
  $("#lang").textContent = lang === "zh" ? "EN" : "中文";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  if (last) draw(last);
  if (shownMakeUp) drawMakeUp(shownMakeUp);
}
$("#lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; words(); });
refresh();
setInterval(refresh, 15000);
