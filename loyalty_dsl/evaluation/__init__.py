"""The per-member evaluator: a checked program compiled, then one member's events in time order."""
