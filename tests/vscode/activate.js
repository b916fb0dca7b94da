// Load the VS Code extension as the editor does and run its client; report what it did as JSON.
// usage: node activate.js EXTENSION_DIR SETTINGS_JSON real|stub [DOCUMENTS_JSON [handshake]]
//   The entry module is the one package.json's `main` names; `vscode` is the stand-in of
//   vscode_stub.js. `real`: vscode-languageclient (found through NODE_PATH) starts and stops the
//   server; `stub`: a stand-in client that only records what it is given.
// DOCUMENTS_JSON: [{path, languageId, text}], opened in the editor once the client runs (`real`);
// the problems the client then shows for each are reported.
// With `handshake`, the command the extension gave its client is then started here, apart from
// the client, and spoken to over its stdio (initialize, initialized, shutdown, exit), to show
// that it is a working server.
"use strict";
const Module = require("module");
const childProcess = require("child_process");
const fs = require("fs");
const path = require("path");
const { stub } = require("./vscode_stub");

const [extensionDir, settingsJson, mode, documentsJson = "[]", then] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, "package.json"), "utf8"));
const report = { mode, spawned: [] };
const { vscode, calls, problems, open } = stub({
  // the oldest editor the package claims: the real client refuses one older than it supports
  version: manifest.engines.vscode.replace(/^[\^~>=]+/, ""),
  settings: JSON.parse(settingsJson),
  defaults: (manifest.contributes.configuration || {}).properties || {},
});
report.calls = calls;

// Every process the client starts is recorded, and still started.
const spawn = childProcess.spawn;
childProcess.spawn = function (command, args, options) {
  const child = spawn.call(this, command, args, options);
  const entry = { command, args, stdio: (options && options.stdio) || "pipe", exit: null };
  child.on("exit", (code, signal) => (entry.exit = { code, signal }));
  report.spawned.push(entry);
  return child;
};

// A client that records what it is given, for when vscode-languageclient is not installed.
class RecordingClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, state: "Stopped", starts: 0, stops: 0 });
  }
  async start() {
    this.starts += 1;
    this.state = "Running";
  }
  async stop() {
    this.stops += 1;
    this.state = "Stopped";
  }
  dispose() {
    return this.stop();
  }
}

function clientModule(real) {
  if (mode === "stub") {
    return { LanguageClient: RecordingClient, TransportKind: { stdio: 0, ipc: 1, pipe: 2, socket: 3 } };
  }
  const named = (state) => Object.keys(real.State).find((k) => real.State[k] === state);
  class Recorded extends real.LanguageClient {
    constructor(id, name, serverOptions, clientOptions, ...rest) {
      super(id, name, serverOptions, clientOptions, ...rest);
      Object.assign(this, { recorded: { id, name, serverOptions }, starts: 0, stops: 0 });
    }
    start() {
      this.starts += 1;
      return super.start();
    }
    stop(...args) {
      this.stops += 1;
      return super.stop(...args);
    }
    get stateName() {
      return named(this.state);
    }
  }
  return { ...real, LanguageClient: Recorded };
}

const load = Module._load;
let clientExports;
Module._load = function (request, ...rest) {
  if (request === "vscode") return vscode;
  if (request === "vscode-languageclient/node") {
    clientExports = clientExports || clientModule(mode === "stub" ? null : load.call(this, request, ...rest));
    return clientExports;
  }
  return load.call(this, request, ...rest);
};

function describe(client) {
  const given = client.recorded || client;
  const options = client.clientOptions;
  const events = options.synchronize && options.synchronize.fileEvents;
  return {
    id: given.id,
    name: given.name,
    serverOptions: given.serverOptions,
    documentSelector: options.documentSelector,
    fileEvents: events ? [].concat(events).map((w) => w.glob) : [],
    state: client.stateName || client.state,
    starts: client.starts,
    stops: client.stops,
    capabilities: client.initializeResult ? client.initializeResult.capabilities : null,
  };
}

