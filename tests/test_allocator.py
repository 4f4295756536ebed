"""The host allocator setting made at import (backend.keep_freed_memory): freed arrays stay in
the heap for the next step, unless MINIGEN_ALLOCATOR=system or the user set MALLOC_* themselves.
Each case runs in a fresh process, since the setting belongs to the whole process."""
import os
import subprocess
import sys

import pytest

PROBE = """
import os
import minigen, numpy as np
def resident_mib():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
a = np.ones(20 * 2**20 // 8)          # 20 MiB: above glibc's default mmap threshold, below ours
a[:] = 2.0
before = resident_mib()
del a
print(minigen.backend.freed_memory_kept, before - resident_mib())
"""



def _on_glibc():
    try:
        return sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):       # no such name: not glibc
        return False


linux_glibc = pytest.mark.skipif(not _on_glibc(), reason="the setting is for glibc on Linux")


def probe(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "MINIGEN_ALLOCATOR"}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    return out[0] == "True", float(out[1])


@linux_glibc
def test_freed_arrays_stay_in_the_process_for_reuse():
    kept, given_back = probe()
    assert kept and given_back < 1.0


@linux_glibc
@pytest.mark.parametrize("env", [{"MINIGEN_ALLOCATOR": "system"}, {"MALLOC_TRIM_THRESHOLD_": "131072"}])
def test_the_opt_out_and_an_explicit_malloc_setting_leave_glibc_alone(env):
    kept, given_back = probe(**env)
    assert not kept and given_back > 15.0     # the 20 MiB went straight back to the kernel
