"""Anthropic Messages adapter on the raw SSE event stream (``messages.create(stream=True)``).

The raw stream, rather than the SDK's accumulating helper, lets each tool call be reported ready on its
own ``content_block_stop`` while later blocks are still streaming. Importing this module imports the
``anthropic`` SDK (~1.5 s), so the registry loads it only when a Claude model is first used.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anthropic

from tunacode_tui.core.messages import (
    Message,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
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
from tunacode_tui.providers.error_map import map_error
from tunacode_tui.providers.errors import ProviderError, StreamInterrupted

DEFAULT_MAX_TOKENS = 8192


class AnthropicProvider(SdkAdapter):
    """One ``AsyncAnthropic`` client for one (base URL, key); ``stream`` yields neutral events."""

    _warm_path = ("messages",)
    # The SDK adds trace headers through OpenTelemetry's propagators, loaded (entry points and all) on first use.
    _warm_modules = (*SdkAdapter._warm_modules, "opentelemetry.propagate", "opentelemetry.baggage.propagation",
                     "opentelemetry.trace.propagation.tracecontext")

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.anthropic.com",
        provider: str = "anthropic",
        timeout: float = 600.0,
        extra_headers: Mapping[str, str] | None = None,
        key_env: str | None = "ANTHROPIC_API_KEY",
        prompt_caching: bool = True,
    ) -> None:
        super().__init__(api_key=api_key, base_url=base_url, provider=provider, timeout=timeout, key_env=key_env)
        self._prompt_caching = prompt_caching
        self._client = anthropic.AsyncAnthropic(**self._client_options(anthropic.Timeout, extra_headers))

    def build_params(self, request: ChatRequest) -> dict[str, Any]:
        """The Messages API parameters for ``request`` (without ``stream``), in wire format."""
        system, messages = to_anthropic_messages(request)
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": messages,
        }
        if system:
            params["system"] = system
        if request.tools:
            params["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
        if request.reasoning:
            params["thinking"] = {"type": "adaptive", "display": "summarized"}
            params["output_config"] = {"effort": request.reasoning}
        if self._prompt_caching:
            # Top-level cache_control marks the last cacheable block, so each turn re-reads the
            # previous prefix from cache instead of paying for the whole conversation again.
            params["cache_control"] = {"type": "ephemeral"}
        return params

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Send ``request`` and yield its events; failures are raised as typed ``ProviderError``s."""
        params = self.build_params(request)
        ctx = self._context(request.model)
        if not request.stream:
            try:
                message = await self._client.messages.create(**params, stream=False)
            except Exception as exc:
                raise map_error(exc, ctx) from exc
            for event in _message_events(message):
                yield event
            return

        try:
            sdk_stream = await self._client.messages.create(**params, stream=True)
        except Exception as exc:
            raise map_error(exc, ctx) from exc
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
        if not assembler.stopped:
            raise StreamInterrupted(
                f"The stream from Anthropic ended before message_stop (model '{request.model}').",
                provider=self.name,
            )
        for event in assembler.finish():
            yield event


