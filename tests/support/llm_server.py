"""A scripted fake LLM server on loopback, for testing the real LangChain clients.

It serves OpenAI's ``POST /v1/chat/completions`` (JSON or server-sent events when the
request asks to ``stream``) and Ollama's ``POST /api/chat`` (JSON or NDJSON). Each request
takes the next scripted :class:`Reply`; every request body is recorded in ``requests``.

    with FakeLLMServer() as server:
        server.script(Reply.text("Le sommet a lieu en Alaska [1]."))
        settings = load_settings(llm_base_url=server.url, llm_model="fake", ...)
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    kind: str  # "text", "status", "garbage"
    content: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before the reply starts
    token_delay: float = 0.0  # seconds between streamed tokens

    @classmethod
    def text(cls, content: str, *, delay: float = 0.0, token_delay: float = 0.0) -> Reply:
        return cls("text", content, delay=delay, token_delay=token_delay)

    @classmethod
    def error(cls, status: int = 500) -> Reply:
        return cls("status", status=status)

    @classmethod
    def garbage(cls) -> Reply:
        return cls("garbage")


def tokens(text: str) -> list[str]:
    """The text cut into word-sized streaming pieces (joined, they give it back)."""
    return re.findall(r"\s*\S+|\s+", text)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        fake = self.server.fake
        with fake.lock:
            fake.requests.append({"path": self.path, "body": body})
            reply = fake.replies.popleft() if fake.replies else Reply.error(503)
        try:
            if reply.delay:
                time.sleep(reply.delay)
            if self.path.rstrip("/").endswith("/chat/completions"):
                self.openai(body, reply)
            elif self.path.rstrip("/") == "/api/chat":
                self.ollama(body, reply)
            else:
                self.send_json(404, {"error": f"no route {self.path}"})
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts)
            pass

    # -- helpers ----------------------------------------------------------------------------
    def send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_raw(self, content_type: str, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def write_flush(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    # -- OpenAI -----------------------------------------------------------------------------
    def openai(self, body: dict[str, Any], reply: Reply) -> None:
        model = body.get("model", "fake")
        if reply.kind == "status":
            self.send_json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
            return
        stream = bool(body.get("stream"))
        if reply.kind == "garbage":
            if stream:
                self.start_stream("text/event-stream")
                self.write_flush(b"data: {this is not json\n\n")
                self.write_flush(b"data: [DONE]\n\n")
            else:
                self.send_raw("application/json", b"<html>not json {")
            return
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": model}
        if not stream:
            self.send_json(
                200,
                base
                | {
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                },
            )
            return
        self.start_stream("text/event-stream")

        def event(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = base | {
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.write_flush(f"data: {json.dumps(chunk)}\n\n".encode())

        event({"role": "assistant", "content": ""})
        for piece in tokens(reply.content):
            if reply.token_delay:
                time.sleep(reply.token_delay)
            event({"content": piece})
        event({}, "stop")
        self.write_flush(b"data: [DONE]\n\n")

    # -- Ollama -----------------------------------------------------------------------------
    def ollama(self, body: dict[str, Any], reply: Reply) -> None:
        model = body.get("model", "fake")
        if reply.kind == "status":
            self.send_json(reply.status, {"error": "scripted failure"})
            return
        stream = body.get("stream", True)
        if reply.kind == "garbage":
            self.send_raw("application/x-ndjson", b"{this is not json\n")
            return

        def line(content: str, done: bool) -> dict[str, Any]:
            item: dict[str, Any] = {
                "model": model,
                "created_at": "2025-08-15T10:00:00Z",
                "message": {"role": "assistant", "content": content},
                "done": done,
            }
            if done:
                item |= {"done_reason": "stop", "eval_count": 10, "prompt_eval_count": 10}
            return item

        if not stream:
            self.send_json(200, line(reply.content, True))
            return
        self.start_stream("application/x-ndjson")
        for piece in tokens(reply.content):
            if reply.token_delay:
                time.sleep(reply.token_delay)
            self.write_flush((json.dumps(line(piece, False)) + "\n").encode())
        self.write_flush((json.dumps(line("", True)) + "\n").encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeLLMServer


class FakeLLMServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-llm")

    @property
    def root(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``…/v1``)."""
        return self.root + "/v1"

    def script(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        with self.lock:
            self.replies.clear()
            self.requests.clear()

    def messages(self, index: int = -1) -> list[dict[str, Any]]:
        """The chat messages of a recorded request."""
        return list(self.requests[index]["body"]["messages"])

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
