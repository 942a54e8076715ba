// The original LeetSocial design's "API Usage" snippets, run unchanged with
// the official socket.io-client against a real leetchat-server, over both
// transports, next to a native WebSocket client in the same room; plus bad
// tokens, malformed payloads, limits, and two nodes over PostgreSQL + Redis.
//
//   LEETCHAT_SERVER_BIN=path/to/leetchat-server npm test
//
// The server binary defaults to $CARGO_TARGET_DIR/debug/leetchat-server.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import WebSocket from "ws";

const BIN =
  process.env.LEETCHAT_SERVER_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/leetchat/target"), "debug/leetchat-server");
const WAIT_MS = 5000;
const servers = [];

after(() => {
  for (const s of servers) s.stop();
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts leetchat-server with `env` on a free port; resolves when it serves. */
async function startServer(env = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "leetchat-sio-"));
  const child = spawn(BIN, [], {
    env: {
      ...process.env,
      SOCKET_PORT: String(port),
      BIND_ADDRESS: "127.0.0.1",
      DATA_DIR: dir,
      JWT_SECRET: "socketio-tests-secret-socketio-tests-secret-01",
      ALLOWED_ORIGINS: "http://localhost:3000",
      RATE_LIMIT_AUTH: "1000/60",
      RATE_LIMIT_ROOM_CREATE: "1000/60",
      RATE_LIMIT_REGISTER: "1000/60",
      RATE_LIMIT_DIRECT: "1000/60",
      RUST_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/health/chat`);
      const h = await r.json();
      if (!env.REDIS_URL || h.redis === "up") break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`leetchat-server did not start (${BIN}):\n${log}`);
    }
    await sleep(50);
  }
  const server = {
    url,
    port,
    stop() {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  servers.push(server);
  return server;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let userCounter = 0;
async function register(server, base) {
  const userName = `${base}${++userCounter}`;
  const r = await fetch(`${server.url}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userName, password: `password-${userName}` }),
  });
  assert.equal(r.status, 201, await r.clone().text());
  const body = await r.json();
  return { userName, userId: body.user.userId, token: body.accessToken };
}

/** Resolves with the first `event` the socket emits (after `since` pushes). */
function once(socket, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (data) => {
      clearTimeout(t);
      resolve(data);
    });
  });
}

/** A socket.io-client exactly as in the design, on one transport. */
async function sioConnect(server, token, transport, extra = {}) {
  const socket = io(server.url, {
    auth: { token },
    transports: [transport],
    reconnection: false,
    forceNew: true,
    ...extra,
  });
  const authenticated = once(socket, "connection.authenticated");
  await once(socket, "connect");
  const hello = await authenticated;
  return { socket, hello };
}

/** A native client of docs/protocol.md over the `ws` package. */
class Native {
  static async connect(server, token) {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const n = new Native(ws);
    await n.next("connection.authenticated");
    return n;
  }

  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.frames = [];
    this.waiters = [];
    ws.on("message", (raw) => {
      this.frames.push(JSON.parse(String(raw)));
      for (const w of [...this.waiters]) w();
    });
  }

  /** The next push named `event` (others stay buffered). */
  next(event, ms = WAIT_MS) {
    return this.take((f) => f.event === event, `push ${event}`, ms).then((f) => f.data);
  }

  take(pred, what, ms) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.frames.findIndex(pred);
        if (i >= 0) {
          const [f] = this.frames.splice(i, 1);
          this.waiters = this.waiters.filter((w) => w !== check);
          clearTimeout(t);
          resolve(f);
        }
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`no ${what} within ${ms} ms; have ${JSON.stringify(this.frames)}`));
      }, ms);
      this.waiters.push(check);
      check();
    });
  }

  async request(event, data) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, event, data }));
    const ack = await this.take((f) => f.ack === id, `ack ${id}`, WAIT_MS);
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { body: ack.error });
    return ack.data;
  }

  close() {
    this.ws.close();
  }
}

