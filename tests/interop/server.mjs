#!/usr/bin/env node
// The official Wechaty puppet service for the interop tests: wechaty-puppet-service's
// PuppetServer serving wechaty-puppet-mock with a fixed world, on 127.0.0.1.
//
// Settings (environment): PORT (0 = a free port), TOKEN, TLS=1 (the package's built-in
// certificate: X.509 v1, CN=insecure), HEARTBEAT_SECONDS (0 = no periodic heartbeat),
// WORLD=bench (add the Rust benchmark world: contact0… "Member i" alias "Alias i", 1,000 rooms
// room0@chatroom… "Bench room i" of 20 members, big500@chatroom and big5000@chatroom whose
// members all have room aliases "Nick i"; see src/bench/world.rs).
//
// stdout, nothing else:   listening on 127.0.0.1:<port>
//                         control on 127.0.0.1:<port>
// The control port is plain HTTP for the tests (JSON in, JSON out):
//   POST /say   {"from": id, "to": id | "room": id, "text": s, "mentions": [id]}
//                                                                 someone sends a text (in a
//                                                                 room, @-mentioning the ids);
//                                                                 answers {ok, id, timestamp}
//   POST /location {"from", "to" | "room", "name", "address", "latitude", "longitude",
//                   "accuracy"}                                   someone shares a place;
//                                                                 answers {ok, id}
//   POST /emit  {"name": event name, "payload": {...}}            the puppet emits an event
//   POST /invite {"id", "inviterId", "roomId", "topic", "memberIdList"}  an invitation arrives
//   POST /friendship {"id", "contactId", "hello", "type" (2 = receive), "scene" (15 = phone)}
//                                                                 a friend request arrives
//   POST /flood {"count": n, "rooms": r}  n room-join events over r bench rooms, as fast as
//                                         the server takes them; answers {sent, ms}
//   GET  /calls                                                   puppet calls seen so far
//   POST /calls/clear
// SIGTERM / SIGINT: clean exit.
import http from 'node:http'
import net from 'node:net'

// wechaty's logger writes info lines to stdout; keep stdout for the two lines above.
for (const level of ['log', 'info', 'debug', 'trace']) {
  console[level] = (...args) => console.error(...args)
}

const HOST = '127.0.0.1'
const TOKEN = process.env.TOKEN || 'insecure_00000000-0000-0000-0000-000000000000'
const TLS = /^(1|true)$/i.test(process.env.TLS || '')
const HEARTBEAT_SECONDS = Number(process.env.HEARTBEAT_SECONDS || 0)
const BENCH_WORLD = process.env.WORLD === 'bench'
let port = Number(process.env.PORT || 0)

// PuppetServer reads this variable before its options.
if (TLS) {
  delete process.env.WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER
} else {
  process.env.WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER = 'true'
}

