"""Where data lives: a local folder (a :class:`~pathlib.Path`) or an object-storage prefix (a :class:`Url`, ``s3://bucket/prefix``).

A ``Url`` joins with ``/`` and has ``name`` and ``parent`` like a ``Path``, so the code that builds
paths (:mod:`news_pipeline.catalog`) builds both the same way; :mod:`news_pipeline.io.fs` reads and
writes both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMES = ("s3",)
_URL_PREFIXES = tuple(f"{s}://".encode() for s in SCHEMES)


@dataclass(frozen=True)
class Url:
    """An object-storage location ``s3://bucket/key``; ``/``, ``name`` and ``parent`` work as on a ``Path``."""

    scheme: str
    path: str  # "bucket" or "bucket/key/...", without leading or trailing "/"

    @classmethod
    def parse(cls, text: str) -> Url:
        """``s3://bucket[/prefix]`` (trailing ``/`` ignored); a ``ValueError`` that says what is wrong otherwise."""
        scheme, sep, rest = text.partition("://")
        if not sep or scheme.lower() not in SCHEMES:
            raise ValueError(f"unsupported storage URL {text!r}: use a local folder or s3://bucket/prefix")
        rest = rest.rstrip("/")
        parts = rest.split("/")
        if not parts[0] or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"storage URL {text!r} needs a bucket and a prefix without empty, '.' or '..' parts")
        return cls(scheme.lower(), rest)

    def __truediv__(self, part: str) -> Url:
        return Url(self.scheme, f"{self.path}/{part.strip('/')}")

    def __str__(self) -> str:
        return f"{self.scheme}://{self.path}"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent(self) -> Url:
        return Url(self.scheme, self.path.rsplit("/", 1)[0]) if "/" in self.path else self

    @property
    def bucket(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def key(self) -> str:
        """The object key (or key prefix) inside the bucket."""
        return self.path.partition("/")[2]

    def relative_to(self, root: Url) -> str:
        """This location's key relative to ``root``, with ``/`` separators."""
        prefix = root.path + "/"
        if self.scheme != root.scheme or not self.path.startswith(prefix):
            raise ValueError(f"{self} is not under {root}")
        return self.path[len(prefix) :]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        def validate(value: Any) -> Url:
            return value if isinstance(value, Url) else cls.parse(str(value))

        return core_schema.no_info_plain_validator_function(validate, serialization=core_schema.to_string_ser_schema())


Location = Path | Url


def parse_location(value: Any) -> Location:
    """A ``Url`` for ``scheme://...`` text, else a local ``Path``; ``Path`` and ``Url`` values pass through."""
    if isinstance(value, (Path, Url)):
        return value
    text = os.fspath(value)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return Url.parse(text) if "://" in text else Path(text)


def is_url(abs_path: bytes) -> bool:
    """Whether a raw file's ``abs_path`` (as :func:`news_pipeline.io.landing.list_files` gives it) is an object URL."""
    return abs_path.startswith(_URL_PREFIXES)
