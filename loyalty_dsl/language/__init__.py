"""The language: its grammar loaded, programs parsed to a typed AST, checked, formatted and linted."""