function freePort () {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.on('error', reject)
    probe.listen(0, HOST, () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

// ---- the world -------------------------------------------------------------------------------
const avatar = id => `https://example.invalid/avatar/${id}.jpg`
const person = (id, name, extra = {}) => ({
  id, name, gender: 0, type: 1, avatar: avatar(id), address: '', alias: '', city: '',
  province: '', signature: '', friend: true, star: false, weixin: `${id}_wx`, phone: [],
  corporation: '', title: '', description: '', coworker: false, ...extra,
})

const BIG_ROOM_SIZE = 500
const bigRoomMembers = Array.from({ length: BIG_ROOM_SIZE - 1 }, (_, i) => `m${String(i).padStart(3, '0')}`)

const CONTACTS = [
  person('self', 'Interop Bot', { gender: 1, friend: false }),
  person('ann', 'Ann', { gender: 2, alias: 'Ann (alias)', city: 'Beijing', star: true, phone: ['+86-10-5550-0100'] }),
  person('ben', 'Ben', { gender: 1 }),
  person('cora', 'Cora', { gender: 2 }),
  person('dan', 'Dan', { gender: 1, friend: false }),
  ...bigRoomMembers.map(id => person(id, `Member ${id}`)),
]

const ROOMS = [
  { id: 'r1@chatroom', topic: 'Team Room', avatar: avatar('r1'), handle: '', ownerId: 'ann', adminIdList: ['ann'], memberIdList: ['self', 'ann', 'ben', 'cora'] },
  { id: 'r2@chatroom', topic: 'Weekend', avatar: avatar('r2'), handle: '', ownerId: 'self', adminIdList: ['self'], memberIdList: ['self', 'ben', 'dan'] },
  { id: 'r500@chatroom', topic: 'Big Room', avatar: avatar('r500'), handle: '', ownerId: 'self', adminIdList: ['self'], memberIdList: ['self', ...bigRoomMembers] },
]

// Room aliases and inviters: the stock mock puppet keeps neither, so the subclass adds them.
const MEMBER_EXTRA = {
  'r1@chatroom': { ann: { roomAlias: 'Ali (room nick)' }, cora: { inviterId: 'ann' } },
  'r2@chatroom': { dan: { roomAlias: 'Danny', inviterId: 'self' } },
  'r500@chatroom': Object.fromEntries(bigRoomMembers.filter((_, i) => i % 10 === 0).map(id => [id, { roomAlias: `Nick ${id}` }])),
}

// The benchmark world, the same as the Rust mock's (src/bench/world.rs).
const BENCH_ROOMS = 1000
if (BENCH_WORLD) {
  const contact = i => `contact${i}`
  for (let i = 0; i < 5000; i++) { CONTACTS.push(person(contact(i), `Member ${i}`, { alias: `Alias ${i}` })) }
  for (let i = 0; i < BENCH_ROOMS; i++) {
    const members = Array.from({ length: 20 }, (_, k) => contact((i * 20 + k) % 5000))
    ROOMS.push({ id: `room${i}@chatroom`, topic: `Bench room ${i}`, avatar: '', handle: '', ownerId: 'self', adminIdList: ['self'], memberIdList: ['self', ...members] })
  }
  for (const size of [500, 5000]) {
    const members = Array.from({ length: size }, (_, i) => contact(i))
    const id = `big${size}@chatroom`
    ROOMS.push({ id, topic: `Big room ${size}`, avatar: '', handle: '', ownerId: contact(0), adminIdList: [], memberIdList: members })
    MEMBER_EXTRA[id] = Object.fromEntries(members.map((member, i) => [member, { roomAlias: `Nick ${i}` }]))
  }
}

const { PuppetServer } = await import('wechaty-puppet-service')
const { PuppetMock, mock } = await import('wechaty-puppet-mock')
const PUPPET = await import('wechaty-puppet')

// Puppet calls the tests can inspect, in order.
const calls = []
const RECORDED = [
  'messageSendText', 'messageSendContact', 'messageSendFile', 'messageSendUrl', 'messageSendMiniProgram',
  'roomAdd', 'roomDel', 'roomQuit', 'roomTopic', 'roomAnnounce', 'roomCreate', 'roomQRCode',
  'roomInvitationAccept', 'dirtyPayload', 'ding', 'logout',
  'contactAlias', 'contactPhone', 'friendshipAccept', 'friendshipSearchPhone',
  'tagContactAdd', 'tagContactRemove', 'tagContactDelete', 'tagContactList',
  'messageRecall', 'messageForward', 'messageSendLocation', 'messageLocation',
]

// Where the stock PuppetMock does not act like a real puppet, this subclass does:
// - room aliases and inviters of members (the stock one drops them);
// - a topic set sticks and streams room-topic then dirty (the stock one only dirties);
// - add/del change the member list and stream room-join/room-leave (the stock ones do nothing);
// - announcements are kept per room (the stock one answers a fixed text);
// - invitations exist (made through the control port) and accepting one joins the room;
// - create makes a real room (the stock one returns a fake id) and quit leaves it;
// - contacts, friendships and tags: see each method below (the stock ones are no-ops, or
//   answer fixed values);
// - messages: recall, forward and locations, see each method below (the stock ones are
//   no-ops, or answer fixed values).
const announcements = new Map()
let createdRooms = 0
const invitations = new Map()
// Friendships by id (made through the control port, or the confirmation an accept makes).
const friendships = new Map()
// Tag id => the ids of the contacts that have it; a tag exists while a contact has it.
const tags = new Map()
const noPayload = id => new Error(`no payload found for id ${id}`)
// Messages the subclass makes (forwards, locations, recall notices) get ids of their own.
let createdMessages = 0
// The place of each location message, by message id.
const locations = new Map()
// The bot's messages recalled already.
const recalled = new Set()

class InteropPuppet extends PuppetMock {
  async roomMemberRawPayload (roomId, contactId) {
    const base = await super.roomMemberRawPayload(roomId, contactId)
    return { ...base, ...(MEMBER_EXTRA[roomId]?.[contactId] ?? {}) }
  }

  async roomTopic (roomId, topic) {
    const payload = this.mocker.roomPayload(roomId)
    if (typeof topic === 'undefined') { return payload.topic }
    this.mocker.roomPayload(roomId, { ...payload, topic })
    this.emit('room-topic', { roomId, newTopic: topic, oldTopic: payload.topic, changerId: this.currentUserId, timestamp: Date.now() })
    await this.dirtyPayload(PUPPET.types.Payload.Room, roomId)
  }

  async changeMembers (roomId, change) {
    const payload = this.mocker.roomPayload(roomId)
    this.mocker.roomPayload(roomId, { ...payload, memberIdList: change(payload.memberIdList) })
    await this.dirtyPayload(PUPPET.types.Payload.Room, roomId)
    await this.dirtyPayload(PUPPET.types.Payload.RoomMember, roomId)
  }

  async roomAdd (roomId, contactId) {
    await this.changeMembers(roomId, ids => ids.includes(contactId) ? ids : [...ids, contactId])
    this.emit('room-join', { roomId, inviteeIdList: [contactId], inviterId: this.currentUserId, timestamp: Date.now() })
  }

  async roomDel (roomId, contactId) {
    const payload = this.mocker.roomPayload(roomId)
    if (!payload.memberIdList.includes(contactId)) {
      throw new Error(`contact(${contactId}) is not in the Room(${roomId})`)
    }
    await this.changeMembers(roomId, ids => ids.filter(id => id !== contactId))
    this.emit('room-leave', { roomId, removeeIdList: [contactId], removerId: this.currentUserId, timestamp: Date.now() })
  }

  async roomCreate (contactIdList, topic) {
    const id = `created-${++createdRooms}@chatroom`
    const me = this.currentUserId
    this.mocker.createRoom({ id, topic, avatar: '', handle: '', ownerId: me, adminIdList: [me], memberIdList: [me, ...contactIdList] })
    return id
  }

  async roomQuit (roomId) {
    const me = this.currentUserId
    await this.changeMembers(roomId, ids => ids.filter(id => id !== me))
    this.emit('room-leave', { roomId, removeeIdList: [me], removerId: me, timestamp: Date.now() })
  }

  async roomAnnounce (roomId, text) {
    if (typeof text === 'undefined') { return announcements.get(roomId) ?? '' }
    announcements.set(roomId, text)
  }

  async roomInvitationRawPayload (id) {
    const invitation = invitations.get(id)
    if (!invitation) { throw new Error(`no payload found for id ${id}`) }
    return invitation
  }

  async roomInvitationAccept (id) {
    const invitation = await this.roomInvitationRawPayload(id)
    await this.changeMembers(invitation.roomId, ids => [...ids, this.currentUserId])
    this.emit('room-join', { roomId: invitation.roomId, inviteeIdList: [this.currentUserId], inviterId: invitation.inviterId, timestamp: Date.now() })
  }

  // A change to a contact's payload, then its dirty (awaited: the puppet's own cache is
  // dropped before the RPC answers, and the client sees the dirty on the stream).
  async changeContact (contactId, change) {
    const payload = this.mocker.contactPayload(contactId)
    this.mocker.contactPayload(contactId, { ...payload, ...change })
    await this.contactPayloadDirty(contactId)
  }

  // The stock puppet-mock lacks a real alias: its get answers "mock alias" for everyone and
  // its set is dropped, so the alias (the remark the bot sets) is the payload's, and a set
  // sticks ("" clears it, as the server passes a cleared alias) and dirties the contact.
  async contactAlias (contactId, alias) {
    const payload = this.mocker.contactPayload(contactId)
    if (typeof alias === 'undefined') { return payload.alias ?? '' }
    await this.changeContact(contactId, { alias: alias ?? '' })
  }

  // The stock puppet-mock lacks phone numbers that stick (its set is dropped), so a set
  // replaces the payload's list, dirties the contact, and the phone search finds it.
  async contactPhone (contactId, phoneList) {
    const payload = this.mocker.contactPayload(contactId)
    if (typeof phoneList === 'undefined') { return payload.phone ?? [] }
    await this.changeContact(contactId, { phone: [...phoneList] })
  }

  // The stock puppet-mock lacks a phone search (it finds no one), so it finds the first
  // contact whose noted phone numbers include the number.
  async friendshipSearchPhone (phone) {
    for (const [id, payload] of this.mocker.cacheContactPayload) {
      if ((payload.phone ?? []).includes(phone)) { return id }
    }
    return null
  }

  // The stock puppet-mock lacks friendships (any id answers `{ id }`, with no contact), so
  // they are the ones made through the control port, and an unknown id is an error.
  async friendshipRawPayload (id) {
    const friendship = friendships.get(id)
    if (!friendship) { throw noPayload(id) }
    return friendship
  }

  // The stock puppet-mock lacks an accept that does anything, so, as a real puppet: only a
  // received request can be accepted; the contact becomes a friend (and is dirtied), and a
  // friendship of kind confirm (id `<id>-confirm`) follows.
  async friendshipAccept (id) {
    const friendship = await this.friendshipRawPayload(id)
    if (friendship.type !== PUPPET.types.Friendship.Receive) {
      throw new Error(`friendship ${id} is not a received request`)
    }
    await this.changeContact(friendship.contactId, { friend: true })
    const confirm = { ...friendship, id: `${id}-confirm`, type: PUPPET.types.Friendship.Confirm, hello: '' }
    friendships.set(confirm.id, confirm)
    this.emit('friendship', { friendshipId: confirm.id })
  }

  // The stock puppet-mock lacks tags (add, remove and delete do nothing, the list is always
  // empty), so they are kept here: adding needs a known contact, removing or deleting an
  // unknown tag is an error. (Listing one contact's tags still comes back empty through the
  // server: ps@1.19.9 fills a response, then sends another, empty one.)
  async tagContactAdd (tagId, contactId) {
    this.mocker.contactPayload(contactId) // throws for an unknown contact
    if (!tags.has(tagId)) { tags.set(tagId, new Set()) }
    tags.get(tagId).add(contactId)
  }

  async tagContactRemove (tagId, contactId) {
    this.mocker.contactPayload(contactId)
    const contacts = tags.get(tagId)
    if (!contacts) { throw noPayload(tagId) }
    contacts.delete(contactId)
    if (contacts.size === 0) { tags.delete(tagId) }
  }

  async tagContactDelete (tagId) {
    if (!tags.delete(tagId)) { throw noPayload(tagId) }
  }

  async tagContactList (contactId) {
    if (typeof contactId === 'undefined') { return [...tags.keys()] }
    this.mocker.contactPayload(contactId)
    return [...tags].filter(([, contacts]) => contacts.has(contactId)).map(([tag]) => tag)
  }

  // A new message from `talkerId` (the bot by default) into a room (an id with `@`, as the
  // stock puppet-mock's own send tells them apart) or a direct chat, with its event; returns
  // its id. The conversation must exist.
  newMessage (conversationId, fields, talkerId = this.currentUserId) {
    const where = /@/.test(conversationId)
      ? (this.mocker.roomPayload(conversationId), { roomId: conversationId, mentionIdList: [] })
      : (this.mocker.contactPayload(conversationId), { listenerId: conversationId })
    const id = `interop-msg-${++createdMessages}`
    this.mocker.MessageMock.create({ id, talkerId, timestamp: Date.now(), ...where, ...fields })
    this.emit('message', { messageId: id })
    return id
  }

  // The stock puppet-mock lacks recalls (it answers false for any id, even an unknown one),
  // so, as WeChat: the bot can take back its own message, once (true), not someone else's
  // (false); an unknown id is an error. A recall is followed by its notice in the same
  // conversation: a Recalled message whose text is the original's id, which is what
  // wechaty's Message.toRecalled() reads.
  async messageRecall (messageId) {
    const original = this.mocker.messagePayload(messageId) // throws for an unknown id
    if (original.talkerId !== this.currentUserId || recalled.has(messageId)) { return false }
    recalled.add(messageId)
    this.newMessage(original.roomId || original.listenerId, { type: PUPPET.types.Message.Recalled, text: messageId })
    return true
  }

  // The stock puppet-mock lacks forwarding (it does nothing and answers no id), so the
  // message is copied into the conversation as the bot's own (its file and place too), and
  // the copy's id is the answer.
  async messageForward (conversationId, messageId) {
    const original = this.mocker.messagePayload(messageId)
    const id = this.newMessage(conversationId, { type: original.type, text: original.text, filename: original.filename })
    const file = this.mocker.cacheFileBoxPayload.get(messageId)
    if (file) { this.mocker.cacheFileBoxPayload.set(id, file) }
    if (locations.has(messageId)) { locations.set(id, locations.get(messageId)) }
    return id
  }

  // The stock puppet-mock lacks location messages (its send does nothing and answers no id),
  // so a sent place is stored as the bot's Location message and its id answered. What the
  // puppet is given is not what the client sent, though: ps@1.19.9 spreads the protobuf
  // object (`{ ...request.getLocation() }`, which has none of the fields as properties) over
  // its defaults, so every place arrives as NONAME / NOADDRESS at 0, 0. Kept as given: that
  // is what a bot gets from the official server.
  async messageSendLocation (conversationId, payload) {
    const { accuracy, address, latitude, longitude, name } = payload
    const id = this.newMessage(conversationId, { type: PUPPET.types.Message.Location, text: `${name}\n${address}` })
    locations.set(id, { accuracy, address, latitude, longitude, name })
    return id
  }

  // The stock puppet-mock answers one fixed place (in Beijing) for any id, even for a message
  // that is no location; this answers the place of a location message, and fails otherwise.
  async messageLocation (messageId) {
    const payload = this.mocker.messagePayload(messageId)
    const place = locations.get(messageId)
    if (!place || payload.type !== PUPPET.types.Message.Location) {
      throw new Error(`message ${messageId} is not a location`)
    }
    return place
  }
}
for (const name of RECORDED) {
  const original = InteropPuppet.prototype[name] ?? PuppetMock.prototype[name]
  if (typeof original !== 'function') { continue }
  InteropPuppet.prototype[name] = function (...args) {
    calls.push({ method: name, args: args.map(arg => (arg && typeof arg === 'object' && typeof arg.toJSON === 'function') ? arg.toJSON() : arg) })
    return original.apply(this, args)
  }
}

const mocker = new mock.Mocker()
let worldCreated = false
// Runs on every puppet start (also after Stop + Start): world once, log in, then `ready`.
mocker.use(function fixedWorld (m) {
  if (!worldCreated) {
    for (const contact of CONTACTS) { m.createContact(contact) }
    for (const room of ROOMS) { m.createRoom(room) }
    worldCreated = true
  }
  if (!m.puppet.isLoggedIn) { m.login(m.ContactMock.load('self')) }
  const timer = setTimeout(() => m.puppet.emit('ready', { data: 'ready' }), 50)
  return () => clearTimeout(timer)
})

const puppet = new InteropPuppet({ mocker })
if (port === 0) { port = await freePort() }
const endpoint = `${HOST}:${port}`
const server = new PuppetServer({ endpoint, puppet, token: TOKEN, tls: { disable: !TLS } })

const ready = new Promise(resolve => puppet.once('ready', resolve))
await puppet.start()
await ready
await server.start()

let heartbeat
if (HEARTBEAT_SECONDS > 0) {
  heartbeat = setInterval(() => puppet.emit('heartbeat', { data: 'interop heartbeat' }), HEARTBEAT_SECONDS * 1000)
}

// ---- control ---------------------------------------------------------------------------------
function readJson (request) {
  return new Promise((resolve, reject) => {
    let body = ''
    request.on('data', chunk => { body += chunk })
    request.on('end', () => { try { resolve(body ? JSON.parse(body) : {}) } catch (e) { reject(e) } })
  })
}

const control = http.createServer(async (request, response) => {
  const reply = (status, value) => {
    const body = JSON.stringify(value)
    // A length instead of chunked encoding keeps the tests' HTTP client trivial.
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    response.end(body)
  }
  try {
    if (request.method === 'POST' && request.url === '/say') {
      const { from, to, room, text, mentions = [] } = await readJson(request)
      const talker = mocker.ContactMock.load(from)
      const conversation = room ? mocker.RoomMock.load(room) : mocker.ContactMock.load(to || 'self')
      talker.say(text, mentions.map(id => mocker.ContactMock.load(id))).to(conversation)
      // The stock say answers nothing: the message is the one it stored last.
      const [id, payload] = [...mocker.cacheMessagePayload].pop()
      return reply(200, { ok: true, id, timestamp: payload.timestamp })
    }
    if (request.method === 'POST' && request.url === '/location') {
      const { from, to, room, name, address, latitude, longitude, accuracy = 0 } = await readJson(request)
      const id = puppet.newMessage(room || to || 'self', { type: PUPPET.types.Message.Location, text: `${name}\n${address}` }, from)
      locations.set(id, { accuracy, address, latitude, longitude, name })
      return reply(200, { ok: true, id })
    }
    if (request.method === 'POST' && request.url === '/invite') {
      const { id, inviterId, roomId, topic, memberIdList } = await readJson(request)
      invitations.set(id, {
        id, inviterId, roomId, topic, memberIdList, memberCount: memberIdList.length,
        timestamp: Date.now(), avatar: '', invitation: '', receiverId: puppet.currentUserId,
      })
      puppet.emit('room-invite', { roomInvitationId: id })
      return reply(200, { ok: true })
    }
    if (request.method === 'POST' && request.url === '/friendship') {
      const { id, contactId, hello = '', type = PUPPET.types.Friendship.Receive, scene = PUPPET.types.FriendshipScene.Phone } = await readJson(request)
      mocker.contactPayload(contactId) // throws for an unknown contact
      friendships.set(id, { id, contactId, hello, type, scene, stranger: '', ticket: '', timestamp: Date.now() })
      puppet.emit('friendship', { friendshipId: id })
      return reply(200, { ok: true })
    }
    if (request.method === 'POST' && request.url === '/emit') {
      const { name, payload } = await readJson(request)
      puppet.emit(name, payload)
      return reply(200, { ok: true })
    }
    if (request.method === 'POST' && request.url === '/flood') {
      const { count, rooms = BENCH_ROOMS } = await readJson(request)
      const started = process.hrtime.bigint()
      for (let sent = 0; sent < count;) {
        // In slices, so the gRPC layer gets to write between them.
        for (const end = Math.min(count, sent + 1000); sent < end; sent++) {
          const room = sent % rooms
          puppet.emit('room-join', { roomId: `room${room}@chatroom`, inviteeIdList: [`contact${(room * 3 + 1) % 5000}`, `contact${(room * 3 + 2) % 5000}`], inviterId: 'self', timestamp: Date.now() })
        }
        await new Promise(resolve => setImmediate(resolve))
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      return reply(200, { sent: count, ms })
    }
    if (request.method === 'GET' && request.url === '/calls') { return reply(200, calls) }
    if (request.method === 'POST' && request.url === '/calls/clear') {
      calls.length = 0
      return reply(200, { ok: true })
    }
    reply(404, { error: `no route ${request.method} ${request.url}` })
  } catch (error) {
    reply(500, { error: String(error && error.stack || error) })
  }
})
await new Promise(resolve => control.listen(0, HOST, resolve))

process.stdout.write(`listening on ${endpoint}\ncontrol on ${HOST}:${control.address().port}\n`)

let stopping = false
async function shutdown () {
  if (stopping) { return }
  stopping = true
  setTimeout(() => process.exit(1), 5000).unref()
  try {
    if (heartbeat) { clearInterval(heartbeat) }
    control.close()
    await server.stop()
    if (puppet.state.active()) { await puppet.stop() }
  } catch (error) {
    console.error('[interop] shutdown:', error)
  }
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
