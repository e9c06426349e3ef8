#!/usr/bin/env node
// The official TypeScript Wechaty client's side of the side-by-side benchmark (BENCHMARKS.md).
// One task per process, so every run starts cold:
//   node client.mjs member_list ROOM-ID | find_all | events COUNT CONTROL-HOST:PORT
// Connects with WECHATY_PUPPET_SERVICE_ENDPOINT / _TOKEN, plaintext; prints one JSON line.
for (const level of ['log', 'info', 'debug', 'trace']) {
  console[level] = (...args) => console.error(...args)
}
process.env.WECHATY_LOG = process.env.WECHATY_LOG || 'silent'

const { WechatyBuilder } = await import('wechaty')

const [task, arg1, arg2] = process.argv.slice(2)
const bot = WechatyBuilder.build({
  puppet: 'wechaty-puppet-service',
  puppetOptions: {
    endpoint: process.env.WECHATY_PUPPET_SERVICE_ENDPOINT,
    token: process.env.WECHATY_PUPPET_SERVICE_TOKEN,
    tls: { disable: true },
  },
})

const print = (fields) => process.stdout.write(JSON.stringify({ client: 'typescript', task, ...fields }) + '\n')

async function post (address, path, body) {
  const response = await fetch(`http://${address}${path}`, { method: 'POST', body: JSON.stringify(body) })
  return response.json()
}

// The official client treats the `dirty` RoomMember events that follow room joins as contact
// ids and emits an error for each (a bug of wechaty 1.20); counted, not fatal.
let errors = 0
bot.on('error', () => { errors += 1 })

let received = 0
let wanted = Infinity
let done
const allReceived = new Promise(resolve => { done = resolve })
bot.on('room-join', () => {
  received += 1
  if (received >= wanted) { done() }
})

await bot.start()
await bot.ready()

if (task === 'member_list') {
  const room = bot.Room.load(arg1)
  const started = performance.now()
  const members = await room.memberAll()
  print({ ms: performance.now() - started, count: members.length })
} else if (task === 'find_all') {
  const started = performance.now()
  const rooms = await bot.Room.findAll()
  print({ ms: performance.now() - started, count: rooms.length })
} else if (task === 'events') {
  wanted = Number(arg1)
  await new Promise(resolve => setTimeout(resolve, 500))
  const started = performance.now()
  const server = await post(arg2, '/flood', { count: wanted })
  await Promise.race([allReceived, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received} events`)), 120_000))])
  print({ ms: performance.now() - started, count: received, server_ms: server.ms, cpu_ms: (() => { const { user, system } = process.cpuUsage(); return (user + system) / 1000 })(), errors })
} else {
  throw new Error(`unknown task ${task}`)
}
await bot.stop().catch(() => {})
process.exit(0)
