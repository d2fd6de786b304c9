#!/usr/bin/env python3
"""Thin entry point: `python run_sim.py <verb> ...` (see `python run_sim.py --help`)."""
import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
