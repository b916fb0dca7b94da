"""The analyst's tools over evaluations: explain, diff, examples in the language, reports."""
