"""Where engines run: `auto` (CUDA when CTranslate2 sees a GPU), `cpu` or `cuda` (node setting `device`).

CPU is the tested default here (no GPU on these machines). On CUDA, CTranslate2 engines use float16 and
onnxruntime engines (Piper, Silero) the CUDA execution provider when the installed onnxruntime has it.
"""

from __future__ import annotations

from typing import Final

DEVICES: Final = ("auto", "cpu", "cuda")


def resolve_device(setting: str = "auto") -> str:
    """'cpu' or 'cuda' for a setting; 'cuda' asked for on a machine without a GPU is an error."""
    import ctranslate2

    if setting not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {setting!r}")
    gpus = ctranslate2.get_cuda_device_count()
    if setting == "cuda" and gpus == 0:
        raise ValueError("device 'cuda' was asked for but CTranslate2 sees no CUDA device")
    if setting == "auto":
        return "cuda" if gpus > 0 else "cpu"
    return setting


def ct2_compute_type(device: str) -> str:
    """int8 weights on CPU; float16 on a GPU (int8_float16 would also do, float16 is the safe choice)."""
    return "float16" if device == "cuda" else "int8"


def onnx_providers(device: str) -> list[str]:
    """onnxruntime providers for `device`: CUDA first when this onnxruntime build has it."""
    import onnxruntime as ort

    if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]
