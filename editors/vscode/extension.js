// Starts `loyalty lsp` (or the command set in `loyalty.server.command`) for .loy files.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const configured = vscode.workspace.getConfiguration("loyalty").get("server.command");
  const [command, ...args] = configured && configured.length ? configured : ["loyalty", "lsp"];
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
