/**
 * The scripts the runtime contract runs as its servers, inits and jobs: Node.js (CommonJS) source
 * that each runtime turns into a command with its fixtures' `node(script)`. They talk back to the
 * suite through files in CONTRACT_DIR.
 */

/** Shared preamble of every script: `dir` (the shared directory) and `put` (an atomic write). */
const PRELUDE = `
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.CONTRACT_DIR;
function put(name, text) {
  const p = path.join(dir, name);
  fs.writeFileSync(p + '.tmp', text);
  fs.renameSync(p + '.tmp', p);
}
function readStdin(done) {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}
`;

/**
 * A server whose behaviour SERVER_MODE picks: 'ok' (healthy after HEALTHY_AFTER_MS), 'exit'
 * (exits with 3 at once), 'unhealthy' (health answers 503 forever), 'stubborn' (ignores SIGTERM).
 * The inference path echoes what it got; the input can ask for a status, a text answer, a hang or a crash.
 */
export const SERVER = `${PRELUDE}
const http = require('node:http');
put('server.pid', String(process.pid));
const mode = process.env.SERVER_MODE || 'ok';
if (mode === 'exit') { process.stderr.write('server gives up\\n'); process.exit(3); }
if (mode === 'stubborn') process.on('SIGTERM', () => {});
const initSeen = fs.existsSync(path.join(dir, 'init.log'));
const started = Date.now();
const healthyAfter = Number(process.env.HEALTHY_AFTER_MS || 0);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/healthz') {
      const ok = mode !== 'unhealthy' && Date.now() - started >= healthyAfter;
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'not yet');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/infer') { res.writeHead(404).end(); return; }
    const body = Buffer.concat(chunks).toString('utf8');
    const input = JSON.parse(body);
    if (input && input.crash) process.exit(9);
    if (input && input.hang) { put('hang.received', '1'); return; }
    if (input && input.status) { res.writeHead(input.status, { 'content-type': 'text/plain' }).end('bad input'); return; }
    if (input && input.text) { res.writeHead(200, { 'content-type': 'text/plain' }).end(input.text); return; }
    const h = req.headers;
    if (h['ferry-progress-file']) fs.writeFileSync(h['ferry-progress-file'], JSON.stringify({ progress: 50, message: 'half' }));
    if (h['ferry-output-dir']) fs.writeFileSync(path.join(h['ferry-output-dir'], 'from-server.txt'), 'made by the server');
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({
      method: req.method,
      url: req.url,
      body,
      initSeen,
      healthy: Date.now() - started >= healthyAfter,
      headers: {
        taskId: h['ferry-task-id'],
        attempt: h['ferry-attempt'],
        progressFile: h['ferry-progress-file'],
        outputDir: h['ferry-output-dir'],
        contentType: h['content-type'],
      },
      env: { PORT: process.env.PORT, CUDA_VISIBLE_DEVICES: process.env.CUDA_VISIBLE_DEVICES },
    }));
  });
});
server.listen(Number(process.env.PORT));
`;

/** Appends one line per run to init.log, then exits with INIT_EXIT. */
export const INIT = `${PRELUDE}
fs.appendFileSync(path.join(dir, 'init.log'), 'ran ' + process.pid + '\\n');
const code = Number(process.env.INIT_EXIT || 0);
if (code !== 0) process.stderr.write('init broke\\n');
process.exit(code);
`;

/** Reports everything the job contract hands it, through the channels the contract names. */
export const JOB_ECHO = `${PRELUDE}
readStdin((stdin) => {
  const e = process.env;
  fs.writeFileSync(e.FERRY_PROGRESS_FILE, JSON.stringify({ progress: 30, message: 'a third' }));
  fs.writeFileSync(path.join(e.FERRY_OUTPUT_DIR, 'artifact.txt'), 'made by the job');
  const env = {};
  for (const k of ['FERRY_TASK_ID', 'FERRY_ATTEMPT', 'FERRY_INPUT_FILE', 'FERRY_OUTPUT_FILE', 'FERRY_OUTPUT_DIR', 'FERRY_PROGRESS_FILE', 'CUDA_VISIBLE_DEVICES', 'FERRY_TOKEN']) env[k] = e[k];
  fs.writeFileSync(e.FERRY_OUTPUT_FILE, JSON.stringify({ stdin, fileInput: fs.readFileSync(e.FERRY_INPUT_FILE, 'utf8'), argv: process.argv, env }));
});
`;

/** Writes input.write (if any) to the output file. */
export const JOB_WRITE = `${PRELUDE}
readStdin((stdin) => {
  const input = JSON.parse(stdin);
  if (input.write !== undefined) fs.writeFileSync(process.env.FERRY_OUTPUT_FILE, input.write);
});
`;

/** Prints input.lines on stdout, with a trailing newline unless input.noNewline. */
export const JOB_PRINT = `${PRELUDE}
readStdin((stdin) => {
  const input = JSON.parse(stdin);
  process.stdout.write('loading\\n' + input.lines.join('\\n') + (input.noNewline ? '' : '\\n'));
});
`;

/** Writes a line to stdout and one to stderr, then exits with 7. */
export const JOB_FAIL = `${PRELUDE}
fs.writeSync(1, 'to stdout\\n');
fs.writeSync(2, 'to stderr\\n');
process.exit(7);
`;

/** Starts a child in its own group; with IGNORE_TERM both ignore SIGTERM. Each writes its pid once ready. */
const CHILD = `
const fs = require('node:fs');
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => {});
fs.writeFileSync(process.argv[1] + '.tmp', String(process.pid));
fs.renameSync(process.argv[1] + '.tmp', process.argv[1]);
setInterval(() => {}, 1000);
`;

/** Starts a CHILD, writes its own pid to job.pid and runs until stopped; IGNORE_TERM as for CHILD. */
export const JOB_WITH_CHILD = `${PRELUDE}
const { spawn } = require('node:child_process');
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => {});
spawn(process.execPath, ['-e', ${JSON.stringify(CHILD)}, path.join(dir, 'child.pid')], { stdio: 'ignore' });
put('job.pid', String(process.pid));
setInterval(() => {}, 1000);
`;

/** Exits at once, leaving a child behind that still holds its stdout and stderr. */
export const JOB_LEAVES_CHILD = `${PRELUDE}
const { spawn } = require('node:child_process');
spawn(process.execPath, ['-e', ${JSON.stringify(CHILD)}, path.join(dir, 'child.pid')], { stdio: 'inherit' });
const wait = setInterval(() => {
  if (!fs.existsSync(path.join(dir, 'child.pid'))) return;
  clearInterval(wait);
  fs.writeFileSync(process.env.FERRY_OUTPUT_FILE, '"finished"');
  process.exit(0);
}, 10);
`;

/** Leaves a marker, then takes its time. */
export const JOB_MARK_AND_WAIT = `${PRELUDE}
put('ran', '1');
setTimeout(() => {}, 5000);
`;
