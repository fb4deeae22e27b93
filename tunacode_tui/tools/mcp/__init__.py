"""MCP servers' tools as tools of ours (see manager.py). Importing the package imports no ``mcp`` SDK."""
