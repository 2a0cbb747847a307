"use strict";
let csrf = document.querySelector('meta[name=csrf]').content;
// Chinese by default; English when chosen (kept in this browser).
let lang = localStorage.getItem('rollcall-lang') === 'en' ? 'en' : 'zh';
const t = (zh, en) => (lang === 'en' ? en : zh);
// A journaled reason is `中文 / English` (bilingual::Text::both): the part in the page's language.
const inLang = (both) => { const i = both.indexOf(' / '); return i < 0 ? both : t(both.slice(0, i), both.slice(i + 3)); };
function applyLang() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-en]')) {
    if (!el.dataset.zh) el.dataset.zh = el.textContent;
    el.textContent = lang === 'en' ? el.dataset.en : el.dataset.zh;
  }
  document.getElementById('lang').textContent = lang === 'en' ? '中文' : 'EN';
  document.getElementById('search').placeholder = t('搜索姓名或扫描身份证号（/）', 'Search a name or scan an ID (/)');
  makeUpRev = null; // its reasons are in the page's language: asked for again
  if (view) render(view);
}
let view = null;
let makeUpRev = null; // the make-up list's revision on the page
let heard = null; // the last frame whose verdict was announced
const $ = (id) => document.getElementById(id);

function toast(text) {
  const t = $('toast'); t.textContent = text; t.style.display = 'block';
  clearTimeout(toast.timer); toast.timer = setTimeout(() => t.style.display = 'none', 4000);
}

// Pass and fail sounds, made here (no files to load).
let audio = null;
const soundsOn = document.querySelector('meta[name=sounds]').content !== 'off';
function beep(freqs) {
  if (!soundsOn) return;
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    let t = audio.currentTime;
    for (const f of freqs) {
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = f; o.connect(g); g.connect(audio.destination);
      g.gain.setValueAtTime(0.2, t); g.gain.exponentialRampToValueAtTime(0.001, t + 0.18);
      o.start(t); o.stop(t + 0.2); t += 0.22;
    }
  } catch (e) { /* no audio device */ }
}

async function refreshCsrf() {
  const r = await fetch('/api/state');
  const token = r.headers.get('x-rollcall-csrf');
  if (token) csrf = token;
}

async function post(path, body, retried) {
  const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-rollcall-csrf': csrf }, body: JSON.stringify(body || {}) });
  if (r.status === 403 && !retried) { await refreshCsrf(); return post(path, body, true); }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { toast((data.error && (t(data.error.zh, data.error.en) || data.error.zh)) || (t('错误 ', 'Error ') + r.status)); beep([220]); }
  return data;
}
const command = (body) => post('/api/command', body);

const STANDING_EN = { waiting: 'to shoot', failed: 'retake', processing: 'processing', photographed: 'done', absent: 'absent', no_photo_needed: 'no photo', removed: 'removed' };
// Table cells, every one set as text (nothing from the data is ever parsed as HTML).
function cells(tr, values) {
  for (const v of values) { const td = document.createElement('td'); td.textContent = String(v); tr.appendChild(td); }
}

// The data disk and current problems: a loud banner when space is low.
function health(h) {
  const disk = $('disk');
  if (h.free_bytes !== null && h.free_bytes !== undefined) {
    const gb = (h.free_bytes / 1e9).toFixed(1);
    disk.textContent = t(`💾 剩余 ${gb} GB`, `💾 ${gb} GB free`);
    disk.className = h.low_space ? 'low' : '';
  } else { disk.textContent = ''; }
  const box = $('alerts');
  box.replaceChildren();
  if (h.low_space) {
    const d = document.createElement('div'); d.className = 'loud';
    d.textContent = t(`磁盘空间不足（剩余 ${(h.free_bytes / 1e6).toFixed(0)} MB）：请立即腾出空间；相机中的照片暂不删除`,
      `The disk is nearly full (${(h.free_bytes / 1e6).toFixed(0)} MB free): make room now; frames stay on the camera meanwhile`);
    box.appendChild(d);
  }
  for (const p of h.problems) { const d = document.createElement('div'); d.textContent = t(p.zh, p.en); box.appendChild(d); }
  box.hidden = !box.children.length;
}

