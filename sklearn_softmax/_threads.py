"""The BLAS library's thread limit, read and set through one threadpoolctl
controller per process.

Finding the loaded native libraries takes milliseconds, a quarter of a fit on
the digits data, so it is done once, on first use, as scikit-learn does for
its own thread limits; a BLAS library loaded after that is not seen.
"""

import functools

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller():
    return ThreadpoolController()


def blas_thread_limit():
    """The most threads a loaded BLAS library may use now; 1 without one."""
    return max(
        (
            lib["num_threads"]
            for lib in _controller().info()
            if lib["user_api"] == "blas"
        ),
        default=1,
    )


def limit_blas_threads(n_threads):
    """A context manager holding the BLAS libraries to ``n_threads``."""
    return _controller().limit(limits=n_threads, user_api="blas")
