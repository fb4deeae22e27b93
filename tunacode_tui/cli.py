"""Command line entry point. Kept import-light: ``--version`` and ``--help`` load no SDK and no Textual."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tunacode_tui import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tunacode",
        description="A terminal AI coding agent: parallel read-only tools, serialized writes, "
        "and a live view of what runs, what it costs and how full the context is.",
        epilog="Without -p, opens the full-screen app. Keys and commands: /help inside the app.",
    )
    parser.add_argument("--version", action="version", version=f"tunacode {__version__}")
    parser.add_argument("-p", "--prompt", help="run one prompt headless and exit (- reads it from stdin)")
    parser.add_argument("--model", help="provider:model, e.g. anthropic:claude-sonnet-5-5 or openai:gpt-5.6-terra")
    parser.add_argument(
        "--output-format", choices=["text", "json", "stream-json"], default="text", help="headless output format"
    )
    parser.add_argument("--max-parallel", type=int, metavar="N", help="read-only tools at once (1 = sequential)")
    parser.add_argument("--yolo", action="store_true", help="run writes and bash without asking")
    parser.add_argument(
        "--measure-batches", action="store_true",
        help="headless: after the answer, re-run each read-only batch of 2+ calls one at a time and all at "
        "once (3 runs each) and report the measured speedup",
    )
    parser.add_argument("--setup", action="store_true", help="open the setup screen (provider, key, model)")
    parser.add_argument("--resume", nargs="?", const="", metavar="ID", help="resume a session (list if no ID)")
    parser.add_argument("--continue", dest="continue_", action="store_true", help="resume the latest session here")
    parser.add_argument("--cwd", help="project root (default: the current directory)")
    parser.add_argument("--mcp-config", metavar="FILE", help="start the MCP servers in FILE ({\"mcpServers\": ...})")
    parser.add_argument("--allow-project-mcp", action="store_true",
                        help="headless: start the servers of the project's .mcp.json without asking")
    return parser


OWN_LOGGERS = ("tunacode", "tunacode_tui")
SDK_LOGGERS = ("openai", "anthropic", "httpx", "httpx2")
# The SDKs' debug lines that name a request and its outcome; the rest of their debug output is dropped.
SDK_REQUEST_LINES = ("Sending HTTP Request", "HTTP Response", "HTTP Request", "Retrying request")


def _setup_logging(secrets: list[str]) -> None:
    """``LOG_LEVEL`` sends logs to a file in the platformdirs log dir, never to the terminal."""
    import logging

    level = os.environ.get("LOG_LEVEL", "").upper()
    if not level:
        # Without this, Python's last-resort handler would print warnings and tracebacks over the TUI.
        for name in OWN_LOGGERS:
            logging.getLogger(name).addHandler(logging.NullHandler())
        return

    from tunacode_tui.config.paths import log_dir

    directory = log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    from tunacode_tui.session.redact import mask_secrets

    class _MaskSecrets(logging.Filter):
        """SDK debug logs echo requests; keys must not reach the file."""

        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = mask_secrets(record.getMessage(), secrets)
            record.args = None
            return True

    class _OwnAndRequests(logging.Filter):
        """Our own records at any level; from the SDKs and their HTTP client, only what says which request
        went out and how it ended (their debug dumps of every option are noise)."""

        def filter(self, record: logging.LogRecord) -> bool:
            if record.name.startswith("tunacode") or record.levelno >= logging.INFO:
                return True
            return record.getMessage().startswith(SDK_REQUEST_LINES)

    log_file = directory / "tunacode.log"
    # Logs hold requests, paths and tool output: readable by the user only (os.open applies the mode on
    # creation; chmod fixes a file an older version created 0644).
    os.close(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(log_file, 0o600)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_OwnAndRequests())
    handler.addFilter(_MaskSecrets())
    chosen = getattr(logging, level, logging.INFO)
    # Everyone else (markdown-it, asyncio, Textual) stays at WARNING: their debug records are not even made.
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    for name in OWN_LOGGERS + SDK_LOGGERS:
        logging.getLogger(name).setLevel(chosen)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pathlib import Path

    from tunacode_tui.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"tunacode: {exc}", file=sys.stderr)
        return 2
    from tunacode_tui.config.key_capture import capture_keys

    capture_keys(config)  # before any tool runs: bash must not find the keys in /proc/$PPID/environ
    _setup_logging(config.secrets())
    if args.max_parallel is not None:
        if args.max_parallel < 1:
            print("tunacode: --max-parallel must be 1 or more", file=sys.stderr)
            return 2
        config.settings.max_parallel = args.max_parallel
        config.sources["settings.max_parallel"] = "cli"  # for this run only: never saved
    root = Path(args.cwd).expanduser().resolve() if args.cwd else Path.cwd()
    if not root.is_dir():
        print(f"tunacode: --cwd {args.cwd}: no such folder", file=sys.stderr)
        return 2
    if args.prompt == "-":
        # Undecodable bytes survive as surrogates here and are escaped on their way into the history.
        args.prompt = sys.stdin.buffer.read().decode("utf-8", errors="surrogateescape")
    if args.prompt is not None:
        if not args.prompt.strip():
            print("tunacode: the prompt is empty: pass the request after -p", file=sys.stderr)
            return 2
        import asyncio

        from tunacode_tui.headless import run_headless

        return asyncio.run(
            run_headless(config, args.prompt, model=args.model, fmt=args.output_format, yolo=args.yolo, root=root,
                         resume=args.resume or None, continue_latest=args.continue_,
                         measure_batches=args.measure_batches,
                         mcp_config=Path(args.mcp_config).expanduser() if args.mcp_config else None,
                         allow_project_mcp=args.allow_project_mcp)
        )
    if not sys.stdin.isatty():
        # The full-screen app needs a terminal; piped input would leave it waiting for keys forever.
        print("tunacode: stdin is not a terminal, so the full-screen app cannot start. To run headless, pass "
              "the prompt with -p \"...\", or pipe it in with -p -.", file=sys.stderr)
        return 2
    from tunacode_tui.ui.app import run_app

    return run_app(config, model=args.model, root=root, setup=args.setup, yolo=args.yolo,
                   resume=args.resume, continue_latest=args.continue_,
                   mcp_config=Path(args.mcp_config).expanduser() if args.mcp_config else None)
