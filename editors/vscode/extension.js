// Starts `loyalty lsp` (or the command set in `loyalty.server.command`) for .loy files.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

// The setting is a list, the command and its arguments; a lone string is taken as the server's
// executable (as people write a path), started with `lsp`. Unset or empty: `loyalty lsp`.
function serverCommand(configured) {
  if (typeof configured === "string" && configured.trim()) return [configured.trim(), "lsp"];
  if (Array.isArray(configured) && configured.length) return configured;
  return ["loyalty", "lsp"];
}

function activate(context) {
  const [command, ...args] = serverCommand(vscode.workspace.getConfiguration("loyalty").get("server.command"));
  const server = { command, args }; // an executable speaks over stdio by default
  const options = {
    documentSelector: [{ scheme: "file", language: "loyalty" }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.loy") },
  };
  client = new LanguageClient("loyalty", "Loyalty language server", server, options);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
