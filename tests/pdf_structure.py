"""Read back what a tagged PDF says about itself: catalogue, document info, XMP metadata and
the structure tree, for the tests of the PDFs Beffroi writes (WeasyPrint, through pydyf).

A small reader rather than a PDF library: no PDF reader is among the project's
dependencies, and the tests only need the object graph of files WeasyPrint wrote (plain
objects, object streams, Flate-compressed streams), not content streams, fonts or
repair of broken files. Anything this reader does not understand raises, so a test
cannot pass by reading nothing.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


class Name(str):
    """A PDF name (``/Table``), kept apart from text strings."""


@dataclass(frozen=True)
class Ref:
    number: int


class Stream(dict[str, Any]):
    """A stream's dictionary, with its decoded bytes."""

    data: bytes = b""


DELIMITERS = b"()<>[]{}/%"
WHITESPACE = b" \t\r\n\x0c\x00"
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _text(raw: bytes) -> str:
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    return raw.decode("latin-1")


class _Parser:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def skip(self) -> None:
        d = self.data
        while self.pos < len(d):
            c = d[self.pos]
            if c in WHITESPACE:
                self.pos += 1
            elif c == ord("%"):
                while self.pos < len(d) and d[self.pos] not in b"\r\n":
                    self.pos += 1
            else:
                return

    def token(self) -> bytes:
        self.skip()
        d, start = self.data, self.pos
        if d[start : start + 2] in (b"<<", b">>"):
            self.pos += 2
            return d[start : self.pos]
        if d[start] in b"[]":
            self.pos += 1
            return d[start : self.pos]
        self.pos += 1
        while self.pos < len(d) and d[self.pos] not in WHITESPACE + DELIMITERS:
            self.pos += 1
        return d[start : self.pos]

    def value(self) -> Any:
        self.skip()
        d = self.data
        c = d[self.pos : self.pos + 1]
        if d[self.pos : self.pos + 2] == b"<<":
            self.pos += 2
            out: dict[str, Any] = {}
            while True:
                self.skip()
                if d[self.pos : self.pos + 2] == b">>":
                    self.pos += 2
                    return out
                key = self.value()
                if not isinstance(key, Name):
                    raise ValueError(f"dictionary key {key!r} at {self.pos}")
                out[str(key)] = self.value()
        if c == b"[":
            self.pos += 1
            items = []
            while True:
                self.skip()
                if d[self.pos : self.pos + 1] == b"]":
                    self.pos += 1
                    return items
                items.append(self.value())
        if c == b"/":
            raw = self.token()[1:]
            return Name(
                re.sub(rb"#([0-9a-fA-F]{2})", lambda m: bytes.fromhex(m[1].decode()), raw).decode()
            )
        if c == b"(":
            return _text(self._literal())
        if c == b"<":
            end = d.index(b">", self.pos)
            hexa = re.sub(rb"\s", b"", d[self.pos + 1 : end])
            self.pos = end + 1
            return _text(bytes.fromhex((hexa + b"0" * (len(hexa) % 2)).decode()))
        word = self.token()
        if word in (b"true", b"false"):
            return word == b"true"
        if word == b"null":
            return None
        if re.fullmatch(rb"[+-]?\d+", word):
            # "n g R" is a reference: look ahead without consuming on a miss.
            mark = self.pos
            try:
                generation, r = self.token(), self.token()
            except IndexError:
                generation, r = b"", b""
            if re.fullmatch(rb"\d+", generation) and r == b"R":
                return Ref(int(word))
            self.pos = mark
            return int(word)
        if re.fullmatch(rb"[+-]?\d*\.\d*", word):
            return float(word)
        raise ValueError(f"unexpected {word!r} at {self.pos}")

    def _literal(self) -> bytes:
        d, out, depth = self.data, bytearray(), 0
        self.pos += 1
        while True:
            c = d[self.pos]
            self.pos += 1
            if c == ord("\\"):
                e = d[self.pos]
                self.pos += 1
                if e in _ESCAPES:
                    out.append(_ESCAPES[e])
                elif e in b"01234567":
                    digits = d[self.pos - 1 : self.pos + 2]
                    n = re.match(rb"[0-7]{1,3}", digits)
                    assert n
                    out.append(int(n[0], 8) & 0xFF)
                    self.pos += len(n[0]) - 1
                elif e in b"\r\n":
                    if e == ord("\r") and d[self.pos : self.pos + 1] == b"\n":
                        self.pos += 1
                else:
                    out.append(e)
            elif c == ord("("):
                depth += 1
                out.append(c)
            elif c == ord(")"):
                if depth == 0:
                    return bytes(out)
                depth -= 1
                out.append(c)
            else:
                out.append(c)


