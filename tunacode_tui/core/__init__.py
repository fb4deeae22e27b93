"""The shared vocabulary at the bottom of the package: neutral messages and tool specs, stream events,
agent events and session state.

Every other layer speaks in these types, so none of them has to import another to agree on a shape.
This package imports nothing else of ``tunacode_tui``.
"""
