"""``multipart/form-data`` bodies: fields into ``trigger.formFields``, files into ``trigger.parts``.

Why python-multipart's streaming parser: it is the parser FastAPI (so Airflow's api-server)
already ships and keeps patched against malformed and hostile bodies; hand-written boundary
splitting is where such bugs live. It hands us each part's headers and bytes; this module only
decides what a field and a file are (RFC 7578: a part with a ``filename`` is a file) and how a
file reaches the run: its bytes base64-encoded in the conf, which stays JSON, and only while
under ``[webhook_trigger] max_part_size``. A larger file is refused with 413 rather than cut,
so a run never sees half a file.
"""

from __future__ import annotations

import base64
from typing import Any

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

__all__ = ["BodyRefused", "PayloadTooLarge", "MalformedBody", "parse_multipart"]


class BodyRefused(ValueError):
    """The body cannot be given to a run; the message says why (``dispatch`` picks the status)."""


class PayloadTooLarge(BodyRefused):
    """A file is larger than ``max_part_size``."""


class MalformedBody(BodyRefused):
    """The multipart body cannot be parsed."""


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Collector:
    """Callbacks for ``MultipartParser``: gathers each part's headers and bytes."""

    def __init__(self, max_part_size: int) -> None:
        self.max_part_size = max_part_size
        self.fields: dict[str, list[str]] = {}
        self.parts: list[dict[str, Any]] = []
        self.ended = False
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._data: list[bytes] = []
        self._size = 0
        self._file: tuple[str, str] | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self._headers, self._data, self._size, self._file = {}, [], 0, None

    def header_end(self) -> None:
        self._headers[self._field.decode("latin-1").strip().lower()] = self._value.decode("latin-1").strip()
        self._field.clear()
        self._value.clear()

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in options:
            raise MalformedBody("a multipart part has no Content-Disposition: form-data; name=\"...\" header")
        name = _text(options[b"name"])
        # a blank filename is a form field (Kestra 2.x; browsers send one for an empty file input)
        self._file = (name, _text(options[b"filename"])) if options.get(b"filename") else None
        self._name = name

    def part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._file is not None and self._size > self.max_part_size:
            name, filename = self._file
            raise PayloadTooLarge(
                f"file {filename or name!r} (part {name!r}) is larger than {self.max_part_size} bytes, "
                "the most a webhook run receives ([webhook_trigger] max_part_size)"
            )
        self._data.append(data[start:end])

    def part_end(self) -> None:
        content = b"".join(self._data)
        if self._file is None:
            self.fields.setdefault(self._name, []).append(_text(content))
            return
        name, filename = self._file
        self.parts.append({
            "name": name,
            "filename": filename,
            "contentType": self._headers.get("content-type") or None,  # as sent (Kestra 2.x: null when absent)
            "size": len(content),
            "content": base64.b64encode(content).decode("ascii"),
        })

    def end(self) -> None:
        self.ended = True


def parse_multipart(body: bytes, content_type: str, max_part_size: int) -> tuple[dict[str, list[str]], list[dict]]:
    """``(formFields, parts)`` of a ``multipart/form-data`` body; raise ``BodyRefused`` if unusable.

    ``content_type`` is the whole header, with its ``boundary`` parameter.
    """
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedBody("multipart/form-data needs a boundary parameter in its Content-Type")
    collector = _Collector(max_part_size)
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, FormParserError) as exc:
        raise MalformedBody(f"the multipart/form-data body is malformed: {exc}") from None
    if not collector.ended:
        raise MalformedBody("the multipart/form-data body is truncated: its closing boundary is missing")
    return collector.fields, collector.parts
