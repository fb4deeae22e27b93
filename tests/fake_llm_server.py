"""A scripted LLM server on 127.0.0.1 speaking the real OpenAI Chat Completions and Anthropic Messages wire.

The real SDKs talk to it over real HTTP, so tests exercise the adapters, the retry loop and the agent exactly
as in production. It runs in a background thread, so it serves pytest-asyncio tests, Textual ``run_test()``
apps and CLIs started with ``subprocess`` alike.

Builder API (import from ``tests.fake_llm_server``)
----------------------------------------------------
``server.add(*items, delay=0.0, chunk_size=None) -> Reply`` queues one reply; replies are served in order,
whichever API asks (``POST /v1/chat/completions`` renders it as OpenAI, ``POST /v1/messages`` as Anthropic).

Content, rendered in the order given:
    text("Hello")                                     assistant text
    thinking("Let me look", signature="sig-1")        reasoning: Anthropic thinking block (+ signature_delta),
                                                      OpenAI ``reasoning_content`` delta (field="reasoning" too)
    redacted_thinking("opaque")                       Anthropic redacted_thinking block (skipped for OpenAI)
    tool_call("read_file", {"file_path": "a.py"})     one tool call; several in a reply are parallel calls
    tool_call("read_file", raw='{"file_pa')           arguments sent verbatim (may be invalid JSON)
    malformed_tool_json("read_file")                  shorthand for a call with broken JSON arguments
Metadata:
    usage(input=100, output=20, cache_read=0, cache_write=0)   ``input`` is uncached input; OpenAI gets
                                                      prompt_tokens = input + cache_read + cache_write
    stop("max_tokens")                                override the stop reason (neutral name)
Faults:
    status(429, headers={"retry-after": "1"}, message=..., error_code=..., body=...)   an error response
    drop_after(3)                                     send 3 SSE events, then close the socket
    hang(after_events=None)                           never answer (or go silent after n events)
    error_event(after_events=2, message=..., kind="overloaded_error")   error inside the 200 stream
Options of ``add``: ``delay`` seconds between SSE events (streaming-overlap tests); ``chunk_size`` characters
per text/argument delta (``None``: one delta per item).

Inspecting: ``server.requests`` (``RecordedRequest`` with ``.api``, ``.path``, ``.headers``, ``.body``, ``.peer``),
``server.last_body``, ``server.wait_for_requests(n)``. ``server.models`` is what ``GET /v1/models`` lists;
``server.json_routes`` maps other exact paths to fixed JSON answers (llama.cpp ``/props``, Ollama ``/api/show``,
LM Studio ``/api/v0/models``). URLs: ``server.openai_base_url`` (``…/v1``) and ``server.anthropic_base_url``.
When the script runs out the server answers 400 "no scripted reply left",
unless ``server.default_reply`` is set.

Example::

    def test_two_reads(llm_server):
        llm_server.add(
            tool_call("read_file", {"file_path": "a.py"}),
            tool_call("read_file", {"file_path": "b.py"}),
            usage(input=120, output=30),
            chunk_size=4, delay=0.01,
        )
        llm_server.add(text("Both files read."))
        provider = OpenAIChatProvider(api_key="sk-test", base_url=llm_server.openai_base_url)
        ...
        assert llm_server.requests[1].body["messages"][-1]["role"] == "tool"
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Api = Literal["openai", "anthropic"]

# ---------------------------------------------------------------------------------------------- builders


@dataclass(slots=True)
class Text:
    text: str


@dataclass(slots=True)
class Thinking:
    text: str
    signature: str | None = None
    field: str = "reasoning_content"


@dataclass(slots=True)
class RedactedThinking:
    data: str


@dataclass(slots=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] | None = None
    id: str | None = None
    raw: str | None = None

    @property
    def raw_arguments(self) -> str:
        return self.raw if self.raw is not None else json.dumps(self.arguments or {})


@dataclass(slots=True)
class UsageSpec:
    input: int = 10
    output: int = 5
    cache_read: int = 0
    cache_write: int = 0


@dataclass(slots=True)
class Stop:
    reason: str


@dataclass(slots=True)
class Status:
    code: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    error_code: str | None = None
    body: Any = None


@dataclass(slots=True)
class DropAfter:
    events: int


@dataclass(slots=True)
class Hang:
    after_events: int | None = None


@dataclass(slots=True)
class CutAfter:
    """Close the stream cleanly (a proper end of body) after this many frames: no finish, no [DONE]."""

    events: int


@dataclass(slots=True)
class RawBody:
    """Answer 200 with this body instead of an event stream (a proxy page, a JSON error, a wrong URL)."""

    body: str
    content_type: str = "text/html"


@dataclass(slots=True)
class KeepAlive:
    """After ``after_events`` frames, send only keep-alives every ``every`` seconds until the server stops:
    SSE comments (OpenAI/OpenRouter, ``: OPENROUTER PROCESSING``) or ``ping`` events (Anthropic)."""

    after_events: int
    every: float


@dataclass(slots=True)
class ErrorEvent:
    after_events: int
    message: str
    kind: str


Content = Text | Thinking | RedactedThinking | ToolCall
Item = Content | UsageSpec | Stop | Status | DropAfter | Hang | ErrorEvent | CutAfter | RawBody | KeepAlive


def text(value: str) -> Text:
    return Text(value)


def thinking(value: str, *, signature: str | None = None, field: str = "reasoning_content") -> Thinking:
    return Thinking(value, signature, field)


def redacted_thinking(data: str) -> RedactedThinking:
    return RedactedThinking(data)


def tool_call(name: str, arguments: dict[str, Any] | None = None, *, id: str | None = None,
              raw: str | None = None) -> ToolCall:
    return ToolCall(name, arguments, id, raw)


def malformed_tool_json(name: str = "read_file", raw: str = '{"file_path": "a.py"', *,
                        id: str | None = None) -> ToolCall:
    return ToolCall(name, None, id, raw)


def usage(input: int = 10, output: int = 5, cache_read: int = 0, cache_write: int = 0) -> UsageSpec:
    return UsageSpec(input, output, cache_read, cache_write)


def stop(reason: str) -> Stop:
    return Stop(reason)


def status(code: int, *, headers: dict[str, str] | None = None, message: str | None = None,
           error_code: str | None = None, body: Any = None) -> Status:
    """An HTTP error reply. ``error_code`` is OpenAI's ``error.code`` / Anthropic's ``error.type``;
    ``body`` (dict or str) replaces the API-shaped default body entirely."""
    return Status(code, dict(headers or {}), message, error_code, body)


def drop_after(events: int) -> DropAfter:
    return DropAfter(events)


def hang(after_events: int | None = None) -> Hang:
    return Hang(after_events)


def cut_after(events: int) -> CutAfter:
    return CutAfter(events)


def raw_body(body: str, content_type: str = "text/html") -> RawBody:
    return RawBody(body, content_type)


def keep_alive(after_events: int = 1, every: float = 0.05) -> KeepAlive:
    return KeepAlive(after_events, every)


def error_event(after_events: int = 0, *, message: str = "Overloaded", kind: str = "overloaded_error") -> ErrorEvent:
    """An error reported inside a 200 stream after ``after_events`` events, then the stream ends.

    Anthropic: ``event: error`` with ``{"type": "error", "error": {"type": kind, ...}}``; OpenAI/OpenRouter:
    ``data: {"error": {"message": ..., "code": kind}}``.
    """
    return ErrorEvent(after_events, message, kind)


@dataclass(slots=True)
class Reply:
    """One scripted response, renderable in either API's format."""

    content: list[Content] = field(default_factory=list)
    usage: UsageSpec = field(default_factory=UsageSpec)
    stop_reason: str | None = None
    status: Status | None = None
    drop_after: int | None = None
    hang: Hang | None = None
    error_event: ErrorEvent | None = None
    cut_after: int | None = None
    raw_body: RawBody | None = None
    keep_alive: KeepAlive | None = None
    delay: float = 0.0
    chunk_size: int | None = None
    usage_given: bool = False

    @classmethod
    def build(cls, items: tuple[Item, ...], *, delay: float = 0.0, chunk_size: int | None = None) -> Reply:
        reply = cls(delay=delay, chunk_size=chunk_size)
        for item in items:
            if isinstance(item, Text | Thinking | RedactedThinking | ToolCall):
                reply.content.append(item)
            elif isinstance(item, UsageSpec):
                reply.usage = item
                reply.usage_given = True
            elif isinstance(item, Stop):
                reply.stop_reason = item.reason
            elif isinstance(item, Status):
                reply.status = item
            elif isinstance(item, DropAfter):
                reply.drop_after = item.events
            elif isinstance(item, Hang):
                reply.hang = item
            elif isinstance(item, ErrorEvent):
                reply.error_event = item
            elif isinstance(item, CutAfter):
                reply.cut_after = item.events
            elif isinstance(item, RawBody):
                reply.raw_body = item
            elif isinstance(item, KeepAlive):
                reply.keep_alive = item
            else:
                raise TypeError(f"not a reply item: {item!r}")
        return reply

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [item for item in self.content if isinstance(item, ToolCall)]

    def neutral_stop(self) -> str:
        return self.stop_reason or ("tool_use" if self.tool_calls else "end_turn")