def to_anthropic_messages(request: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
    """Translate the neutral history into (system, messages).

    Tool results become ``tool_result`` blocks in a user message; consecutive same-role messages are
    merged because the API wants user and assistant turns to alternate (and results first).
    Thinking goes back verbatim with its signature, ahead of text and tool_use.
    """
    system_parts = [request.system] if request.system else []
    out: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            if message.text:
                system_parts.append(message.text)
            continue
        blocks = _assistant_blocks(message) if message.role == "assistant" else _user_blocks(message)
        if not blocks:
            continue  # the API rejects empty content
        role = "assistant" if message.role == "assistant" else "user"
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return "\n\n".join(system_parts), out


def _user_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ToolResultPart):
            block: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.tool_call_id,
                                     "content": part.content}
            if part.is_error:
                block["is_error"] = True
            blocks.append(block)
    for part in message.parts:
        if isinstance(part, TextPart) and part.text:
            blocks.append({"type": "text", "text": part.text})
    return blocks


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    thinking: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ThinkingPart):
            if part.redacted_data is not None:
                thinking.append({"type": "redacted_thinking", "data": part.redacted_data})
            elif part.signature:
                thinking.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
            # Unsigned thinking (from another provider) cannot be verified by the API: leave it out.
        elif isinstance(part, TextPart):
            if part.text:
                rest.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCallPart):
            rest.append({"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments})
    return thinking + rest


def usage_from_anthropic(raw: Any, previous: Usage | None = None) -> Usage:
    """Read a usage object; fields the event leaves out (message_delta often has only output) keep ``previous``."""
    base = previous or Usage()

    def pick(name: str, current: int) -> int:
        value = getattr(raw, name, None)
        return current if value is None else int(value)

    return Usage(
        input_tokens=pick("input_tokens", base.input_tokens),
        output_tokens=pick("output_tokens", base.output_tokens),
        cache_read_tokens=pick("cache_read_input_tokens", base.cache_read_tokens),
        cache_write_tokens=pick("cache_creation_input_tokens", base.cache_write_tokens),
    )


@dataclass(slots=True)
class _Block:
    kind: str
    text: list[str] = field(default_factory=list)
    signature: str = ""
    redacted_data: str | None = None
    tool_index: int = -1
    tool_id: str = ""
    tool_name: str = ""
    initial_input: Any = None
    part: Part | None = None


class _StreamAssembler:
    """Fold raw Messages events into neutral events, keeping blocks in the order the model produced them."""

    def __init__(self) -> None:
        self.blocks: dict[int, _Block] = {}
        self.usage = Usage()
        self.usage_seen = False
        self.stop_reason: str | None = None
        self.stopped = False
        self._tool_count = 0

    def feed(self, event: Any) -> list[StreamEvent]:
        kind = getattr(event, "type", None)
        if kind == "message_start":
            usage = getattr(event.message, "usage", None)
            if usage is not None:
                self.usage = usage_from_anthropic(usage, self.usage)
                self.usage_seen = True
            return []
        if kind == "content_block_start":
            return self._start(event.index, event.content_block)
        if kind == "content_block_delta":
            return self._delta(event.index, event.delta)
        if kind == "content_block_stop":
            return self._stop(event.index)
        if kind == "message_delta":
            if event.delta.stop_reason:
                self.stop_reason = event.delta.stop_reason
            if event.usage is not None:
                self.usage = usage_from_anthropic(event.usage, self.usage)
                self.usage_seen = True
            return []
        if kind == "message_stop":
            self.stopped = True
        return []

    def _start(self, index: int, block: Any) -> list[StreamEvent]:
        kind = getattr(block, "type", "")
        state = _Block(kind)
        self.blocks[index] = state
        if kind == "text" and block.text:
            state.text.append(block.text)
            return [TextChunk(block.text)]
        if kind == "thinking":
            state.signature = getattr(block, "signature", "") or ""
            if block.thinking:
                state.text.append(block.thinking)
                return [ThinkingChunk(block.thinking)]
        elif kind == "redacted_thinking":
            state.redacted_data = block.data
        elif kind == "tool_use":
            state.tool_index = self._tool_count
            self._tool_count += 1
            state.tool_id = block.id
            state.tool_name = block.name
            state.initial_input = getattr(block, "input", None)
            return [ToolCallBegan(state.tool_index, block.id, block.name)]
        return []

    def _delta(self, index: int, delta: Any) -> list[StreamEvent]:
        state = self.blocks.get(index)
        if state is None:
            return []
        kind = getattr(delta, "type", "")
        if kind == "text_delta":
            state.text.append(delta.text)
            return [TextChunk(delta.text)]
        if kind == "thinking_delta":
            state.text.append(delta.thinking)
            return [ThinkingChunk(delta.thinking)]
        if kind == "signature_delta":
            state.signature += delta.signature
        elif kind == "input_json_delta" and delta.partial_json:
            state.text.append(delta.partial_json)
            return [ToolCallArgsChunk(state.tool_index, delta.partial_json)]
        return []

    def _stop(self, index: int) -> list[StreamEvent]:
        state = self.blocks.get(index)
        if state is None:
            return []
        text = "".join(state.text)
        if state.kind == "text":
            state.part = TextPart(text)
        elif state.kind == "thinking":
            state.part = ThinkingPart(text, signature=state.signature or None)
        elif state.kind == "redacted_thinking":
            state.part = ThinkingPart("", redacted_data=state.redacted_data)
        elif state.kind == "tool_use":
            raw = text
            if not raw and state.initial_input:
                raw = json.dumps(state.initial_input)
            arguments, error = decode_arguments(raw)
            call = ToolCallPart(state.tool_id, state.tool_name, arguments, raw_arguments=raw, parse_error=error)
            state.part = call
            return [ToolCallReady(state.tool_index, call)]
        return []

    def finish(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        parts: list[Part] = []
        for index in sorted(self.blocks):
            state = self.blocks[index]
            if state.part is None and state.kind in ("text", "thinking", "redacted_thinking", "tool_use"):
                events.extend(self._stop(index))  # a block the server never closed
            if state.part is not None and not (isinstance(state.part, TextPart) and not state.part.text):
                parts.append(state.part)
        if self.usage_seen:
            events.append(UsageReported(self.usage))
        has_calls = any(isinstance(part, ToolCallPart) for part in parts)
        stop = self.stop_reason or ("tool_use" if has_calls else "end_turn")
        events.append(StreamEnded(stop, Message("assistant", parts), self.usage))
        return events


def _message_events(message: Any) -> list[StreamEvent]:
    """The events of a non-streamed message, in the order a stream would give them."""
    events: list[StreamEvent] = []
    parts: list[Part] = []
    tool_index = 0
    for block in message.content:
        kind = getattr(block, "type", "")
        if kind == "text" and block.text:
            events.append(TextChunk(block.text))
            parts.append(TextPart(block.text))
        elif kind == "thinking":
            if block.thinking:
                events.append(ThinkingChunk(block.thinking))
            parts.append(ThinkingPart(block.thinking, signature=block.signature or None))
        elif kind == "redacted_thinking":
            parts.append(ThinkingPart("", redacted_data=block.data))
        elif kind == "tool_use":
            raw = json.dumps(block.input) if block.input is not None else ""
            arguments, error = decode_arguments(raw)
            call = ToolCallPart(block.id, block.name, arguments, raw_arguments=raw, parse_error=error)
            events.append(ToolCallBegan(tool_index, block.id, block.name))
            events.append(ToolCallArgsChunk(tool_index, raw))
            events.append(ToolCallReady(tool_index, call))
            parts.append(call)
            tool_index += 1
    usage = usage_from_anthropic(message.usage) if message.usage is not None else Usage()
    if message.usage is not None:
        events.append(UsageReported(usage))
    has_calls = tool_index > 0
    stop = message.stop_reason or ("tool_use" if has_calls else "end_turn")
    events.append(StreamEnded(stop, Message("assistant", parts), usage))
    return events
