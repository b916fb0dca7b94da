"""The columnar evaluator: whole histories read in bulk, a program's rules as SQL, run in DuckDB."""
