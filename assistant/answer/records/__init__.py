"""Exact answers from the plan's structure: parse a record query, run it, render it."""
