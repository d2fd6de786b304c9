#!/usr/bin/env python3
"""Thin entry point: `python run_sim.py <verb> ...` (see `python run_sim.py --help`)."""
from sim.cli import entry

if __name__ == "__main__":
    entry()
