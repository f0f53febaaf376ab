"""Process-wide settings of a process that builds DEDI (``dedi``, Dagster run workers)."""

from __future__ import annotations

import ctypes
import os

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 64 << 20  # blocks below this come from the heap, not a fresh mapping
TRIM_THRESHOLD = 256 << 20  # free memory kept at the heap's top for the next block


def reuse_freed_memory() -> bool:
    """Let glibc's malloc hand freed large blocks to the next allocation.

    The Monte Carlo and the pandas steps allocate and free many 1 to 10 MB arrays (one
    batch of draws is 25 × 33,755 doubles, 6.75 MB). glibc maps each such block afresh and
    unmaps it when freed, so every new array pays a page fault per 4 KB: 390,000 faults and
    1.6 s of system time for 3,000 draws. Served from the heap instead: 88,000 faults, 0.5 s
    (``bench/bench_monte_carlo.py``). Peak memory barely moves; the process keeps up to
    ``TRIM_THRESHOLD`` of free memory for reuse.

    Leaves the allocator alone when the user set ``MALLOC_MMAP_THRESHOLD_`` or
    ``MALLOC_TRIM_THRESHOLD_`` (glibc's own variables), and off glibc. Returns whether it
    changed anything.
    """
    if any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD,
                                                                       TRIM_THRESHOLD))
