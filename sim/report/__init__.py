"""From records to people: tables, printed summaries and result folders (DESIGN.md §2).

Modules here never run a simulation; they render records computed elsewhere.
"""
