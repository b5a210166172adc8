// A server-mode function in Node that answers POST / with a PNG image, as a diffusion model would:
// a gradient of {width, height} pixels (64x64 by default), tinted by {seed}. Ferry keeps the bytes
// as the task's output asset and answers invoke and /output with a redirect to them.
import http from 'node:http';
import { crc32, deflateSync } from 'node:zlib';

function chunk(type, data) {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + typed.length + 4);
  out.writeUInt32BE(data.length, 0);
  typed.copy(out, 4);
  out.writeUInt32BE(crc32(typed), 4 + typed.length);
  return out;
}

function png(width, height, seed) {
  const row = width * 3 + 1;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * row + 1 + x * 3;
      raw[at] = (x * 255) / Math.max(1, width - 1);
      raw[at + 1] = (y * 255) / Math.max(1, height - 1);
      raw[at + 2] = (seed * 37) % 256;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

http
  .createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') return res.end('ok');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const input = (body && JSON.parse(body)) || {};
      const size = (v) => Math.min(2048, Math.max(1, Number(v) || 64));
      res.setHeader('content-type', 'image/png');
      res.end(png(size(input.width), size(input.height), Number(input.seed) || 0));
    });
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
