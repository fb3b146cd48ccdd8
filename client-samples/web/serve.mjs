// A tiny static file server for this folder (index.html, app.js and node_modules/): no
// dependencies. Any static server rooted here works as well.
//   node serve.mjs [port]   (default 8090, or PORT; listens on 127.0.0.1, or HOST)
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const port = Number(process.argv[2] ?? process.env.PORT ?? 8090);
const host = process.env.HOST ?? "127.0.0.1";
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".map": "application/json", ".css": "text/css" };

createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const file = normalize(join(root, path === "/" ? "index.html" : path));
  let ok = file.startsWith(root) && !file.slice(root.length).split(sep).includes("..");
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