@dataclass(slots=True)
class RecordedRequest:
    api: Api
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    peer: tuple[str, int] = ("", 0)  # client address: equal ports mean a reused keep-alive connection


# ---------------------------------------------------------------------------------------------- rendering


def _pieces(value: str, size: int | None) -> list[str]:
    if not value:
        return []
    if not size or size <= 0:
        return [value]
    return [value[i : i + size] for i in range(0, len(value), size)]


def _call_id(api: Api, reply_no: int, index: int, call: ToolCall) -> str:
    if call.id:
        return call.id
    return f"{'call' if api == 'openai' else 'toolu'}_{reply_no}_{index}"


_OPENAI_STOP = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


def _openai_usage(spec: UsageSpec) -> dict[str, Any]:
    prompt = spec.input + spec.cache_read + spec.cache_write
    details: dict[str, Any] = {"cached_tokens": spec.cache_read, "audio_tokens": 0}
    if spec.cache_write:
        details["cache_write_tokens"] = spec.cache_write
    return {
        "prompt_tokens": prompt,
        "completion_tokens": spec.output,
        "total_tokens": prompt + spec.output,
        "prompt_tokens_details": details,
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def render_openai_stream(reply: Reply, *, model: str, reply_no: int, include_usage: bool) -> list[str]:
    """The SSE ``data:`` payloads of one streamed chat completion (``[DONE]`` included)."""
    created = int(time.time())
    base = {"id": f"chatcmpl-fake{reply_no}", "object": "chat.completion.chunk", "created": created,
            "model": model, "system_fingerprint": "fp_fake"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        payload = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if include_usage:
            payload["usage"] = None
        return json.dumps(payload)

    out = [chunk({"role": "assistant", "content": "", "refusal": None})]
    tool_index = 0
    for item in reply.content:
        if isinstance(item, Text):
            out.extend(chunk({"content": piece}) for piece in _pieces(item.text, reply.chunk_size))
        elif isinstance(item, Thinking):
            out.extend(chunk({item.field: piece}) for piece in _pieces(item.text, reply.chunk_size))
        elif isinstance(item, ToolCall):
            head = {"index": tool_index, "id": _call_id("openai", reply_no, tool_index, item), "type": "function",
                    "function": {"name": item.name, "arguments": ""}}
            out.append(chunk({"tool_calls": [head]}))
            for piece in _pieces(item.raw_arguments, reply.chunk_size):
                out.append(chunk({"tool_calls": [{"index": tool_index, "function": {"arguments": piece}}]}))
            tool_index += 1
    out.append(chunk({}, _OPENAI_STOP.get(reply.neutral_stop(), reply.neutral_stop())))
    if include_usage:
        out.append(json.dumps({**base, "choices": [], "usage": _openai_usage(reply.usage)}))
    out.append("[DONE]")
    return out


def render_openai_json(reply: Reply, *, model: str, reply_no: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    texts = [item.text for item in reply.content if isinstance(item, Text)]
    if texts:
        message["content"] = "".join(texts)
    for item in reply.content:
        if isinstance(item, Thinking):
            message[item.field] = message.get(item.field, "") + item.text
    calls = reply.tool_calls
    if calls:
        message["tool_calls"] = [
            {"id": _call_id("openai", reply_no, i, call), "type": "function",
             "function": {"name": call.name, "arguments": call.raw_arguments}}
            for i, call in enumerate(calls)
        ]
    return {
        "id": f"chatcmpl-fake{reply_no}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": _OPENAI_STOP.get(reply.neutral_stop(), reply.neutral_stop())}],
        "usage": _openai_usage(reply.usage),
    }


def _anthropic_usage(spec: UsageSpec, *, output: int) -> dict[str, Any]:
    return {"input_tokens": spec.input, "cache_creation_input_tokens": spec.cache_write,
            "cache_read_input_tokens": spec.cache_read, "output_tokens": output}


def _signature(item: Thinking, reply_no: int, index: int) -> str:
    return item.signature if item.signature is not None else f"sig_{reply_no}_{index}"


def render_anthropic_stream(reply: Reply, *, model: str, reply_no: int) -> list[tuple[str, str]]:
    """The SSE ``(event, data)`` pairs of one streamed message."""
    out: list[tuple[str, str]] = []

    def emit(event: str, payload: dict[str, Any]) -> None:
        out.append((event, json.dumps({"type": event, **payload})))

    emit("message_start", {"message": {
        "id": f"msg_fake{reply_no}", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": _anthropic_usage(reply.usage, output=1)}})
    emit("ping", {})
    tool_index = 0
    for index, item in enumerate(reply.content):
        if isinstance(item, Text):
            emit("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            for piece in _pieces(item.text, reply.chunk_size):
                emit("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": piece}})
        elif isinstance(item, Thinking):
            emit("content_block_start",
                 {"index": index, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
            for piece in _pieces(item.text, reply.chunk_size):
                emit("content_block_delta",
                     {"index": index, "delta": {"type": "thinking_delta", "thinking": piece}})
            emit("content_block_delta", {"index": index, "delta": {
                "type": "signature_delta", "signature": _signature(item, reply_no, index)}})
        elif isinstance(item, RedactedThinking):
            emit("content_block_start",
                 {"index": index, "content_block": {"type": "redacted_thinking", "data": item.data}})
        elif isinstance(item, ToolCall):
            emit("content_block_start", {"index": index, "content_block": {
                "type": "tool_use", "id": _call_id("anthropic", reply_no, tool_index, item), "name": item.name,
                "input": {}}})
            emit("content_block_delta",
                 {"index": index, "delta": {"type": "input_json_delta", "partial_json": ""}})
            for piece in _pieces(item.raw_arguments, reply.chunk_size):
                emit("content_block_delta",
                     {"index": index, "delta": {"type": "input_json_delta", "partial_json": piece}})
            tool_index += 1
        emit("content_block_stop", {"index": index})
    emit("message_delta", {"delta": {"stop_reason": reply.neutral_stop(), "stop_sequence": None},
                           "usage": {"output_tokens": reply.usage.output}})
    emit("message_stop", {})
    return out


def render_anthropic_json(reply: Reply, *, model: str, reply_no: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    tool_index = 0
    for index, item in enumerate(reply.content):
        if isinstance(item, Text):
            content.append({"type": "text", "text": item.text})
        elif isinstance(item, Thinking):
            content.append({"type": "thinking", "thinking": item.text,
                            "signature": _signature(item, reply_no, index)})
        elif isinstance(item, RedactedThinking):
            content.append({"type": "redacted_thinking", "data": item.data})
        elif isinstance(item, ToolCall):
            try:
                parsed = json.loads(item.raw_arguments)
            except json.JSONDecodeError:
                parsed = {}
            content.append({"type": "tool_use", "id": _call_id("anthropic", reply_no, tool_index, item),
                            "name": item.name, "input": parsed})
            tool_index += 1
    return {"id": f"msg_fake{reply_no}", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": reply.neutral_stop(), "stop_sequence": None,
            "usage": _anthropic_usage(reply.usage, output=reply.usage.output)}


_DEFAULT_MESSAGES = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "Incorrect API key provided."),
    402: ("billing_error", "Insufficient credits."),
    403: ("permission_error", "Your key does not have access to this model."),
    404: ("not_found_error", "The model does not exist or you do not have access to it."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Rate limit reached for requests."),
    500: ("api_error", "The server had an error while processing your request."),
    503: ("api_error", "The service is temporarily unavailable."),
    529: ("overloaded_error", "Overloaded."),
}


def render_error(fault: Status, api: Api) -> bytes:
    if fault.body is not None:
        raw = fault.body if isinstance(fault.body, str) else json.dumps(fault.body)
        return raw.encode()
    kind, default = _DEFAULT_MESSAGES.get(fault.code, ("api_error" if fault.code >= 500 else "invalid_request_error",
                                                       f"HTTP {fault.code}"))
    message = fault.message or default
    if api == "openai":
        payload: dict[str, Any] = {"error": {"message": message, "type": kind, "param": None,
                                             "code": fault.error_code}}
    else:
        payload = {"type": "error", "error": {"type": fault.error_code or kind, "message": message}}
    return json.dumps(payload).encode()


# ---------------------------------------------------------------------------------------------- server


def prompt_tokens(body: dict[str, Any]) -> int:
    """The fake's token count of a request: the characters of its system, messages and tools, divided by 4."""
    parts = [body.get("system"), body.get("messages"), body.get("tools")]
    return len(json.dumps([p for p in parts if p], ensure_ascii=False)) // 4


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        """``GET /v1/models``: the model list, with whatever context-length fields the test set."""
        path = self.path.split("?", 1)[0]
        if path in self.server.owner.json_routes:
            self._send_json(200, self.server.owner.json_routes[path])
            return
        if path.endswith("/models"):
            self._send_json(200, {"object": "list", "data": [
                {"object": "model", "owned_by": "fake", "created": 0, **m} for m in self.server.owner.models]})
            return
        self._send_json(404, {"error": {"message": f"fake_llm_server: no route {path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode(errors="replace")}
        path = self.path.split("?", 1)[0]
        if path in self.server.owner.json_routes:
            self.server.owner.route_bodies.append((path, body))
            self._send_json(200, self.server.owner.json_routes[path])
            return
        if path.endswith("/chat/completions"):
            api: Api = "openai"
        elif path.endswith("/messages"):
            api = "anthropic"
        else:
            self._send_json(404, {"error": {"message": f"fake_llm_server: no route {path}"}})
            return
        owner = self.server.owner
        owner._record(RecordedRequest(api, path, {k.lower(): v for k, v in self.headers.items()}, body,
                                      (str(self.client_address[0]), int(self.client_address[1]))))
        if owner.expected_api_key is not None and not self._key_ok(owner.expected_api_key):
            self._send_raw(401, render_error(Status(401), api), {})
            return
        if owner.context_limit is not None:
            # As llama-server does: prompt + max_tokens is not checked, the prompt alone is, before any reply.
            prompt = prompt_tokens(body)
            if prompt >= owner.context_limit:
                owner.refused += 1
                self._send_json(400, {"error": {
                    "code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": prompt,
                    "n_ctx": owner.context_limit,
                    "message": f"request ({prompt} tokens) exceeds the available context size "
                               f"({owner.context_limit} tokens), try increasing it"}})
                return
        reply_no, reply = owner._next_reply()
        if reply is None:
            self._send_raw(400, render_error(Status(400, message=(
                f"fake_llm_server: no scripted reply left for request #{reply_no}")), api), {})
            return
        if owner.context_limit is not None and not reply.usage_given:
            # A window-enforcing server also reports real-looking usage: the prompt as it counted it.
            written = sum(len(getattr(c, "text", "") or "") + len(getattr(c, "raw_arguments", "") or "")
                          for c in reply.content)
            reply = dataclasses.replace(reply, usage=UsageSpec(input=prompt_tokens(body), output=written // 4 + 1))
        model = str(body.get("model", "fake-model"))
        if reply.status is not None:
            self._send_raw(reply.status.code, render_error(reply.status, api), reply.status.headers)
            return
        if reply.raw_body is not None:
            self._send_raw(200, reply.raw_body.body.encode(), {"content-type": reply.raw_body.content_type})
            return
        if reply.hang is not None and reply.hang.after_events is None:
            owner._stopping.wait()
            self.close_connection = True
            return
        if not body.get("stream"):
            payload = (render_openai_json(reply, model=model, reply_no=reply_no) if api == "openai"
                       else render_anthropic_json(reply, model=model, reply_no=reply_no))
            self._send_json(200, payload)
            return
        if api == "openai":
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            frames = [f"data: {data}\n\n" for data in
                      render_openai_stream(reply, model=model, reply_no=reply_no, include_usage=include_usage)]
        else:
            frames = [f"event: {event}\ndata: {data}\n\n"
                      for event, data in render_anthropic_stream(reply, model=model, reply_no=reply_no)]
        if reply.error_event is not None:
            fault = reply.error_event
            if api == "openai":
                error_frame = f"data: {json.dumps({'error': {'message': fault.message, 'code': fault.kind}})}\n\n"
            else:
                payload = {"type": "error", "error": {"type": fault.kind, "message": fault.message}}
                error_frame = f"event: error\ndata: {json.dumps(payload)}\n\n"
            frames = [*frames[: fault.after_events], error_frame]
        if reply.cut_after is not None:
            frames = frames[: reply.cut_after]
        self._stream(frames, reply, api)

    def _key_ok(self, expected: str) -> bool:
        # OpenAI sends a bearer token; Anthropic SDKs send x-api-key (1.x) or a bearer token (2.x).
        return (self.headers.get("authorization", "") == f"Bearer {expected}"
                or self.headers.get("x-api-key", "") == expected)

    def _send_json(self, code: int, payload: Any) -> None:
        self._send_raw(code, json.dumps(payload).encode(), {})

    def _send_raw(self, code: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(code)
        if not any(name.lower() == "content-type" for name in headers):
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, frames: list[str], reply: Reply, api: Api) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        stopping = self.server.owner._stopping
        try:
            for sent, frame in enumerate(frames):
                if reply.drop_after is not None and sent >= reply.drop_after:
                    self._drop()
                    return
                if reply.hang is not None and reply.hang.after_events is not None \
                        and sent >= reply.hang.after_events:
                    stopping.wait()
                    self._drop()
                    return
                if reply.keep_alive is not None and sent >= reply.keep_alive.after_events:
                    self._keep_alive(reply.keep_alive, api)
                    return
                if sent and reply.delay and stopping.wait(reply.delay):
                    return
                data = frame.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _keep_alive(self, fault: KeepAlive, api: Api) -> None:
        frame = (": OPENROUTER PROCESSING\n\n" if api == "openai"
                 else 'event: ping\ndata: {"type": "ping"}\n\n').encode()
        while not self.server.owner._stopping.wait(fault.every):
            self.wfile.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
            self.wfile.flush()
        self._drop()

    def _drop(self) -> None:
        """Close the socket without the final chunk: the client sees an incomplete body, as on a real drop."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: FakeLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, drops, Esc) are expected here; only real bugs are worth printing.
        if isinstance(sys.exc_info()[1], OSError) or self.owner._stopping.is_set():
            return
        super().handle_error(request, client_address)


class FakeLLMServer:
    """The scripted server. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(self, *, expected_api_key: str | None = None) -> None:
        self.expected_api_key = expected_api_key
        self.default_reply: Reply | None = None
        # What ``GET /v1/models`` lists, e.g. [{"id": "local", "max_model_len": 32768}] as vLLM reports it.
        self.models: list[dict[str, Any]] = []
        # Other fixed JSON answers by exact path, GET or POST: {"/props": {...}} as llama.cpp serves it,
        # {"/api/show": {...}} as Ollama does, {"/api/v0/models": {...}} as LM Studio does.
        self.json_routes: dict[str, Any] = {}
        self.route_bodies: list[tuple[str, Any]] = []  # (path, body) of each POST to a json_routes path
        # A context window enforced like llama-server: a request whose prompt (``prompt_tokens``: characters / 4)
        # reaches it is refused with llama.cpp's exceed_context_size_error, without using up a scripted reply.
        self.context_limit: int | None = None
        self.refused = 0
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._served = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> FakeLLMServer:
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-llm-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hung handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    # -- scripting
    def add(self, *items: Item, delay: float = 0.0, chunk_size: int | None = None) -> Reply:
        """Queue one reply built from ``items`` (see the module docstring)."""
        reply = Reply.build(items, delay=delay, chunk_size=chunk_size)
        with self._lock:
            self._script.append(reply)
        return reply

    def add_reply(self, reply: Reply) -> Reply:
        with self._lock:
            self._script.append(reply)
        return reply

    @property
    def pending(self) -> int:
        """Replies not served yet."""
        with self._lock:
            return len(self._script)

    # -- inspecting
    @property
    def last_body(self) -> dict[str, Any]:
        return self.requests[-1].body

    def bodies(self) -> Iterator[dict[str, Any]]:
        return (request.body for request in list(self.requests))

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests arrived (from async code: ``await asyncio.to_thread(...)``)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self.requests)}")
            return list(self.requests)

    def _record(self, request: RecordedRequest) -> None:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()

    def _next_reply(self) -> tuple[int, Reply | None]:
        with self._lock:
            number = self._served
            self._served += 1
            if self._script:
                return number, self._script.popleft()
            return number, self.default_reply
