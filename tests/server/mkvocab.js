// Test fixture: tiny-a with the full Gemma 4 vocabulary (262144), so that chat prompts rendered
// by the real tokenizer fit. Only the tied embedding depends on the vocabulary: rows 0..383 are
// tiny-a's, the others deterministic pseudo-random bf16. usage: node mkvocab.js SRC_DIR OUT_DIR
'use strict';
const fs = require('fs'), path = require('path');
const [src, out] = process.argv.slice(2);
const V = 262144;
const buf = fs.readFileSync(path.join(src, 'model.safetensors'));
const hlen = Number(buf.readBigUInt64LE(0));
const hdr = JSON.parse(buf.subarray(8, 8 + hlen).toString());
const body = buf.subarray(8 + hlen);
const names = Object.keys(hdr).filter(k => k !== '__metadata__');
const parts = [], newHdr = {};
if (hdr.__metadata__) newHdr.__metadata__ = hdr.__metadata__;
let off = 0;
for (const k of names) {
  const t = hdr[k];
  let data = body.subarray(t.data_offsets[0], t.data_offsets[1]);
  let shape = t.shape;
  if (k.endsWith('embed_tokens.weight')) {
    const [v0, H] = shape;
    const big = Buffer.alloc(V * H * 2);
    data.copy(big, 0);
    let s = 0x9E3779B9 >>> 0;
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);   /* one view: no allocation per value */
    for (let i = v0 * H; i < V * H; i++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      f[0] = ((s / 4294967296) - 0.5) * 0.04;
      big.writeUInt16LE(u[0] >>> 16, i * 2);   /* bf16: the float's top half (truncated) */
    }
    data = big;
    shape = [V, H];
  }
  newHdr[k] = { dtype: t.dtype, shape, data_offsets: [off, off + data.length] };
  parts.push(data);
  off += data.length;
}
let h = Buffer.from(JSON.stringify(newHdr));
const pad = (8 - (h.length % 8)) % 8;
h = Buffer.concat([h, Buffer.alloc(pad, 0x20)]);
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(h.length));
// Each file is written under a temporary name and renamed, the model last: chat.sh and server.sh
// may both make OUT_DIR at once (tests/run.sh runs tests in parallel) and test only for
// model.safetensors, so a reader sees complete files, never one being rewritten.
fs.mkdirSync(out, { recursive: true });
const put = (name, data) => {
  const tmp = path.join(out, `${name}.tmp${process.pid}`);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, path.join(out, name));
};
const cfg = JSON.parse(fs.readFileSync(path.join(src, 'config.json')));
cfg.text_config.vocab_size = V;
cfg.boi_token_id = 255999; cfg.eoi_token_id = 258882; cfg.image_token_id = 258880;
put('config.json', JSON.stringify(cfg, null, 2));
put('generation_config.json', fs.readFileSync(path.join(src, 'generation_config.json')));
put('model.safetensors', Buffer.concat([len, h, ...parts]));
console.log(`mkvocab: ${out} (vocab ${V})`);
