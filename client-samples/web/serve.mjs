// A tiny static file server for this folder (index.html, app.js, style.css, node_modules/) and the
// shared client module (../js at /js/): no dependencies. Not needed in Development, where the
// server itself serves the sample (./scripts/run.sh); this is for a page apart from the server.
//   node serve.mjs [port]   (default 8090, or PORT; listens on 127.0.0.1, or HOST)
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const shared = fileURLToPath(new URL("../js/", import.meta.url));
const port = Number(process.argv[2] ?? process.env.PORT ?? 8090);
const host = process.env.HOST ?? "127.0.0.1";
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".map": "application/json", ".css": "text/css" };

createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const [base, rest] = path.startsWith("/js/") ? [shared, path.slice(4)] : [root, path === "/" ? "index.html" : path];
  const file = normalize(join(base, rest));
  let ok = file.startsWith(base) && !file.slice(base.length).split(sep).includes("..");
  try {
    ok &&= statSync(file).isFile();
  } catch {
    ok = false;
  }
  if (!ok || !(extname(file) in types)) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  res.writeHead(200, { "content-type": types[extname(file)], "cache-control": "no-cache" });
  createReadStream(file).pipe(res);
}).listen(port, host, () => console.log(`Realtime web sample on http://${host}:${port}/`));
