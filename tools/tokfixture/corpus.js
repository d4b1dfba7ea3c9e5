// Builds the tokenizer comparison corpus deterministically (seeded PRNG, sorted file lists).
// Output: records of [u32 LE byte length][UTF-8 bytes]. All records are valid UTF-8, because the
// JS reference (like HF) takes strings; invalid bytes are covered by the C unit tests.
// usage: node corpus.js OUT.bin [MIN_BYTES]
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const out = process.argv[2];
const minBytes = Number(process.argv[3] || 3 * 1024 * 1024);
const root = path.resolve(__dirname, '../..');

let seed = 0x9e3779b9;
function rnd() { // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const ri = (n) => Math.floor(rnd() * n);
const pick = (a) => a[ri(a.length)];

const records = [];
let total = 0;
function add(s) {
  if (!s.length) return;
  const b = Buffer.from(s, 'utf8');
  records.push(b);
  total += b.length;
}
// Files can be latin-1 or binary: keep only those that are valid UTF-8.
function addFile(p, cap) {
  let b;
  try { b = fs.readFileSync(p); } catch { return 0; }
  if (p.endsWith('.gz')) { try { b = zlib.gunzipSync(b); } catch { return 0; } }
  const s = b.toString('utf8');
  if (Buffer.compare(Buffer.from(s, 'utf8'), b) !== 0) return 0;
  const t = s.slice(0, cap);
  add(t);
  return Buffer.byteLength(t);
}
function listDir(d, filter) {
  try { return fs.readdirSync(d).sort().filter(filter || (() => true)).map((f) => path.join(d, f)); } catch { return []; }
}

// 1. Text files found on a Debian machine, and this repository's sources.
let budget = 700 * 1024;
for (const f of listDir('/usr/share/common-licenses')) { if (budget <= 0) break; budget -= addFile(f, 60000); }
budget = 500 * 1024;
for (const d of listDir('/usr/share/doc')) { if (budget <= 0) break; budget -= addFile(path.join(d, 'copyright'), 30000); }
budget = 400 * 1024;
for (const f of listDir('/usr/share/man/man1', (f) => f.endsWith('.gz'))) { if (budget <= 0) break; budget -= addFile(f, 40000); }
function walk(d, acc) {
  for (const f of listDir(d)) {
    const st = fs.statSync(f);
    if (st.isDirectory()) walk(f, acc);
    else if (/\.(c|h|sh|js|md|json|py)$|Makefile$/.test(f) && st.size < 200000) acc.push(f);
  }
  return acc;
}
for (const dir of ['src', 'include', 'tests', 'tools']) for (const f of walk(path.join(root, dir), [])) addFile(f, 100000);

// 2. Multilingual prose.
const sentences = [
  'The quick brown fox jumps over the lazy dog.', 'Why is the sky blue? Because of Rayleigh scattering.',
  'Le cœur a ses raisons que la raison ne connaît point.', 'Über den Wolken muss die Freiheit wohl grenzenlos sein.',
  'El veloz murciélago hindú comía feliz cardillo y kiwi.', 'A ligeira raposa marrom saltou sobre o cão preguiçoso — não é?',
  'Съешь же ещё этих мягких французских булок, да выпей чаю.', 'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.',
  'דג סקרן שט בים מאוכזב ולפתע מצא חברה.', 'نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر ومغلف بجلد أزرق.',
  'ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम।',
  'আমি বাংলায় গান গাই।', 'தமிழ் ஒரு செம்மொழி ஆகும்.', 'ภาษาไทยเป็นภาษาที่มีวรรณยุกต์', 'Tiếng Việt có dấu thanh điệu rất phong phú.',
  '日本語のテキストを正しく分割できるか確認します。', '我能吞下玻璃而不伤身体。', '天地玄黃，宇宙洪荒。日月盈昃，辰宿列張。',
  '다람쥐 헌 쳇바퀴에 타고파.', 'Pchnąć w tę łódź jeża lub ośm skrzyń fig.', 'Příliš žluťoučký kůň úpěl ďábelské ódy.',
  'Árvíztűrő tükörfúrógép.', 'Pijamalı hasta yağız şoföre çabucak güvendi.', 'Ça fait déjà vu, n’est-ce pas ?',
  'Γαζέες καὶ μυρτιὲς δὲν θὰ βρῶ πιὰ στὸ χρυσαφὶ ξέφωτο.', 'Kæmi ný öxi hér, ykist þjófum nú bæði víl og ádrepa.',
  'Jeżu klątw, spłódź Finom część gry hańb!', 'Ѕмарагдна јаглика.', 'ሰማይ አይታረስ ንጉሥ አይከሰስ።', 'ᚠᛇᚻ᛫ᛒᛦᚦ᛫ᚠᚱᚩᚠᚢᚱ᛫ᚠᛁᚱᚪ᛫ᚷᛖᚻᚹᛦᛚᚳᚢᛗ',
  'Hello world! Café déjà vu — 123 😊', 'Ünïcödé façade', 'don\'t stop; it\'s 3.14159 or 2,718.28…',
  'მინდა ვიმღერო', 'Հայերեն լեզու', 'ꦧꦱꦗꦮ', 'ⵜⴰⵎⴰⵣⵉⵖⵜ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 ∀x∈ℝ: x²≥0 ⇒ √(x²)=|x|',
];
const emoji = ['😊', '🤖', '🚀', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇵🇹', '🇯🇵', '❤️', '✨', '🧑🏿‍💻', '🫠', '☕', '#️⃣', '🐈‍⬛', '👩🏻‍🦰'];
for (let k = 0; k < 1500; k++) {
  let s = '';
  const n = 1 + ri(12);
  for (let i = 0; i < n; i++) {
    s += pick(sentences);
    const r = rnd();
    s += r < 0.6 ? ' ' : r < 0.8 ? '\n' : r < 0.9 ? pick(emoji) + ' ' : '\n\n';
  }
  add(s);
}

// 3. Random code points from many blocks (byte fallback for unknown ones), no surrogates.
const blocks = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x6ff], [0x900, 0x97f],
  [0xe00, 0xe7f], [0x1100, 0x11ff], [0x1e00, 0x1eff], [0x2000, 0x206f], [0x2190, 0x23ff], [0x2500, 0x27bf],
  [0x3000, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xe000, 0xe0ff], [0xfb00, 0xfffd], [0x10000, 0x1007f],
  [0x1d400, 0x1d7ff], [0x1f300, 0x1faff], [0x20000, 0x2a6df], [0xe0000, 0xe007f], [0xf0000, 0xf00ff], [0x10fff0, 0x10ffff]];