def _decode(stream: Stream, raw: bytes) -> bytes:
    filters = stream.get("Filter")
    names = filters if isinstance(filters, list) else [filters] if filters else []
    for name in names:
        if name != "FlateDecode":
            raise ValueError(f"stream filter {name} not understood")
        raw = zlib.decompress(raw)
    return raw


@dataclass
class Pdf:
    """Every object of the file by number, and the trailer's entries."""

    raw: bytes
    objects: dict[int, Any] = field(default_factory=dict)
    trailer: dict[str, Any] = field(default_factory=dict)
    # Where the last stream read ends: an "n g obj" inside stream bytes is no object.
    _end: int = 0

    @classmethod
    def read(cls, raw: bytes) -> Pdf:
        if not raw.startswith(b"%PDF-"):
            raise ValueError("not a PDF")
        pdf = cls(raw)
        for m in re.finditer(rb"(?<![0-9])(\d+)\s+(\d+)\s+obj\b", raw):
            if m.start() < pdf._end:  # inside a stream read already
                continue
            parser = _Parser(raw, m.end())
            obj = parser.value()
            parser.skip()
            if raw[parser.pos : parser.pos + 6] == b"stream":
                start = parser.pos + 6
                start += 2 if raw[start : start + 2] == b"\r\n" else 1
                length = obj["Length"]
                if isinstance(length, Ref):
                    raise ValueError("indirect stream length not understood")
                stream = Stream(obj)
                stream.data = _decode(stream, raw[start : start + length])
                obj = stream
                pdf._end = start + length
            pdf.objects[int(m[1])] = obj
        for obj in list(pdf.objects.values()):
            if isinstance(obj, Stream) and obj.get("Type") == "ObjStm":
                pdf._unpack(obj)
            if isinstance(obj, Stream) and obj.get("Type") == "XRef":
                pdf.trailer.update(obj)
        if m := re.search(rb"trailer\s*(<<)", raw):
            pdf.trailer.update(_Parser(raw, m.start(1)).value())
        if "Root" not in pdf.trailer:
            raise ValueError("no trailer with a /Root")
        return pdf

    def _unpack(self, stream: Stream) -> None:
        head = _Parser(stream.data)
        pairs = [(head.value(), head.value()) for _ in range(stream["N"])]
        for number, offset in pairs:
            self.objects[number] = _Parser(stream.data, stream["First"] + offset).value()

    def get(self, value: Any) -> Any:
        while isinstance(value, Ref):
            value = self.objects[value.number]
        return value

    @property
    def catalog(self) -> dict[str, Any]:
        return dict(self.get(self.trailer["Root"]))

    @property
    def info(self) -> dict[str, Any]:
        return dict(self.get(self.trailer.get("Info"))) if "Info" in self.trailer else {}

    @property
    def xmp(self) -> str:
        meta = self.get(self.catalog.get("Metadata"))
        return meta.data.decode("utf-8") if isinstance(meta, Stream) else ""

    def structure(self) -> Iterator[dict[str, Any]]:
        """The structure elements, depth first from the tree's root, in reading order."""
        root = self.get(self.catalog["StructTreeRoot"])
        todo = list(reversed(self._kids(root)))
        while todo:
            elem = todo.pop()
            if elem.get("Type", "StructElem") == "StructElem" and "S" in elem:
                yield elem
                todo.extend(reversed(self._kids(elem)))

    def _kids(self, elem: dict[str, Any]) -> list[dict[str, Any]]:
        kids = self.get(elem.get("K", []))
        kids = kids if isinstance(kids, list) else [kids]
        return [k for k in (self.get(x) for x in kids) if isinstance(k, dict)]


def tags(pdf: Pdf) -> list[str]:
    return [str(e["S"]) for e in pdf.structure()]
