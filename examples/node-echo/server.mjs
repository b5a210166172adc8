// A server-mode function in Node: answers POST / with what it was sent, and GET /health.
import http from 'node:http';

http
  .createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') return res.end('ok');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ echo: body === '' ? null : JSON.parse(body), taskId: req.headers['ferry-task-id'], attempt: Number(req.headers['ferry-attempt']) }));
    });
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
