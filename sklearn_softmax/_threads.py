"""The BLAS library's thread limit during fits.

A fit runs its own threads, each calling BLAS on one block of rows at a
time, and holds BLAS to one thread meanwhile: so every product is computed
the same way whatever limit the caller had set, and the fitted model does
not depend on it. The limit is process-wide, as BLAS libraries keep it, so
fits that overlap in several Python threads share one hold: the first to
start sets the limit to one, the last to end puts back the limit the first
found, unless another thread has set a limit of its own meanwhile (as the
end of a ``threadpool_limits`` block does), which then stands. The hold
sees a limit other than one only: a limit of one set meanwhile cannot be
told from its own, and is replaced, as limits set in several threads whose
spans overlap undo each other whoever sets them.

The loaded libraries are found through one threadpoolctl controller, made on
first use, as scikit-learn does for its own thread limits: finding them
takes milliseconds, a quarter of a fit on the digits data. A BLAS library
loaded after that is not seen.
"""

import contextlib
import functools
import threading

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
# The fits holding BLAS to one thread, and the limit of each BLAS library
# when the first of them started.
_holders = 0
_limits_found = None


@functools.cache
def _controller():
    return ThreadpoolController()


def _blas_libraries():
    return [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]


def _set_limit(lib, n_threads):
    # threadpoolctl 3.8 lets a single Python thread set OpenBLAS's
    # process-wide limit, and silently ignores the others: a fit run from
    # any thread must hold BLAS to one thread, and the fits coordinate
    # through the lock above, so the library's own setter is called.
    getattr(lib, "_real_set_num_threads", lib.set_num_threads)(n_threads)


def blas_architectures():
    """The CPU architectures that the loaded BLAS libraries chose kernels
    for, in lower case, as threadpoolctl reports them (OpenBLAS reports
    its core type, such as ``'skylakex'``; other libraries report none)."""
    return frozenset(
        str(lib.architecture).lower()
        for lib in _blas_libraries()
        if getattr(lib, "architecture", None)
    )


def _current_limit():
    return max((lib.get_num_threads() for lib in _blas_libraries()), default=1)


def blas_thread_limit():
    """The most threads a loaded BLAS library may use: the limit the caller
    set, also while fits hold BLAS to one thread; 1 without a library."""
    with _lock:
        if _limits_found is not None:
            return max((limit for _, limit in _limits_found), default=1)
    return _current_limit()


@contextlib.contextmanager
def single_threaded_blas():
    """Hold the BLAS libraries to one thread for the duration, shared with
    any other fit that holds them at the same time (see the module's
    docstring)."""
    global _holders, _limits_found
    with _lock:
        if _holders == 0:
            _limits_found = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
            for lib, _ in _limits_found:
                _set_limit(lib, 1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                for lib, limit in _limits_found:
                    if lib.get_num_threads() == 1:
                        _set_limit(lib, limit)
                _limits_found = None
