"""The node's device setting: auto/cpu/cuda, what each engine is given."""

from __future__ import annotations

import ctranslate2
import pytest

from node_svc.engines.device import ct2_compute_type, onnx_providers, resolve_device
from node_svc.models.setup import parse_voices


def test_cpu_is_always_cpu_and_bad_settings_are_refused() -> None:
    assert resolve_device("cpu") == "cpu"
    assert ct2_compute_type("cpu") == "int8" and ct2_compute_type("cuda") == "float16"
    assert onnx_providers("cpu") == ["CPUExecutionProvider"]
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("tpu")


@pytest.mark.skipif(ctranslate2.get_cuda_device_count() > 0, reason="this machine has a GPU")
def test_without_a_gpu_auto_is_cpu_and_cuda_is_an_error() -> None:
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda")


def test_voice_overrides_parse() -> None:
    assert parse_voices(" es=espeak-ng, fr = piper-fr ") == {"es": "espeak-ng", "fr": "piper-fr"}
    assert parse_voices("") == {}
    with pytest.raises(ValueError, match="lang=model_id"):
        parse_voices("es")
