#!/usr/bin/env node
// A scripted WeChat for Xiaoqi's end-to-end test: wechaty-puppet-mock served over gRPC by
// wechaty-puppet-service, exactly what a production puppet service exposes to the Python bot.
//
// Usage: node puppet_server.mjs '<scenario json>'
//   scenario: {"token": "...", "port": 0, "bot": {"id", "name"},
//              "contacts": [{"id", "name"}], "rooms": [{"id", "topic", "members": [ids]}]}
// Control: JSON lines on stdin, e.g.
//   {"op": "say", "from": "wxid_r1", "room": "g1@chatroom", "text": "#帮助", "id": "m-1", "repeat": 2}
//   {"op": "say", "from": "wxid_r1", "text": "你好"}                  (private, to the bot)
//   {"op": "join", "room": "g1@chatroom", "members": ["wxid_new"], "inviter": "wxid_sg", "timestamp": 1}
//   {"op": "leave", "room": "g1@chatroom", "members": ["wxid_new"], "remover": "wxid_sg", "timestamp": 2}
// Report: JSON lines on stdout: {"event": "listening", "port"}, {"event": "ready"},
//   {"event": "sent", "conversation", "text", "mentions"}, {"event": "sent-file", "conversation", "name", "size"},
//   {"event": "delivered", "id"}, {"event": "error", "message"}.
// The program exits when its stdin closes, so a crashed test never leaves a server holding the port.

import net from 'node:net'
import readline from 'node:readline'

import * as PUPPET from 'wechaty-puppet'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

PUPPET.log.level(process.env.WECHATY_LOG || 'silent')

const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n')

const TYPES = {
  text: PUPPET.types.Message.Text,
  image: PUPPET.types.Message.Image,
  voice: PUPPET.types.Message.Audio,
  video: PUPPET.types.Message.Video,
  file: PUPPET.types.Message.Attachment,
  link: PUPPET.types.Message.Url,
  miniprogram: PUPPET.types.Message.MiniProgram,
  recall: PUPPET.types.Message.Recalled,
  emoticon: PUPPET.types.Message.Emoticon,
  location: PUPPET.types.Message.Location,
}

const scenario = JSON.parse(process.argv[2] || '{}')
const mocker = new mock.Mocker()
const bot = mocker.createContact({ id: scenario.bot.id, name: scenario.bot.name })
for (const c of scenario.contacts || []) {
  mocker.createContact({ id: c.id, name: c.name })
}
for (const r of scenario.rooms || []) {
  mocker.createRoom({ id: r.id, topic: r.topic, memberIdList: [scenario.bot.id, ...r.members] })
}

class ScriptedPuppet extends PuppetMock {
  // PuppetMock drops the mention list; report it, then echo the message as WeChat does.
  async messageSendText (conversationId, text, mentionIdList = []) {
    emit({ event: 'sent', conversation: conversationId, text, mentions: mentionIdList || [] })
    return this._messageSend(conversationId, text)
  }

  async messageSendFile (conversationId, fileBox) {
    const buffer = await fileBox.toBuffer()
    emit({ event: 'sent-file', conversation: conversationId, name: fileBox.name, size: buffer.length })
  }
}

const puppet = new ScriptedPuppet({ mocker })
// The Python client calls stop() then start() on connect, which would log out an earlier login:
// log in (and emit `ready`, which PuppetMock never does) whenever the mocker starts.
mocker.use(() => {
  mocker.login(bot)
  setImmediate(() => {
    puppet.emit('ready', { data: 'ready' })
    emit({ event: 'ready' })
  })
  return () => {}
})

let serial = 0
function say (cmd) {
  const id = cmd.id || `mock-${process.pid}-${++serial}`
  const payload = {
    id,
    talkerId: cmd.from,
    timestamp: cmd.timestamp || Date.now(),
    type: TYPES[cmd.type || 'text'],
    text: cmd.text || '',
  }
  if (payload.type === undefined) throw new Error(`unknown message type ${cmd.type}`)
  if (cmd.filename) payload.filename = cmd.filename
  if (cmd.room) {
    payload.roomId = cmd.room
    payload.mentionIdList = cmd.mentions || []
  } else {
    payload.listenerId = cmd.to || bot.id
  }
  mocker.cacheMessagePayload.set(id, payload)
  for (let i = 0; i < (cmd.repeat || 1); i++) {
    puppet.emit('message', { messageId: id })
  }
  emit({ event: 'delivered', id })
}

function roomEvent (cmd) {
  const timestamp = cmd.timestamp || Date.now()
  const room = mocker.RoomMock.load(cmd.room)
  const members = room.payload.memberIdList
  for (const id of cmd.members) {
    const at = members.indexOf(id)
    if (cmd.op === 'join' && at < 0) members.push(id)
    if (cmd.op === 'leave' && at >= 0) members.splice(at, 1)
  }
  const payload = cmd.op === 'join'
    ? { inviteeIdList: cmd.members, inviterId: cmd.inviter || bot.id, roomId: cmd.room, timestamp }
    : { removeeIdList: cmd.members, removerId: cmd.remover || bot.id, roomId: cmd.room, timestamp }
  for (let i = 0; i < (cmd.repeat || 1); i++) {
    puppet.emit(cmd.op === 'join' ? 'room-join' : 'room-leave', payload)
  }
  emit({ event: 'delivered', id: `${cmd.op}:${cmd.room}` })
}

function freePort () {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

async function serve () {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = scenario.port || await freePort()
    const server = new PuppetServer({
      endpoint: `127.0.0.1:${port}`,
      puppet,
      token: scenario.token,
      tls: { disable: true },
    })
    try {
      await server.start()
      return { server, port }
    } catch (error) {
      if (scenario.port) throw error
    }
  }
  throw new Error('no free port after 5 attempts')
}

const { server, port } = await serve()
emit({ event: 'listening', port })

let stopping = false
async function shutdown (code) {
  if (stopping) return
  stopping = true
  const force = setTimeout(() => process.exit(code), 2000)
  force.unref()
  try {
    await server.stop()
    await puppet.stop()
  } finally {
    process.exit(code)
  }
}

const lines = readline.createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (!line.trim()) return
  try {
    const cmd = JSON.parse(line)
    if (cmd.op === 'say') say(cmd)
    else if (cmd.op === 'join' || cmd.op === 'leave') roomEvent(cmd)
    else throw new Error(`unknown op ${cmd.op}`)
  } catch (error) {
    emit({ event: 'error', message: String(error && error.message ? error.message : error) })
  }
})
lines.on('close', () => shutdown(0))
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))
