"""Asking an endpoint how large a context it accepts, so the gauge and compaction use the server's real window.

Local servers almost always run below the model's training context (``llama-server -c 4096`` for a model
trained on 8,192), and a request over the *configured* window is refused. So what the server will accept is
preferred over what the model could do:

- llama.cpp: ``GET /v1/models`` → ``meta.n_ctx`` (the slot context), then ``GET /props`` →
  ``default_generation_settings.n_ctx``; ``meta.n_ctx_train`` only when neither is reported
  (tools/server/server-context.cpp, ``get_res_model_info`` and ``get_res_props``).
- vLLM: ``GET /v1/models`` → ``max_model_len`` (vllm/entrypoints/openai/protocol.py, ``ModelCard``).
- OpenRouter: ``GET /v1/models`` → ``context_length`` (then ``top_provider.context_length``).
- Ollama: ``POST /api/show`` → ``num_ctx`` in ``parameters`` when the model sets it, else
  ``model_info["<arch>.context_length"]`` (docs/api.md, "Show Model Information").
- LM Studio: ``GET /api/v0/models`` → ``loaded_context_length`` of the loaded model, else ``max_context_length``
  (LM Studio docs, "LM Studio REST API (beta)").

Everything is best effort: any failure means "not reported" and the catalog default applies. The HTTP calls
go through the adapter's SDK client (its headers, key and timeout), passed in as two small callables.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

GetJson = Callable[[str], Awaitable[object]]
PostJson = Callable[[str, dict[str, Any]], Awaitable[object]]

# Hosted APIs: their /v1/models is authoritative, and probing llama.cpp/Ollama/LM Studio routes there is noise.
_HOSTED = ("api.openai.com", "api.anthropic.com", "openrouter.ai")
# Fields that state what the server accepts (first found wins), then fields that only state what the model
# could take. ``meta`` is llama.cpp's nested block.
_ACCEPTED = ("max_model_len", "loaded_context_length", "meta.n_ctx", "context_length", "top_provider.context_length",
             "context_window")
_FALLBACK = ("max_context_length", "meta.n_ctx_train")
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.MULTILINE)


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _field(entry: Mapping[str, Any], dotted: str) -> int | None:
    value: object = entry
    for key in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return _positive(value)


def window_from_entry(entry: Mapping[str, Any]) -> tuple[int | None, bool]:
    """(window, accepted): ``accepted`` is False when only a model maximum (not the server's setting) was found."""
    for name in _ACCEPTED:
        value = _field(entry, name)
        if value:
            return value, True
    for name in _FALLBACK:
        value = _field(entry, name)
        if value:
            return value, False
    return None, False


def pick_entry(entries: object, model: str, *, lone_counts: bool) -> Mapping[str, Any] | None:
    """The entry for ``model``; a server serving a single model (llama.cpp answers to any name) gives that one."""
    if not isinstance(entries, list):
        return None
    usable = [e for e in entries if isinstance(e, Mapping)]
    for entry in usable:
        if model in (entry.get("id"), entry.get("name"), entry.get("model")):
            return entry
    if lone_counts and len(usable) == 1:
        return usable[0]
    return None


def ollama_window(show: object) -> tuple[int | None, bool]:
    """From ``/api/show``: ``num_ctx`` when the model (Modelfile) sets it, else the model's context length."""
    if not isinstance(show, Mapping):
        return None, False
    parameters = show.get("parameters")
    if isinstance(parameters, str):
        match = _NUM_CTX.search(parameters)
        if match:
            return int(match.group(1)), True
    info = show.get("model_info")
    if isinstance(info, Mapping):
        for key, value in info.items():
            if isinstance(key, str) and key.endswith(".context_length") and _positive(value):
                return int(value), True  # what Ollama loads when num_ctx is not set
    return None, False


def _roots(base_url: str) -> tuple[str, str]:
    """(server root, OpenAI-style /v1 base) for a base URL given either way."""
    base = base_url.rstrip("/")
    root = base[: -len("/v1")] if base.endswith("/v1") else base
    return root, root + "/v1"


async def discover(model: str, *, base_url: str, get: GetJson, post: PostJson) -> int | None:
    """The context window the endpoint at ``base_url`` accepts for ``model``, or None if it does not say."""
    root, v1 = _roots(base_url)
    hosted = urlsplit(base_url).hostname in _HOSTED
    fallback: int | None = None

    def better(found: tuple[int | None, bool]) -> int | None:
        nonlocal fallback
        value, accepted = found
        if value and accepted:
            return value
        fallback = fallback or value
        return None

    listing = await _try(get(v1 + "/models"))
    if isinstance(listing, Mapping):
        entry = pick_entry(listing.get("data"), model, lone_counts=not hosted)
        if entry is not None and (value := better(window_from_entry(entry))):
            return value
    if hosted:
        return fallback
    props = await _try(get(root + "/props"))  # llama.cpp
    if isinstance(props, Mapping):
        settings = props.get("default_generation_settings")
        if isinstance(settings, Mapping) and (value := _positive(settings.get("n_ctx"))):
            return value
    show = await _try(post(root + "/api/show", {"model": model}))  # Ollama
    if (value := better(ollama_window(show))):
        return value
    lmstudio = await _try(get(root + "/api/v0/models"))  # LM Studio
    if isinstance(lmstudio, Mapping):
        entry = pick_entry(lmstudio.get("data"), model, lone_counts=True)
        if entry is not None and (value := better(window_from_entry(entry))):
            return value
    return fallback


async def _try(call: Awaitable[object]) -> object:
    with contextlib.suppress(Exception):
        return await call
    return None