// 切莫张冠李戴: the newest face that contradicts the list, with both photos and the two answers
// (F: the repair, D: it is right). Never blocks the queue.
function faces(list) {
  const box = $('faces');
  const w = list[0];
  box.hidden = !w;
  if (!w) return;
  $('faces-text').textContent = t(w.message.zh, w.message.en);
  for (const [id, frame] of [['faces-this', w.frame], ['faces-other', w.other_frame]]) {
    const img = $(id);
    const src = `/api/photo/${frame}`;
    img.onerror = () => { if (img.getAttribute('src') === src) img.src = `/api/preview/${frame}`; };
    if (img.getAttribute('src') !== src) img.src = src;
  }
  const same = w.kind === 'same_face';
  const fix = w.fix.command === 'shift'
    ? (w.fix.back ? t('顺移（这张给上一位）', 'Shift back (give it to the previous student)') : t('给下一位', 'Give it to the next student'))
    : (w.fix.student ? t(`归给 ${w.other.name}`, `Give it to ${w.other.name}`) : t('取消分配', 'Unassign it'));
  $('faces-fix').firstChild.textContent = fix;
  $('faces-dismiss').firstChild.textContent = same ? t('不是同一人', 'Not the same person') : t('是同一人', 'Same person');
  $('faces-fix').onclick = () => command(w.fix);
  $('faces-dismiss').onclick = () => command(w.dismiss);
  $('faces-more').textContent = list.length > 1 ? t(`（还有 ${list.length - 1} 条）`, `(${list.length - 1} more)`) : '';
}

function person(p) { return p ? t(`${p.class} 第 ${p.row} 行`, `${p.class}, row ${p.row}`) : ''; }

function render(v) {
  view = v;
  $('school').textContent = v.school;
  const sel = $('class');
  if (sel.options.length !== v.classes.length) {
    sel.replaceChildren();
    for (const c of v.classes) { const o = document.createElement('option'); o.value = o.textContent = c; sel.appendChild(o); }
  }
  sel.value = v.class || '';
  $('progress').textContent = t(`本班 ${v.class_progress.done}/${v.class_progress.total}　全校 ${v.school_progress.done}/${v.school_progress.total}`,
    `Class ${v.class_progress.done}/${v.class_progress.total}  School ${v.school_progress.done}/${v.school_progress.total}`);
  $('next-name').textContent = v.next ? v.next.name : (v.class ? t('本班已拍完', 'Class done') : t('请选择班级', 'Choose a class'));
  $('next-where').textContent = v.next ? person(v.next) + (v.next.takes ? t(`（已拍 ${v.next.takes} 张）`, ` (${v.next.takes} taken)`) : '') : '';
  $('then').textContent = v.then ? t(`之后：${v.then.name}`, `Then: ${v.then.name}`) : '';
  const limit = $('limit');
  limit.style.display = v.shot_limit_hit ? 'block' : 'none';
  limit.textContent = v.shot_limit_hit ? t(`注意：${v.next.name} 已拍 ${v.next.takes} 张，排队顺序是否与名单一致？`, `${v.next.name} has ${v.next.takes} frames: does the queue still match the list?`) : '';
  $('undo').title = v.can_undo ? t(`撤销：${v.can_undo}`, `Undo: ${v.can_undo}`) : t('没有可撤销的操作', 'Nothing to undo');
  faces(v.faces);
  const last = v.last;
  if (last) {
    $('last-title').textContent = t(`第 ${last.frame} 张 → ${last.student || '（未分配）'}`, `Frame ${last.frame} → ${last.student || '(unassigned)'}`);
    const words = lang === 'en'
      ? { pass: 'Pass', fail: 'Retake', error: 'Unreadable', processing: 'Processing…' }
      : { pass: '合格', fail: '不合格', error: '无法处理', processing: '处理中…' };
    const verdict = $('last-verdict');
    verdict.className = last.verdict;
    verdict.textContent = words[last.verdict] + (last.accepted ? t('（已强制采用）', ' (accepted)') : '');
    $('last-reasons').replaceChildren();
    for (const r of last.reasons) { const li = document.createElement('li'); li.textContent = inLang(r); $('last-reasons').appendChild(li); }
    const img = $('last-photo');
    // A failed frame shows why: the photo with what failed marked, or the frame with the faces
    // found when there is no photo; a session from before these pictures falls back to the photo.
    const photo = last.photo ? `/api/photo/${last.frame}` : null;
    const src = last.verdict === 'fail' ? `/api/preview/${last.frame}` : photo;
    img.onerror = () => { if (photo && img.getAttribute('src') !== photo) img.src = photo; else img.style.visibility = 'hidden'; };
    if (src) { if (img.getAttribute('src') !== src) img.src = src; img.style.visibility = 'visible'; }
    else { img.removeAttribute('src'); img.style.visibility = last.verdict === 'processing' ? 'hidden' : 'visible'; }
    img.onclick = () => window.open(`/api/original/${last.frame}`, '_blank');
    if (last.verdict !== 'processing' && heard !== null && heard !== `${last.frame}:${last.verdict}`) {
      beep(last.verdict === 'pass' ? [880, 1320] : [330, 220]);
    }
    heard = `${last.frame}:${last.verdict}`;
  } else { heard = ''; }
  const tbody = $('students').tBodies[0];
  tbody.replaceChildren();
  for (const s of v.students) {
    const tr = document.createElement('tr');
    tr.dataset.key = s.key; if (s.next) tr.className = 'next';
    cells(tr, [s.row, s.name, s.id, lang === 'en' ? STANDING_EN[s.standing] : s.standing_zh, s.takes || '']);
    tr.children[3].className = `st-${s.standing}`;
    tr.onclick = () => command({ command: 'jump', student: s.key });
    tbody.appendChild(tr);
  }
  health(v.health);
  $('makeup-count').textContent = t(`（${v.make_up_count} 人）`, `(${v.make_up_count})`);
  if (v.make_up_rev !== makeUpRev) makeUp(v.make_up_rev);
}

