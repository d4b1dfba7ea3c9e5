// Throughput of `dgemma serve` for 1, 2 and 4 concurrent clients: committed tokens/s and
// requests/s (wall time from the first request to the last answer, prefill included), with
// steps per canvas and mean batch occupancy next to them (GENERATION.md §7 honesty rules).
// usage: node bench/bench_server.js URL [API_KEY]
//   env: BENCH_CLIENTS="1 2 4"  BENCH_REQS=2 (per client)  BENCH_MAX_TOKENS=32  BENCH_STEPS=4
//        BENCH_PROMPT="Write a haiku about the sea."
'use strict';
const http = require('http');
const [url, key] = process.argv.slice(2);
if (!url) { console.error('usage: node bench/bench_server.js URL [API_KEY]'); process.exit(2); }
const u = new URL(url);
const env = (k, d) => process.env[k] || d;
const clients = env('BENCH_CLIENTS', '1 2 4').split(/\s+/).map(Number);
const reqs = +env('BENCH_REQS', 2), maxTok = +env('BENCH_MAX_TOKENS', 32), steps = +env('BENCH_STEPS', 4);
const prompt = env('BENCH_PROMPT', 'Write a haiku about the sea.');

function post(p, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: p, method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: 'Bearer ' + key } : {}) } }, res => {
      let d = '';
      res.on('data', c => d += c).on('end', () => res.statusCode === 200 ? resolve(JSON.parse(d)) : reject(new Error(res.statusCode + ' ' + d)));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
function metrics() {
  return new Promise((resolve, reject) => http.get({ host: u.hostname, port: u.port, path: '/metrics' }, res => {
    let d = '';
    res.on('data', c => d += c).on('end', () => {
      const g = n => +(new RegExp('^' + n + ' (\\S+)$', 'm').exec(d) || [0, 0])[1];
      resolve({ rows: g('dgemma_step_batch_rows_total'), steps: g('dgemma_step_seconds_count'), sec: g('dgemma_step_seconds_sum') });
    });
  }).on('error', reject));
}

(async () => {
  console.log(`prompt "${prompt}", max_tokens ${maxTok}, max_denoising_steps ${steps}, ${reqs} request(s) per client, prefill included`);
  console.log('clients | requests | committed tok | wall s | committed tok/s | req/s | steps/canvas | canvases/step | s/step');
  for (const c of clients) {
    const m0 = await metrics();
    const t0 = process.hrtime.bigint();
    let tokens = 0, canv = 0, st = 0;
    await Promise.all(Array.from({ length: c }, async (_, i) => {
      for (let k = 0; k < reqs; k++) {
        const r = await post('/v1/chat/completions', { messages: [{ role: 'user', content: prompt }], seed: 1000 * c + 10 * i + k,
          max_tokens: maxTok, max_denoising_steps: steps });
        tokens += r.usage.completion_tokens;
        canv += r.dgemma.canvases;
        st += r.dgemma.steps;
      }
    }));
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const m1 = await metrics();
    const ds = m1.steps - m0.steps;
    console.log([c, c * reqs, tokens, wall.toFixed(2), (tokens / wall).toFixed(2), (c * reqs / wall).toFixed(3),
      (st / canv).toFixed(2), ((m1.rows - m0.rows) / ds).toFixed(2), ((m1.sec - m0.sec) / ds).toFixed(3)].join(' | '));
  }
})().catch(e => { console.error('bench: ' + e.message); process.exit(1); });
