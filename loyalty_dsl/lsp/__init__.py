"""`loyalty lsp`: a language server for editors (the `lsp` extra: pygls and lsprotocol).

index.py finds every name of a program and what it names, words.py says what a
name means (hover), server.py answers the editor. Only server.py imports pygls,
so the rest is usable (and testable) without the extra.
"""