for (let k = 0; k < 600; k++) {
  const b = pick(blocks);
  let s = '';
  const n = 1 + ri(300);
  for (let i = 0; i < n; i++) {
    const bb = rnd() < 0.8 ? b : pick(blocks);
    s += String.fromCodePoint(bb[0] + ri(bb[1] - bb[0] + 1));
    if (rnd() < 0.15) s += ' ';
  }
  add(s);
}

// 4. Whitespace runs, control characters, literal U+2581, HTML-ish "> <" (the ">▁</" piece).
const ws = [' ', '\n', '\t', '\r', '\r\n', '\u2581', '\u00a0', '\u3000', '\v', '\f', '\u2028', '\u200b'];
const words = ['a', 'if', 'the', 'return', '<div>', '</div>', '<b>', 'x', 'foo_bar', '42', '{', '}', '> <', '>', '<', '</', 'é'];
for (let k = 0; k < 800; k++) {
  let s = '';
  const n = 1 + ri(80);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.35) s += pick(ws).repeat(1 + ri(r < 0.05 ? 200 : 40));
    else if (r < 0.45) s += String.fromCharCode(ri(32));
    else if (r < 0.5) s += String.fromCharCode(0x7f + ri(33));
    else s += pick(words);
  }
  add(s);
}

// 5. Special-token strings, whole, broken and nested, and Gemma 3's added strings (plain text here).
const specials = ['<pad>', '<eos>', '<bos>', '<unk>', '<mask>', '<|tool>', '<tool|>', '<|tool_call>', '<tool_call|>',
  '<|tool_response>', '<tool_response|>', '<|"|>', '<|think|>', '<|channel>', '<channel|>', '<|turn>', '<turn|>',
  '<|image>', '<|audio>', '<|image|>', '<|audio|>', '<image|>', '<audio|>', '<|video|>'];
const near = ['<start_of_turn>', '<end_of_turn>', '<unused0>', '<unused99>', '<table>', '</s>', '<start_of_image>',
  '<image_soft_token>', '[multimodal]', '<|turn', 'turn|>', '<|', '|>', '<<', '<|"', '<|tool_', '<tool|', '<', '|'];
for (let k = 0; k < 800; k++) {
  let s = '';
  const n = 1 + ri(40);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    s += r < 0.35 ? pick(specials) : r < 0.6 ? pick(near) : r < 0.8 ? pick(sentences) : pick(ws);
  }
  add(s);
}
add('<bos><|turn>system\n<|think|>\nYou are helpful.<turn|>\n<|turn>user\nHi <turn|> there<turn|>\n<|turn>model\n');

// 6. Long words (the heap path): runs without any space or newline.
add('a'.repeat(50000));
add('ab'.repeat(30000));
add('\u2581'.repeat(5000));
add(' '.repeat(10000) + 'x' + '\n'.repeat(10000) + '\t'.repeat(3000));
add('日本語のテキスト'.repeat(3000));
add(Array.from({ length: 20000 }, () => pick(emoji)).join(''));
add(Array.from({ length: 40000 }, () => String.fromCharCode(0x21 + ri(94))).join(''));

// 7. Pad with more prose/code mixtures until the size target is met.
while (total < minBytes) {
  let s = '';
  const n = 20 + ri(200);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    s += r < 0.5 ? pick(sentences) : r < 0.6 ? pick(words) : r < 0.7 ? pick(specials) : r < 0.8 ? pick(emoji) : '';
    s += pick([' ', ' ', ' ', '\n', '  ', '\t', '\n\n', ', ', '. ']);
  }
  add(s);
}

const parts = [];
for (const b of records) {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(b.length);
  parts.push(h, b);
}
fs.writeFileSync(out, Buffer.concat(parts));
console.log(`corpus: ${records.length} records, ${total} bytes -> ${out}`);
