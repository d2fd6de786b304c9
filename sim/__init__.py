"""A general discrete-event production-line simulator on SimPy, driven by scenario YAML."""

__version__ = "0.1.0"