// The school's make-up list is not in every view (it grows with the school): it is asked for
// when its revision changes.
async function makeUp(rev) {
  makeUpRev = rev;
  try {
    const list = await (await fetch('/api/make-up')).json();
    const mk = $('makeup').tBodies[0];
    mk.replaceChildren();
    for (const m of list.make_up) {
      const tr = document.createElement('tr');
      cells(tr, [m.class, m.row, m.name, lang === 'en' ? STANDING_EN[m.standing] : m.reason]);
      mk.appendChild(tr);
    }
  } catch (e) { makeUpRev = null; /* asked again with the next view */ }
}

function connect() {
  const es = new EventSource('/api/events');
  let wasDown = false;
  es.addEventListener('view', async (e) => {
    if (wasDown) { wasDown = false; await refreshCsrf(); }
    $('conn').className = 'up'; $('conn').textContent = t('已连接', 'Connected');
    render(JSON.parse(e.data));
  });
  es.onerror = () => { wasDown = true; $('conn').className = 'down'; $('conn').textContent = t('连接中断，正在重连…', 'Disconnected, reconnecting…'); };
}

async function camera() {
  try {
    const c = await (await fetch('/api/camera')).json();
    const cam = $('camera');
    cam.style.color = c.state === 'error' || c.state === 'disconnected' ? 'var(--bad)' : '';
    cam.textContent = c.state === 'connected'
      ? `📷 ${c.model}　电量 ${c.battery || '?'}　剩余 ${c.free_bytes != null ? Math.round(c.free_bytes / 1e6) + ' MB' : '?'}`
      : `📷 ${c.message || c.state}${c.remedy ? '：' + c.remedy : ''}`;
  } catch (e) { /* server restarting */ }
}

// The kit's last report to the office (多个小组): shown only when it reports to one. Offline is
// normal: the photos are safe here and everything goes once the network is back.
async function office() {
  try {
    const r = await fetch('/api/office');
    const el = $('office');
    if (!r.ok) { el.hidden = true; return; }
    const o = await r.json();
    el.hidden = false;
    const ago = o.synced_at ? Math.max(0, Math.round((Date.now() - new Date(o.synced_at).getTime()) / 60000)) : null;
    const when = ago == null ? t('从未', 'never') : ago < 1 ? t('刚刚', 'just now') : t(`${ago} 分钟前`, `${ago} min ago`);
    el.className = o.error ? 'behind' : '';
    el.textContent = o.error
      ? t(`办公室：未连接（上次同步 ${when}；数据都在本机，联网后自动补传）`, `Office: not reached (last sync ${when}; everything is kept here and goes once connected)`)
      : t(`办公室：已同步（${when}）`, `Office: synced (${when})`);
    el.title = o.error ? (lang === 'en' ? o.error.en : o.error.zh) : o.url;
  } catch (e) { /* server restarting */ }
}

