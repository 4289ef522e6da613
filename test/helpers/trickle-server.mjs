// A replica that accepts every request and answers 200 with a body it never finishes: one byte every 300 ms, so no
// idle timeout ever fires. Listens on PORT (127.0.0.1).
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const t = setInterval(() => res.write('.'), 300);
  res.on('close', () => clearInterval(t));
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