// Content-Length framed JSON-RPC over a child's stdio, as an LSP client speaks it.
function connect(child) {
  let buffer = Buffer.alloc(0);
  const waiting = new Map();
  child.stdout.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/Content-Length: *(\d+)/i.exec(buffer.subarray(0, end).toString())[1]);
      if (buffer.length < end + 4 + length) return;
      const message = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString("utf8"));
      buffer = buffer.subarray(end + 4 + length);
      if (message.id !== undefined && waiting.has(message.id) && !message.method) {
        waiting.get(message.id)(message);
        waiting.delete(message.id);
      }
    }
  });
  // A server that dies (or never starts) answers nothing: fail what waits for it.
  let dead = null;
  const fail = (why) => {
    dead = dead || why;
    waiting.forEach((resolve) => resolve({ error: { message: dead } }));
    waiting.clear();
  };
  child.on("exit", (code, signal) => fail(`the server exited (${code}, ${signal})`));
  child.on("error", (err) => fail(String(err)));
  let next = 0;
  const send = (message) => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }), "utf8");
    if (child.exitCode !== null || !child.pid) return;
    child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    child.stdin.write(body);
  };
  return {
    request: (method, params) =>
      new Promise((resolve) => {
        if (dead) return resolve({ error: { message: dead } });
        next += 1;
        waiting.set(next, resolve);
        send({ id: next, method, params });
      }),
    notify: (method, params) => send({ method, params }),
  };
}

async function handshake(serverOptions) {
  const { command, args = [] } = serverOptions;
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
    child.on("error", () => resolve({ code: null, signal: null }));
  });
  let stderr = "";
  child.stderr.on("data", (data) => (stderr += data));
  child.on("error", (err) => (stderr += String(err)));
  const rpc = connect(child);
  const init = await rpc.request("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
  rpc.notify("initialized", {});
  const shutdown = await rpc.request("shutdown", null);
  rpc.notify("exit", null);
  return { command, args, initialize: init, shutdown, exit: await exited, stderr };
}

const exited = (entry, ms) =>
  new Promise((resolve) => {
    const started = Date.now();
    const poll = () => (entry.exit || Date.now() - started > ms ? resolve() : setTimeout(poll, 20));
    poll();
  });

// Open each document, then wait until the server has published problems for the last one
// (or 10 s): those of a document the client does not send never come.
async function openDocuments(documents) {
  const uris = documents.map((d) => open(d).uri.toString());
  const started = Date.now();
  while (uris.length && !(uris[uris.length - 1] in problems) && Date.now() - started < 10000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  report.problems = Object.fromEntries(
    uris.map((uri) => [
      uri,
      uri in problems
        ? problems[uri].map((d) => ({ line: d.range.start.line, message: d.message, code: d.code, severity: d.severity }))
        : null,
    ]),
  );
}

async function main() {
  const entry = path.resolve(extensionDir, manifest.main);
  report.entry = entry;
  const extension = require(entry);
  report.exports = Object.fromEntries(Object.entries(extension).map(([k, v]) => [k, typeof v]));
  const context = { subscriptions: [], extensionPath: extensionDir, asAbsolutePath: (p) => path.join(extensionDir, p) };
  await extension.activate(context);
  const clients = context.subscriptions.filter((s) => s && s.clientOptions);
  report.subscriptions = context.subscriptions.length;
  report.started = clients.map(describe);
  if (mode === "real") await openDocuments(JSON.parse(documentsJson));
  await extension.deactivate();
  report.stopped = clients.map(describe);
  // The client ends the server with shutdown and exit; give it time to go of itself
  // (vscode-languageclient kills a server still there after 2 s).
  await Promise.all(report.spawned.map((e) => exited(e, 1500)));
  report.serverOutput = vscode.window.channels.map((c) => c.text).join("");
  if (then === "handshake" && clients.length) report.handshake = await handshake(clients[0].recorded?.serverOptions || clients[0].serverOptions);
}

const watchdog = setTimeout(() => {
  report.error = "timed out";
  process.stdout.write(JSON.stringify(report));
  process.exit(2);
}, 45000);
main()
  .then(() => {
    clearTimeout(watchdog);
    process.stdout.write(JSON.stringify(report));
    process.exit(0);
  })
  .catch((err) => {
    report.error = String((err && err.stack) || err);
    process.stdout.write(JSON.stringify(report));
    process.exit(1);
  });
