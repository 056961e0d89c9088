"""Hypothesis strategies for the fuzz tests: JSON frames shaped like the protocols' own, and random protobuf
messages built from their descriptors (every field optional, values of every range and size), plus the CI
settings: few examples, no deadline, derandomized (the same examples on every run)."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CI = settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large, HealthCheck.filter_too_much])


def ci(max_examples: int) -> settings:
    return settings(CI, max_examples=max_examples)


# ---- JSON --------------------------------------------------------------------------------------------

# The field names of the JSON protocols: `/v1/stream`, `/ws/session`, `/ws/node`.
STREAM_FIELDS = ["src_lang", "tgt_lang", "mode", "lang_a", "lang_b", "encoding", "sample_rate_hz", "channels",
                 "features", "persona", "pairing_code", "data", "chunk", "final", "reason", "streaming_asr",
                 "stream_tts", "dialect"]
SESSION_FIELDS = ["session_id", "utterance_index", "audio", "audio_format", "sample_rate", "src_lang", "tgt_lang",
                  "features", "seq", "payload", "is_final", "client_version", "platform", "mode", "lang_a",
                  "lang_b", "trace_id", "manual_cut", "dialect", "reason", "enable_streaming_asr", "pairing_code"]
NODE_FIELDS = ["node_id", "version", "platform", "hardware", "installed_models", "features_supported",
               "max_concurrent_jobs", "resource_usage", "capability_state", "job_id", "attempt_id", "success",
               "text_asr", "text_translated", "tts_audio", "tts_format", "tts_sample_rate", "extra", "error",
               "utterance_index", "text", "is_final", "code", "message", "details", "accept_public_jobs"]


_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=False) | st.text(max_size=30))
json_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def frames(types: list[str], fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects whose `type` is mostly one of `types` and whose keys are mostly the protocol's own field
    names, with values of any JSON type (and base64-looking strings)."""
    value = json_values | st.text(alphabet="ABCDEFGHabcdefgh0123456789+/=", max_size=40)
    return st.builds(lambda kind, body: {**body, "type": kind} if kind is not None else body,
                     st.sampled_from(types) | st.none() | st.text(max_size=10),
                     st.dictionaries(st.sampled_from(fields) | st.text(max_size=8), value, max_size=8))


# ---- protobuf ----------------------------------------------------------------------------------------

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1), FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1), FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1), FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        return st.integers(low, high) | st.sampled_from([low, high, 0, 1])
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return st.floats(width=32 if kind == FieldDescriptor.TYPE_FLOAT else 64)
    if kind == FieldDescriptor.TYPE_STRING:
        return st.text(max_size=24) | st.text(min_size=200, max_size=400)
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=256) | st.binary(min_size=4000, max_size=8000)
    if kind == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values]) | st.integers(0, 200)
    raise TypeError(f"no strategy for field type {kind}")


def _field(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.GetOptions().map_entry:
            key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            return st.dictionaries(_scalar(key), _field(value, depth + 1), max_size=3)
        one = messages(field.message_type, depth + 1)
        return st.lists(one, max_size=3) if field.is_repeated else one
    return st.lists(_scalar(field), max_size=4) if field.is_repeated else _scalar(field)


def _fill(message: Message, values: dict[str, Any]) -> Message:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
            for k, v in value.items():
                if isinstance(v, Message):
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif field.is_repeated:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                for item in value:
                    target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            target.CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Random instances of the message type: each field left unset or given a random value (one field per
    oneof at most), nested messages down to a few levels."""
    from google.protobuf import message_factory

    cls = message_factory.GetMessageClass(descriptor)
    if depth > 3:
        return st.just(cls())
    oneof_names = {f.name for o in descriptor.oneofs for f in o.fields}
    plain = {f.name: _field(f, depth) for f in descriptor.fields if f.name not in oneof_names}
    choices = [st.none() | st.sampled_from(list(o.fields)).flatmap(
        lambda f, d=depth: st.tuples(st.just(f.name), _field(f, d))) for o in descriptor.oneofs]
    return st.builds(
        lambda values, picked: _fill(cls(), {**{k: v for k, v in values.items() if v is not None},
                                             **dict(p for p in picked if p is not None)}),
        st.fixed_dictionaries({}, optional=plain), st.tuples(*choices))
