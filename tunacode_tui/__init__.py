"""tunacode_tui: a terminal AI coding agent on Textual with a parallel tool executor."""

__version__ = "0.1.0"
