"""A generic Thrift compact codec for Parquet footers: decode, inspect and re-encode without an IDL.

A struct is a list of fields in wire order and every value keeps its wire type, so every field,
known or not, is kept and re-encoding an unmodified footer gives back the same bytes (see
:mod:`news_pipeline.io.versioned` for why the ``thrift`` package's protocol is used this way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.protocol.TProtocol import TType
from thrift.transport.TTransport import TMemoryBuffer


# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Field:
    """One struct field as read from the wire."""

    fid: int
    ttype: int
    value: Any


@dataclass(slots=True)
class ThriftList:
    """A list or set: element type and items."""

    etype: int
    items: list[Any]


@dataclass(slots=True)
class ThriftMap:
    """A map: key type, value type and (key, value) pairs."""

    ktype: int
    vtype: int
    items: list[tuple[Any, Any]]


ThriftStruct = list[Field]


def decode_footer(raw: bytes) -> ThriftStruct:
    """The Thrift compact struct in ``raw`` (a Parquet footer), which must be consumed exactly."""
    buf = TMemoryBuffer(raw)
    meta = _read_struct(TCompactProtocol(buf))
    if buf.read(1):
        raise ValueError("trailing bytes after the footer struct")
    return meta


def encode_footer(meta: ThriftStruct) -> bytes:
    """The Thrift compact encoding of ``meta``."""
    buf = TMemoryBuffer()
    _write_struct(TCompactProtocol(buf), meta)
    return buf.getvalue()


_SCALAR_READ = {
    TType.BOOL: "readBool",
    TType.BYTE: "readByte",
    TType.I16: "readI16",
    TType.I32: "readI32",
    TType.I64: "readI64",
    TType.DOUBLE: "readDouble",
    TType.STRING: "readBinary",
}
_SCALAR_WRITE = {t: "write" + name.removeprefix("read") for t, name in _SCALAR_READ.items()}


def _read_value(proto: TCompactProtocol, ttype: int) -> Any:
    if ttype in _SCALAR_READ:
        return getattr(proto, _SCALAR_READ[ttype])()
    if ttype == TType.STRUCT:
        return _read_struct(proto)
    if ttype == TType.LIST:
        etype, size = proto.readListBegin()
        value = ThriftList(etype, [_read_value(proto, etype) for _ in range(size)])
        proto.readListEnd()
        return value
    if ttype == TType.SET:
        etype, size = proto.readSetBegin()
        value = ThriftList(etype, [_read_value(proto, etype) for _ in range(size)])
        proto.readSetEnd()
        return value
    if ttype == TType.MAP:
        ktype, vtype, size = proto.readMapBegin()
        value = ThriftMap(ktype, vtype, [(_read_value(proto, ktype), _read_value(proto, vtype)) for _ in range(size)])
        proto.readMapEnd()
        return value
    raise ValueError(f"unsupported thrift type {ttype}")


def _read_struct(proto: TCompactProtocol) -> ThriftStruct:
    proto.readStructBegin()
    fields = []
    while True:
        _, ttype, fid = proto.readFieldBegin()
        if ttype == TType.STOP:
            break
        fields.append(Field(fid, ttype, _read_value(proto, ttype)))
        proto.readFieldEnd()
    proto.readStructEnd()
    return fields


def _write_value(proto: TCompactProtocol, ttype: int, value: Any) -> None:
    if ttype in _SCALAR_WRITE:
        getattr(proto, _SCALAR_WRITE[ttype])(value)
    elif ttype == TType.STRUCT:
        _write_struct(proto, value)
    elif ttype == TType.LIST:
        proto.writeListBegin(value.etype, len(value.items))
        for item in value.items:
            _write_value(proto, value.etype, item)
        proto.writeListEnd()
    elif ttype == TType.SET:
        proto.writeSetBegin(value.etype, len(value.items))
        for item in value.items:
            _write_value(proto, value.etype, item)
        proto.writeSetEnd()
    elif ttype == TType.MAP:
        proto.writeMapBegin(value.ktype, value.vtype, len(value.items))
        for key, item in value.items:
            _write_value(proto, value.ktype, key)
            _write_value(proto, value.vtype, item)
        proto.writeMapEnd()
    else:
        raise ValueError(f"unsupported thrift type {ttype}")


def _write_struct(proto: TCompactProtocol, fields: ThriftStruct) -> None:
    proto.writeStructBegin(None)
    for field in fields:
        proto.writeFieldBegin(None, field.ttype, field.fid)
        _write_value(proto, field.ttype, field.value)
        proto.writeFieldEnd()
    proto.writeFieldStop()
    proto.writeStructEnd()


def field_of(fields: ThriftStruct, fid: int, ttype: int) -> Field | None:
    """The field ``fid`` of a struct, None if absent; a field of another wire type is malformed."""
    for field in fields:
        if field.fid == fid:
            if field.ttype != ttype:
                raise ValueError(f"field {fid} has thrift type {field.ttype}, expected {ttype}")
            return field
    return None


def int_of(fields: ThriftStruct, fid: int, ttype: int = TType.I64) -> int | None:
    field = field_of(fields, fid, ttype)
    return None if field is None else field.value


def structs_of(fields: ThriftStruct, fid: int) -> list[ThriftStruct]:
    field = field_of(fields, fid, TType.LIST)
    if field is None:
        return []
    if field.value.etype != TType.STRUCT:
        raise ValueError(f"field {fid} is not a list of structs")
    return field.value.items
