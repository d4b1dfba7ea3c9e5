// Derives the Gemma 4 tokenizer table from Google's Gemma 3 tokenizer.json (TOKENIZER.md §9):
// rename 18 pieces, keep exactly the 24 Gemma 4 specials as added tokens.
// usage: node derive.js GEMMA3_TOKENIZER_JSON OUT_DIR
'use strict';
const fs = require('fs');
const [src, outDir] = process.argv.slice(2);
const j = JSON.parse(fs.readFileSync(src, 'utf8'));

const rename = {
  46: '<|tool>', 47: '<tool|>', 48: '<|tool_call>', 49: '<tool_call|>', 50: '<|tool_response>',
  51: '<tool_response|>', 52: '<|"|>', 98: '<|think|>', 100: '<|channel>', 101: '<channel|>',
  105: '<|turn>', 106: '<turn|>', 255999: '<|image>', 256000: '<|audio>', 258880: '<|image|>',
  258881: '<|audio|>', 258882: '<image|>', 258883: '<audio|>', 258884: '<|video|>',
};
const specials = [0, 1, 2, 3, 4, 46, 47, 48, 49, 50, 51, 52, 98, 100, 101, 105, 106, 255999, 256000,
  258880, 258881, 258882, 258883, 258884];

const oldVocab = j.model.vocab;
const byId = [];
for (const [piece, id] of Object.entries(oldVocab)) byId[id] = piece;
const oldNames = new Set(Object.keys(rename).map((id) => byId[id]));
for (const [a, b] of j.model.merges.map((m) => (Array.isArray(m) ? m : m.split(' ', 2))))
  if (oldNames.has(a) || oldNames.has(b)) throw new Error(`a merge uses renamed piece ${a} ${b}`);
const vocab = Object.create(null);
for (let id = 0; id < byId.length; id++) {
  const p = rename[id] !== undefined ? rename[id] : byId[id];
  if (p === undefined) throw new Error(`gap at id ${id}`);
  if (vocab[p] !== undefined) throw new Error(`duplicate piece ${p}`);
  vocab[p] = id;
}
j.model.vocab = vocab;
j.added_tokens = specials.map((id) => ({
  id, content: byId[id] && rename[id] === undefined ? byId[id] : rename[id],
  single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
}));
if (j.added_tokens.length !== 24) throw new Error('expected 24 specials');
// Gemma 4 -it: no BOS on plain encode (TOKENIZER.md §2, unconfirmed).
j.post_processor = null;
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(`${outDir}/tokenizer.json`, JSON.stringify(j, null, 2));
const cfg = {
  add_bos_token: false, add_eos_token: false, bos_token: '<bos>', eos_token: '<eos>',
  pad_token: '<pad>', unk_token: '<unk>', mask_token: '<mask>', clean_up_tokenization_spaces: false,
  spaces_between_special_tokens: false, tokenizer_class: 'GemmaTokenizer', model_max_length: 262144,
};
fs.writeFileSync(`${outDir}/tokenizer_config.json`, JSON.stringify(cfg, null, 2));
console.log(`wrote ${outDir}/tokenizer.json (${fs.statSync(`${outDir}/tokenizer.json`).size} bytes)`);
