"""Histories read and accounted; outcomes, ledgers and progress written."""