for (const transport of ["websocket", "polling"]) {
  test(`the design's API usage over ${transport}, with a native client in the room`, async () => {
    const server = await startServer();
    const alice = await register(server, "alice");
    const bob = await register(server, "bob");
    const carol = await register(server, "carol");

    // WebSocket Connection
    const { socket, hello } = await sioConnect(server, alice.token, transport);
    assert.equal(hello.userId, alice.userId);
    assert.ok(socket.connected);
    const native = await Native.connect(server, bob.token);

    // A direct room (named direct_<id>_<id>, as in the design's examples).
    const created = await socket.emitWithAck("room.create", { type: "direct", memberIds: [bob.userId] });
    const roomId = created.room.roomId;
    assert.match(roomId, /^direct_/);
    assert.equal((await native.next("room.created")).room.roomId, roomId);

    // Send Message
    const received = native.next("message.received");
    const response = await socket.emitWithAck("message.send", {
      roomId,
      content: "Hello!",
      type: "text",
      tempId: "temp_123",
    });
    assert.equal(response.message.tempId, "temp_123");
    assert.equal(response.message.seq, 1);
    assert.equal(response.message.content, "Hello!");
    assert.deepEqual((await received).message, response.message);

    // Resending the same tempId is idempotent.
    const again = await socket.emitWithAck("message.send", {
      roomId,
      content: "Hello!",
      type: "text",
      tempId: "temp_123",
    });
    assert.equal(again.message.messageId, response.message.messageId);

    // Listen for Messages
    const heard = once(socket, "message.received");
    const fromBob = await native.request("message.send", {
      roomId,
      content: "Hi Alice",
      type: "text",
      tempId: "bob-1",
    });
    const message = await heard;
    assert.equal(message.message.messageId, fromBob.message.messageId);
    assert.equal(message.message.seq, 2);

    // Typing Indicators, both ways.
    const bobSees = native.next("typing.user");
    socket.emit("typing.start", { roomId });
    const t1 = await bobSees;
    assert.deepEqual(
      { roomId: t1.roomId, userName: t1.userName, isTyping: t1.isTyping },
      { roomId, userName: alice.userName, isTyping: true },
    );
    const bobSeesStop = native.next("typing.user");
    socket.emit("typing.stop", { roomId });
    assert.equal((await bobSeesStop).isTyping, false);
    const aliceSees = once(socket, "typing.user");
    await native.request("typing.start", { roomId });
    const t2 = await aliceSees;
    assert.equal(`${t2.userName} is typing...`, `${bob.userName} is typing...`);

    // Load Message History: by cursor (a time), limit and direction.
    const history = await socket.emitWithAck("message.history", {
      roomId,
      cursor: "2025-11-19T10:30:00Z",
      limit: 50,
      direction: "after",
    });
    assert.deepEqual(
      history.messages.map((m) => m.content),
      ["Hello!", "Hi Alice"],
    );
    assert.equal(history.hasMore, false);
    const newest = await socket.emitWithAck("message.history", { roomId, limit: 1, direction: "before" });
    assert.deepEqual(newest.messages.map((m) => m.seq), [2]);
    assert.equal(newest.hasMore, true);
    const older = await socket.emitWithAck("message.history", {
      roomId,
      cursor: newest.nextCursor,
      limit: 50,
      direction: "before",
    });
    assert.deepEqual(older.messages.map((m) => m.seq), [1]);

    // Read receipts reach the other transport.
    const receipt = native.next("receipt.updated");
    await socket.emitWithAck("message.read", { roomId, seq: 2 });
    assert.equal((await receipt).userId, alice.userId);

    // Edits and deletes pushed from the native side.
    const edited = once(socket, "message.edited");
    await native.request("message.edit", { messageId: fromBob.message.messageId, content: "Hi Alice!" });
    assert.equal((await edited).message.content, "Hi Alice!");
    const deleted = once(socket, "message.deleted");
    await native.request("message.delete", { messageId: fromBob.message.messageId });
    assert.equal((await deleted).messageId, fromBob.message.messageId);

    // Create Group Chat
    const group = await socket.emitWithAck("room.create", {
      type: "group",
      name: "Team Chat",
      description: "Our awesome team",
      memberIds: [bob.userId, carol.userId],
      isPrivate: false,
    });
    assert.equal(group.room.name, "Team Chat");
    assert.equal(group.room.description, "Our awesome team");
    assert.equal(group.room.members.length, 3);
    assert.equal((await native.next("room.created")).room.roomId, group.room.roomId);

    // Presence: Bob sees Alice leave.
    const offline = native.next("presence.update");
    socket.disconnect();
    const p = await offline;
    assert.equal(p.userId, alice.userId);
    assert.equal(p.status, "offline");
    native.close();
  });
}

