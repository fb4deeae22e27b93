"""Chat Completions adapter for OpenAI, OpenRouter and OpenAI-compatible servers (Ollama, vLLM, llama.cpp).

Importing this module imports the ``openai`` SDK (~0.5 s), so the registry loads it only when a model of
one of these providers is first used.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import openai

from tunacode_tui.core.messages import (
    Message,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    Usage,
    decode_arguments,
)
from tunacode_tui.core.stream import (
    StreamEnded,
    StreamEvent,
    TextChunk,
    ThinkingChunk,
    ToolCallArgsChunk,
    ToolCallBegan,
    ToolCallReady,
    UsageReported,
)
from tunacode_tui.providers.adapter_base import SdkAdapter
from tunacode_tui.providers.base import ChatRequest
from tunacode_tui.providers.error_map import ErrorContext, map_error
from tunacode_tui.providers.errors import ProviderError, StreamInterrupted

_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "function_call": "tool_use", "length": "max_tokens"}
# Models that take instructions in a ``developer`` message (the SDK types say: "With o1 models and newer").
_DEVELOPER_ROLE_PREFIXES = ("o1", "o3", "o4", "gpt-5")
# Reasoning text arrives under different names: DeepSeek/vLLM use reasoning_content, OpenRouter reasoning.
_REASONING_FIELDS = ("reasoning_content", "reasoning")


class OpenAIChatProvider(SdkAdapter):
    """One ``AsyncOpenAI`` client for one (provider, base URL, key); ``stream`` yields neutral events."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.openai.com/v1",
        provider: str = "openai",
        timeout: float = 600.0,
        extra_headers: Mapping[str, str] | None = None,
        key_env: str | None = None,
    ) -> None:
        super().__init__(api_key=api_key, base_url=base_url, provider=provider, timeout=timeout, key_env=key_env)
        # Some compatible servers reject stream_options; remember it so only the first request pays.
        self._send_stream_options = True
        self._client = openai.AsyncOpenAI(**self._client_options(openai.Timeout, extra_headers))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Send ``request`` and yield its events; failures are raised as typed ``ProviderError``s."""
        params = self.build_params(request)
        ctx = self._context(request.model)
        if not request.stream:
            try:
                completion = await self._client.chat.completions.create(**params, stream=False)
            except Exception as exc:
                raise map_error(exc, ctx) from exc
            for event in _completion_events(completion):
                yield event
            return

        sdk_stream = await self._open_stream(params, ctx)
        assembler = _StreamAssembler()
        try:
            async for event in self._progressing(sdk_stream, assembler.feed, ctx):
                yield event
        except ProviderError:
            raise
        except Exception as exc:
            raise map_error(exc, ctx, mid_stream=True) from exc
        finally:
            await sdk_stream.close()
        if assembler.finish_reason is None:
            # A clean close without finish_reason is a cut-off answer (a proxy timeout, a dropped
            # upstream), or a 200 body that was not an event stream at all: never take it as complete,
            # and never run a tool call from it. Retried when nothing of it was shown yet.
            raise StreamInterrupted(_unfinished_message(self.name, request.model, assembler, sdk_stream),
                                    provider=self.name)
        for event in assembler.finish():
            yield event

    async def _open_stream(self, params: dict[str, Any], ctx: ErrorContext) -> Any:
        with_options = self._send_stream_options
        while True:
            extra: dict[str, Any] = {"stream_options": {"include_usage": True}} if with_options else {}
            try:
                return await self._client.chat.completions.create(**params, stream=True, **extra)
            except openai.BadRequestError as exc:
                if with_options and "stream_options" in str(exc.body or exc.message):
                    with_options = self._send_stream_options = False
                    continue
                raise map_error(exc, ctx) from exc
            except Exception as exc:
                raise map_error(exc, ctx) from exc

    def build_params(self, request: ChatRequest) -> dict[str, Any]:
        """The Chat Completions parameters for ``request`` (without ``stream``), in wire format."""
        params: dict[str, Any] = {
            "model": request.model,
            "messages": to_openai_messages(request, developer_role=self._uses_developer_role(request.model)),
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in request.tools
            ]
        if request.max_tokens is not None:
            # OpenAI deprecated max_tokens (reasoning models refuse it); compatible servers mostly
            # only know max_tokens.
            key = "max_completion_tokens" if self.name == "openai" else "max_tokens"
            params[key] = request.max_tokens
        if request.reasoning and (self._uses_developer_role(request.model) or self.name != "openai"):
            # OpenAI accepts it only on reasoning models; OpenRouter and compatible servers pass it on.
            params["reasoning_effort"] = request.reasoning
        return params

    def _uses_developer_role(self, model: str) -> bool:
        return self.name == "openai" and model.startswith(_DEVELOPER_ROLE_PREFIXES)


def _unfinished_message(provider: str, model: str, assembler: _StreamAssembler, sdk_stream: Any) -> str:
    if assembler.chunks:
        return (f"The stream from {provider} (model '{model}') ended without a finish_reason, so the answer "
                "was cut off; any tool call in it was not run.")
    response = getattr(sdk_stream, "response", None)
    kind = response.headers.get("content-type", "unknown") if response is not None else "unknown"
    return (f"{provider} answered 200 but sent no events for model '{model}' (content-type: {kind}); the base "
            "URL may point at something that is not an OpenAI-compatible streaming API.")


def to_openai_messages(request: ChatRequest, *, developer_role: bool = False) -> list[dict[str, Any]]:
    """Translate the neutral history. Thinking is dropped: Chat Completions has no field to send it back."""
    system_role = "developer" if developer_role else "system"
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": system_role, "content": request.system})
    for message in request.messages:
        results = message.tool_results
        for result in results:
            content = result.content
            if result.is_error and not content.lower().startswith("error"):
                content = f"Error: {content}"
            out.append({"role": "tool", "tool_call_id": result.tool_call_id, "content": content})
        text = message.text
        if message.role == "system":
            out.append({"role": system_role, "content": text})
        elif message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": text or None}
            calls = message.tool_calls
            if calls:
                entry["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": _wire_arguments(call)},
                    }
                    for call in calls
                ]
            elif not text:
                entry["content"] = ""  # e.g. a reply that was only thinking; null content needs tool_calls
            out.append(entry)
        elif text or not results:
            out.append({"role": "user", "content": text})
    return out


def _wire_arguments(call: ToolCallPart) -> str:
    # A call the model botched is replayed as {} so the provider accepts the history; the tool result
    # already told the model what was wrong.
    if call.parse_error:
        return "{}"
    return call.raw_arguments or json.dumps(call.arguments)


def normalise_stop_reason(reason: str | None, has_tool_calls: bool) -> str:
    """Map finish_reason to the neutral names; some servers (older Ollama) say "stop" after tool calls."""
    if has_tool_calls and reason in (None, "stop", "tool_calls", "function_call"):
        return "tool_use"
    if reason is None:
        return "end_turn"
    return _STOP_REASONS.get(reason, reason)


def usage_from_openai(raw: Any) -> Usage:
    """Split prompt tokens into uncached input and cache reads/writes, as the neutral ``Usage`` counts them."""
    prompt = int(getattr(raw, "prompt_tokens", 0) or 0)
    completion = int(getattr(raw, "completion_tokens", 0) or 0)
    details = getattr(raw, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    written = int(getattr(details, "cache_write_tokens", 0) or 0) if details is not None else 0
    return Usage(
        input_tokens=max(0, prompt - cached - written),
        output_tokens=completion,
        cache_read_tokens=cached,
        cache_write_tokens=written,
    )


def _reasoning_of(obj: Any) -> str:
    extra = getattr(obj, "model_extra", None) or {}
    for name in _REASONING_FIELDS:
        value = extra.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


@dataclass(slots=True)
class _CallBuffer:
    index: int
    id: str = ""
    name: str = ""
    args: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # fragments seen before the name, replayed on begin
    began: bool = False
    ready: bool = False


class _StreamAssembler:
    """Fold chunks into neutral events and the final message.

    A call is ready when a chunk for a later call arrives, a finish_reason arrives, or the stream ends:
    models emit calls one after another, so that is the moment its arguments are complete.
    """

    def __init__(self) -> None:
        self.text: list[str] = []
        self.thinking: list[str] = []
        self.calls: dict[int, _CallBuffer] = {}
        self._wire_index: dict[int, int] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.chunks = 0

    def feed(self, chunk: Any) -> list[StreamEvent]:
        self.chunks += 1
        events: list[StreamEvent] = []
        if getattr(chunk, "usage", None) is not None:
            # Some servers repeat cumulative usage on every chunk: keep the last, report once at the end.
            self.usage = usage_from_openai(chunk.usage)
        for choice in chunk.choices or []:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta is not None:
                reasoning = _reasoning_of(delta)
                if reasoning:
                    self.thinking.append(reasoning)
                    events.append(ThinkingChunk(reasoning))
                if delta.content:
                    self.text.append(delta.content)
                    events.append(TextChunk(delta.content))
                for tool_delta in delta.tool_calls or []:
                    events.extend(self._feed_tool_delta(tool_delta))
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
                events.extend(self._ready_below(None))
        return events

    def _feed_tool_delta(self, tool_delta: Any) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        wire = int(tool_delta.index or 0)
        index = self._wire_index.get(wire)
        buffer = self.calls.get(index) if index is not None else None
        new_id = tool_delta.id or ""
        if buffer is not None and new_id and buffer.id and new_id != buffer.id:
            buffer = None  # a server that reuses index 0 for every call: a new id is a new call
        if buffer is None:
            index = len(self.calls)
            self._wire_index[wire] = index
            buffer = self.calls[index] = _CallBuffer(index)
        events.extend(self._ready_below(buffer.index))
        if new_id and not buffer.id:
            buffer.id = new_id
        function = tool_delta.function
        if function is not None and function.name and not buffer.name:
            buffer.name = function.name
        if not buffer.began and buffer.name:
            events.append(self._begin(buffer))
        fragment = function.arguments if function is not None else None
        if fragment:
            buffer.args.append(fragment)
            if buffer.began:
                events.append(ToolCallArgsChunk(buffer.index, fragment))
            else:
                buffer.pending.append(fragment)
        return events

    def _begin(self, buffer: _CallBuffer) -> StreamEvent:
        buffer.began = True
        if not buffer.id:
            buffer.id = f"call_{uuid.uuid4().hex[:24]}"  # some local servers send no id
        return ToolCallBegan(buffer.index, buffer.id, buffer.name)

    def _ready_below(self, limit: int | None) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for index in sorted(self.calls):
            if limit is not None and index >= limit:
                break
            buffer = self.calls[index]
            if buffer.ready:
                continue
            if not buffer.began:
                events.append(self._begin(buffer))
                events.extend(ToolCallArgsChunk(buffer.index, fragment) for fragment in buffer.pending)
            buffer.ready = True
            events.append(ToolCallReady(buffer.index, self._part(buffer)))
        return events

    @staticmethod
    def _part(buffer: _CallBuffer) -> ToolCallPart:
        raw = "".join(buffer.args)
        arguments, error = decode_arguments(raw)
        return ToolCallPart(buffer.id, buffer.name, arguments, raw_arguments=raw, parse_error=error)

    def finish(self) -> list[StreamEvent]:
        events = self._ready_below(None)
        parts: list[Part] = []
        if self.thinking:
            parts.append(ThinkingPart("".join(self.thinking)))
        if self.text:
            parts.append(TextPart("".join(self.text)))
        parts.extend(self._part(self.calls[index]) for index in sorted(self.calls))
        usage = self.usage or Usage()
        if self.usage is not None:
            events.append(UsageReported(usage))
        stop = normalise_stop_reason(self.finish_reason, bool(self.calls))
        events.append(StreamEnded(stop, Message("assistant", parts), usage))
        return events


def _completion_events(completion: Any) -> list[StreamEvent]:
    """The events of a non-streamed completion, in the same order a stream would give them."""
    events: list[StreamEvent] = []
    parts: list[Part] = []
    choice = completion.choices[0] if completion.choices else None
    message = choice.message if choice is not None else None
    calls: list[ToolCallPart] = []
    if message is not None:
        reasoning = _reasoning_of(message)
        if reasoning:
            events.append(ThinkingChunk(reasoning))
            parts.append(ThinkingPart(reasoning))
        if message.content:
            events.append(TextChunk(message.content))
            parts.append(TextPart(message.content))
        for index, call in enumerate(message.tool_calls or []):
            function = getattr(call, "function", None)
            if function is None:  # custom (non-function) tools are never declared by us
                continue
            raw = function.arguments or ""
            arguments, error = decode_arguments(raw)
            part = ToolCallPart(call.id or f"call_{uuid.uuid4().hex[:24]}", function.name, arguments,
                                raw_arguments=raw, parse_error=error)
            events.append(ToolCallBegan(index, part.id, part.name))
            if raw:
                events.append(ToolCallArgsChunk(index, raw))
            events.append(ToolCallReady(index, part))
            calls.append(part)
    parts.extend(calls)
    usage = usage_from_openai(completion.usage) if completion.usage is not None else Usage()
    if completion.usage is not None:
        events.append(UsageReported(usage))
    stop = normalise_stop_reason(choice.finish_reason if choice is not None else None, bool(calls))
    events.append(StreamEnded(stop, Message("assistant", parts), usage))
    return events
