// Starts fox-wamp (a WAMP router on Node, pinned in package-lock.json) for bench/run --url:
//   node bench/peers/fox-wamp.js [PORT]      (PORT 0 or absent = a free port)
// Serves ws://127.0.0.1:PORT/ws; realms (realm1) are created on first HELLO. fox-wamp speaks
// wamp.2.json only. Prints "listening on ws://127.0.0.1:PORT/ws" on stderr, like junction.
'use strict'
const http = require('http')
const FoxRouter = require('fox-wamp')

const port = parseInt(process.argv[2] || '0', 10)
const server = http.createServer((req, res) => {
  res.writeHead(404)
  res.end()
})
const router = new FoxRouter()
router.listenWAMP({ server, path: '/ws' })
server.listen(port, '127.0.0.1', () => {
  process.stderr.write(`listening on ws://127.0.0.1:${server.address().port}/ws\n`)
})
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0))
