// The baseline: a bare node:http server that reads the whole body and answers 200.
import * as Http from "node:http"

const port = Number(process.env.PORT ?? 0)
const server = Http.createServer((req, res) => {
  const chunks = []
  req.on("data", (c) => chunks.push(c))
  req.on("end", () => {
    const body = Buffer.concat(chunks)
    res.writeHead(200, { "content-type": "application/json" }).end(`{"accepted":1,"bytes":${body.length}}`)
  })
})
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${server.address().port}\n`))
process.on("SIGTERM", () => server.close(() => process.exit(0)))