async function act(name) {
  const v = view || {};
  switch (name) {
    case 'shutter': { const r = await post('/api/trigger'); if (r.ok) toast('已拍摄'); break; }
    case 'skip': await command({ command: 'skip' }); break;
    case 'retake': await command({ command: 'retake' }); break;
    case 'accept': { const reason = prompt('强制采用的理由（例如：轻微阴影，可用）'); if (reason) await command({ command: 'accept', reason }); break; }
    case 'undo': await command({ command: 'undo' }); break;
    case 'back': await command({ command: 'shift', n: 1, back: true }); break;
    case 'forward': await command({ command: 'shift', n: 1 }); break;
    case 'add': {
      const name = prompt('插班生姓名'); if (!name) break;
      const id = prompt('身份证号码（可先不填）') || null;
      await command({ command: 'add', name, class: v.class || '', id }); break;
    }
    case 'choose': { const f = parseInt(prompt('选用第几张照片（照片编号）') || '', 10); if (f) await command({ command: 'choose', frame: f }); break; }
    case 'shiftn': {
      const n = parseInt(prompt('最近几张照片顺移一位？') || '', 10); if (!n) break;
      const back = confirm('确定：后移（归前一位学生）？取消：前移（归后一位学生）');
      await command({ command: 'shift', n, back }); break;
    }
    case 'reload': {
      const r = await command({ command: 'reload' });
      if (r.ok) { const d = r.diff; const gone = d.removed.length + d.removed_with_photos.length; toast(t(`名册已重新载入：更正 ${d.corrected.length}，新增 ${d.added.length}，删除 ${gone}`, `Roster reloaded: ${d.corrected.length} corrected, ${d.added.length} added, ${gone} removed`)); }
      break;
    }
    case 'nophoto': if (v.next && confirm(`${v.next.name} 无需拍照？`)) await command({ command: 'no_photo', student: v.next.key }); break;
  }
}

$('lang').addEventListener('click', () => { lang = lang === 'en' ? 'zh' : 'en'; localStorage.setItem('rollcall-lang', lang); applyLang(); });
document.querySelectorAll('#controls button').forEach((b) => b.addEventListener('click', () => act(b.dataset.act)));
$('class').addEventListener('change', (e) => command({ command: 'class', class: e.target.value }));

// Search: typed names, or a barcode scanner typing the ID and Enter.
const search = $('search'), results = $('results');
async function find(q) {
  const list = await (await fetch('/api/search?q=' + encodeURIComponent(q))).json();
  results.replaceChildren();
  for (const s of list) {
    const d = document.createElement('div');
    d.textContent = `${s.class} 第${s.row}行 ${s.name} ${s.id} ${s.standing}`;
    d.onclick = () => { command({ command: 'jump', student: s.key }); results.replaceChildren(); search.value = ''; search.blur(); };
    results.appendChild(d);
  }
  return list;
}
search.addEventListener('input', () => { if (search.value.trim()) find(search.value.trim()); else results.replaceChildren(); });
search.addEventListener('keydown', async (e) => {
  if (e.key === 'Enter') {
    const list = await find(search.value.trim());
    if (list.length === 1) { await command({ command: 'jump', student: list[0].key }); results.replaceChildren(); search.value = ''; search.blur(); }
    else if (!list.length) toast('名册上没有这个学生');
  } else if (e.key === 'Escape') { results.replaceChildren(); search.value = ''; search.blur(); }
});

document.addEventListener('keydown', (e) => {
  if (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT') return;
  if ((e.ctrlKey || e.metaKey) && e.key === 'z') { e.preventDefault(); act('undo'); return; }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const keys = { ' ': 'shutter', s: 'skip', r: 'retake', a: 'accept', u: 'undo', '[': 'back', ']': 'forward', n: 'add', x: 'nophoto', c: 'choose', m: 'shiftn', l: 'reload' };
  if (e.key === '/') { e.preventDefault(); search.focus(); return; }
  if (view && view.faces.length && (e.key === 'f' || e.key === 'F' || e.key === 'd' || e.key === 'D')) {
    e.preventDefault();
    const w = view.faces[0];
    command(e.key.toLowerCase() === 'f' ? w.fix : w.dismiss);
    return;
  }
  const name = keys[e.key.toLowerCase()];
  if (name) { e.preventDefault(); act(name); }
});

applyLang();
connect();
camera(); setInterval(camera, 5000);
office(); setInterval(office, 10000);
