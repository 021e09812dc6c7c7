// hello-world: a tiny HTTP server, the service the pipeline ships.
const http = require("http");

const port = Number(process.env.PORT || 8080);
const version = process.env.VERSION || "dev";

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("ok\n");
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ message: "Hello, world!", version }) + "\n");
});

server.listen(port, () => console.log(`hello-world ${version} listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