test("bad tokens are refused with connect_error", async () => {
  const server = await startServer();
  for (const auth of [{ token: "not-a-jwt" }, {}, { token: 42 }]) {
    const socket = io(server.url, { auth, transports: ["websocket"], reconnection: false, forceNew: true });
    const err = await once(socket, "connect_error");
    assert.match(err.message, /^unauthenticated: /, JSON.stringify(auth));
    socket.close();
  }
  // Polling gets the same answer.
  const socket = io(server.url, { auth: { token: "x" }, transports: ["polling"], reconnection: false, forceNew: true });
  assert.match((await once(socket, "connect_error")).message, /^unauthenticated/);
  socket.close();
  // An Origin that is not allowed is refused like on /ws.
  const alice = await register(server, "alice");
  const evil = io(server.url, {
    auth: { token: alice.token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    extraHeaders: { Origin: "https://evil.example" },
  });
  assert.match((await once(evil, "connect_error")).message, /^forbidden: origin/);
  evil.close();
});

test("malformed payloads get the contract's errors and the socket stays up", async () => {
  const server = await startServer({ RATE_LIMIT_MESSAGE: "3/60" });
  const alice = await register(server, "alice");
  const bob = await register(server, "bob");
  const { socket } = await sioConnect(server, alice.token, "websocket");
  const { room } = await socket.emitWithAck("room.create", { type: "direct", memberIds: [bob.userId] });

  const notObject = await socket.emitWithAck("message.send", "hello");
  assert.equal(notObject.error.code, "invalid");
  const wrongType = await socket.emitWithAck("message.send", { roomId: 5, content: "x", tempId: "t" });
  assert.equal(wrongType.error.code, "invalid");
  assert.match(wrongType.error.message, /roomId/);
  const unknown = await socket.emitWithAck("no.such.event", {});
  assert.ok(["invalid", "not_found"].includes(unknown.error.code), JSON.stringify(unknown));
  const outsider = await socket.emitWithAck("message.history", { roomId: "direct_a_b" });
  assert.ok(["forbidden", "not_found"].includes(outsider.error.code), JSON.stringify(outsider));
  const big = await socket.emitWithAck("message.send", {
    roomId: room.roomId,
    content: "x".repeat(70 * 1024),
    tempId: "big",
  });
  assert.equal(big.error.code, "too_large");

  // Without an ack callback, a failure comes back as an `error` event.
  const error = once(socket, "error");
  socket.emit("message.send", { roomId: 5 });
  assert.equal((await error).code, "invalid");

  // Rate limits apply as on /ws.
  const sends = [];
  for (let i = 0; i < 4; i++) {
    sends.push(
      await socket.emitWithAck("message.send", { roomId: room.roomId, content: `m${i}`, tempId: `r${i}` }),
    );
  }
  assert.deepEqual(sends.slice(0, 3).map((s) => s.message.seq), [1, 2, 3]);
  assert.equal(sends[3].error.code, "rate_limited");
  assert.ok(sends[3].error.retryAfterMs > 0);

  assert.ok(socket.connected, "the socket is still up");
  socket.disconnect();
});

test("across two nodes: a Socket.IO client and a native client on different nodes", { skip: !process.env.LEETCHAT_TEST_PG }, async () => {
  const admin = process.env.LEETCHAT_TEST_PG;
  const db = `leetchat_sio_${process.pid}_${Date.now()}`;
  execFileSync("psql", [admin, "-qc", `CREATE DATABASE ${db}`]);
  try {
    const url = admin.replace(/\/[^/]*$/, `/${db}`);
    const redisPort = await freePort();
    const redis = spawn("redis-server", ["--port", String(redisPort), "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    servers.push({ stop: () => redis.kill("SIGKILL") });
    await sleep(200);
    const env = {
      DATABASE_URL: url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      CLUSTER_HEARTBEAT: "500ms",
    };
    const a = await startServer({ ...env, NODE_ID: "1" });
    const b = await startServer({ ...env, NODE_ID: "2" });
    const alice = await register(a, "alice");
    const bob = await register(b, "bob");
    const { socket } = await sioConnect(a, alice.token, "polling");
    const native = await Native.connect(b, bob.token);
    const { room } = await socket.emitWithAck("room.create", { type: "direct", memberIds: [bob.userId] });
    await native.next("room.created");
    const got = native.next("message.received");
    await socket.emitWithAck("message.send", { roomId: room.roomId, content: "across", tempId: "x1" });
    assert.equal((await got).message.content, "across");
    const typing = once(socket, "typing.user");
    await native.request("typing.start", { roomId: room.roomId });
    assert.equal((await typing).userName, bob.userName);
    const heard = once(socket, "message.received");
    await native.request("message.send", { roomId: room.roomId, content: "back", tempId: "y1" });
    assert.equal((await heard).message.content, "back");
    socket.disconnect();
    native.close();
  } finally {
    for (const s of servers.splice(0)) s.stop();
    await sleep(200);
    execFileSync("psql", [admin, "-qc", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]);
  }
});
