// A stand-in for the `vscode` module, which exists only inside the editor: enough of its API for
// an extension's activate() and for vscode-languageclient to start and stop a server. What the
// extension and the client ask of it is recorded in `calls`; any part not written here is a
// function that records its name and returns a disposable, so a feature the client registers on
// the server's capabilities (hover, completion...) does not stop the run.
"use strict";

function stub({ version, settings, defaults }) {
  const calls = [];
  const disposable = () => ({ dispose() {} });

  class Disposable {
    constructor(onDispose) {
      this.onDispose = onDispose;
    }
    static from(...items) {
      return new Disposable(() => items.forEach((d) => d && d.dispose && d.dispose()));
    }
    dispose() {
      if (this.onDispose) this.onDispose();
    }
  }

  class EventEmitter {
    constructor() {
      this.listeners = [];
      this.event = (listener) => {
        this.listeners.push(listener);
        return new Disposable(() => (this.listeners = this.listeners.filter((l) => l !== listener)));
      };
    }
    fire(value) {
      this.listeners.forEach((l) => l(value));
    }
    dispose() {
      this.listeners = [];
    }
  }

  class CancellationTokenSource {
    constructor() {
      this.emitter = new EventEmitter();
      this.token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
    }
    cancel() {
      this.token.isCancellationRequested = true;
      this.emitter.fire();
    }
    dispose() {}
  }

  class Uri {
    constructor(scheme, fsPath) {
      this.scheme = scheme;
      this.fsPath = fsPath;
      this.path = fsPath;
    }
    static file(fsPath) {
      return new Uri("file", fsPath);
    }
    static parse(text) {
      const m = /^([a-z][a-z0-9+.-]*):(?:\/\/)?(.*)$/i.exec(text);
      return m ? new Uri(m[1], m[2]) : new Uri("file", text);
    }
    toString() {
      return `${this.scheme}://${this.path}`;
    }
  }

  class Position {
    constructor(line, character) {
      Object.assign(this, { line, character });
    }
  }

  class Range {
    constructor(a, b, c, d) {
      [this.start, this.end] = a instanceof Position ? [a, b] : [new Position(a, b), new Position(c, d)];
    }
  }

  class Diagnostic {
    constructor(range, message, severity) {
      Object.assign(this, { range, message, severity });
    }
  }

  // What the client shows as problems: uri -> diagnostics, as the server last published them.
  const problems = {};
  function createDiagnosticCollection(name) {
    calls.push(["languages.createDiagnosticCollection", name]);
    return {
      name,
      set: (uri, diagnostics) => (problems[uri.toString()] = diagnostics || []),
      delete: (uri) => delete problems[uri.toString()],
      get: (uri) => problems[uri.toString()],
      has: (uri) => uri.toString() in problems,
      clear() {},
      forEach() {},
      dispose() {},
    };
  }

  // The editor's document events, so that a test can open a document as the editor would.
  const opened = new EventEmitter();
  const closed = new EventEmitter();
  const changed = new EventEmitter();

  // Whether a document selector takes a document, as vscode.languages.match answers (0: no).
  function match(selector, document) {
    const filters = Array.isArray(selector) ? selector : [selector];
    return filters.some((f) =>
      typeof f === "string"
        ? f === document.languageId
        : (!f.language || f.language === document.languageId) && (!f.scheme || f.scheme === document.uri.scheme),
    )
      ? 10
      : 0;
  }

  const base = {
    version,
    Disposable,
    EventEmitter,
    CancellationTokenSource,
    CancellationError: class CancellationError extends Error {},
    Uri,
    Position,
    Range,
    Diagnostic,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    TabInputText: class {},
    TabInputTextDiff: class {},
    TabInputCustom: class {},
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    env: { appName: "Visual Studio Code (stub)", language: "en", machineId: "stub", openExternal: async () => true },
    workspace: {
      workspaceFolders: undefined,
      textDocuments: [],
      onDidOpenTextDocument: opened.event,
      onDidCloseTextDocument: closed.event,
      onDidChangeTextDocument: changed.event,
      getConfiguration(section) {
        calls.push(["workspace.getConfiguration", section]);
        const prefix = section ? `${section}.` : "";
        // a setting the user has not set has the default the package contributes, as in the editor
        const value = (key) => (prefix + key in settings ? settings[prefix + key] : (defaults[prefix + key] || {}).default);
        return {
          get: (key, fallback) => (value(key) === undefined ? fallback : value(key)),
          has: (key) => value(key) !== undefined,
        };
      },
      createFileSystemWatcher(glob) {
        calls.push(["workspace.createFileSystemWatcher", glob]);
        const events = () => disposable();
        return { glob, onDidCreate: events, onDidChange: events, onDidDelete: events, dispose() {} };
      },
    },
    window: {
      activeTextEditor: undefined,
      visibleTextEditors: [],
      tabGroups: { all: [], onDidChangeTabs: disposable, onDidChangeTabGroups: disposable },
      createOutputChannel(name) {
        const channel = { name, text: "", dispose() {}, show() {}, hide() {}, clear() {} };
        channel.append = (value) => (channel.text += value);
        channel.appendLine = (value) => (channel.text += `${value}\n`);
        calls.push(["window.createOutputChannel", name]);
        base.window.channels.push(channel);
        return channel;
      },
      channels: [],
    },
    languages: { match, createDiagnosticCollection },
  };

  // Anything else: a class that keeps what it is made with, for a capitalised name (the client
  // extends vscode.CompletionItem, ...), else a recording no-op (vscode.languages.registerHoverProvider).
  function lenient(target, where) {
    return new Proxy(target, {
      get(obj, key) {
        if (key in obj || typeof key === "symbol" || key === "then") return obj[key];
        const name = where ? `${where}.${key}` : key;
        if (!where && /^[A-Z]/.test(key)) {
          obj[key] = class {
            constructor(...args) {
              this.args = args;
            }
          };
          return obj[key];
        }
        return () => {
          calls.push([name]);
          return disposable();
        };
      },
    });
  }
  const vscode = lenient(base, "");
  for (const part of ["workspace", "window", "languages", "commands", "env"]) {
    base[part] = lenient(base[part] || {}, part);
  }
  // Open a document in the editor: every listener the client set is told, as the editor tells it.
  function open({ path, languageId, text }) {
    const document = {
      uri: Uri.file(path),
      fileName: path,
      languageId,
      version: 1,
      isClosed: false,
      isUntitled: false,
      getText: () => text,
      lineCount: text.split("\n").length,
    };
    base.workspace.textDocuments.push(document);
    opened.fire(document);
    return document;
  }
  return { vscode, calls, problems, open };
}

module.exports = { stub };
