"""The tools the model can call, one per module; ``registry.default_tools()`` lists them.

Nothing here imports Textual: tools run the same under the TUI and headless.
"""
