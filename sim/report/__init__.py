"""From records to people: tables, printed summaries and result folders (docs/design.md §2).

Modules here never run a simulation; they render records computed elsewhere.
"""
