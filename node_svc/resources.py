"""Resource usage for heartbeats: CPU and memory via psutil, GPU via NVML when there is one."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

import psutil


@dataclass
class GpuInfo:
    name: str
    memory_mb: int


class ResourceMonitor:
    def __init__(self) -> None:
        self._nvml: Any = None
        with contextlib.suppress(Exception):  # no driver / no GPU: CPU-only node
            import pynvml

            pynvml.nvmlInit()
            if pynvml.nvmlDeviceGetCount() > 0:
                self._nvml = pynvml
        psutil.cpu_percent(interval=None)  # first call primes the counter

    @property
    def cpu_cores(self) -> int:
        return os.cpu_count() or 1

    @property
    def memory_mb(self) -> int:
        return int(psutil.virtual_memory().total // (1024 * 1024))

    def gpus(self) -> list[GpuInfo]:
        if self._nvml is None:
            return []
        nv = self._nvml
        out = []
        for i in range(nv.nvmlDeviceGetCount()):
            handle = nv.nvmlDeviceGetHandleByIndex(i)
            name = nv.nvmlDeviceGetName(handle)
            name = name.decode() if isinstance(name, bytes) else str(name)
            out.append(GpuInfo(name, int(nv.nvmlDeviceGetMemoryInfo(handle).total // (1024 * 1024))))
        return out

    def usage(self) -> tuple[float, float, float, float]:
        """(cpu %, memory %, gpu %, gpu memory %) right now."""
        gpu = gpu_mem = 0.0
        if self._nvml is not None:
            nv = self._nvml
            with contextlib.suppress(Exception):
                handle = nv.nvmlDeviceGetHandleByIndex(0)
                gpu = float(nv.nvmlDeviceGetUtilizationRates(handle).gpu)
                mem = nv.nvmlDeviceGetMemoryInfo(handle)
                gpu_mem = 100.0 * mem.used / mem.total
        return psutil.cpu_percent(interval=None), psutil.virtual_memory().percent, gpu, gpu_mem
