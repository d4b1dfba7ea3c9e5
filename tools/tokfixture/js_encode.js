// Encodes every corpus record with the independent JS implementation (@lenml/tokenizers, a fork of
// transformers.js) and writes [u32 count][i32 ids...] per record. Prints its throughput.
// usage: node js_encode.js TOKENIZER_DIR CORPUS.bin OUT_IDS.bin  (OUT "-" = only measure)
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '../..');
const { TokenizerLoader } = require(path.join(root, 'node_modules/@lenml/tokenizers'));

const [dir, corpus, out] = process.argv.slice(2);
let t0 = process.hrtime.bigint();
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
});
const loadS = Number(process.hrtime.bigint() - t0) / 1e9;

const buf = fs.readFileSync(corpus);
const texts = [];
for (let o = 0; o < buf.length;) {
  const n = buf.readUInt32LE(o);
  texts.push(buf.toString('utf8', o + 4, o + 4 + n));
  o += 4 + n;
}
const bytes = buf.length - 4 * texts.length;
t0 = process.hrtime.bigint();
const all = texts.map((s) => tok.encode(s, { add_special_tokens: false }));
const encS = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`js: load ${loadS.toFixed(3)} s, encode ${bytes} bytes in ${encS.toFixed(3)} s = ${(bytes / encS / 1e6).toFixed(2)} MB/s`);
if (out && out !== '-') {
  let n = 0;
  for (const ids of all) n += 1 + ids.length;
  const o = Buffer.alloc(4 * n);
  let p = 0;
  for (const ids of all) {
    o.writeUInt32LE(ids.length, p); p += 4;
    for (const id of ids) { o.writeInt32LE(id, p); p += 4; }
  }
  fs.writeFileSync(out, o);
}
