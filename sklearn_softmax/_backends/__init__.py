"""What differs between the kinds of input a fit takes: NumPy and SciPy data
in memory, the arrays of an Array API namespace on their device, and dask
collections. Each kind has a backend that validates the data and encodes its
labels (:meth:`prepare`), resolves the solver it can run (:meth:`solver`),
binds the objective to the data and runs the solver (:meth:`minimize`), and
puts the fitted attributes where the data lives (:meth:`place`); the
estimator runs the same steps for all of them."""

from .._array_api import input_namespace
from .._dask import is_dask_collection
from ._common import FitData, ObjectiveSpec, SolveSettings
from ._numpy import NumpyBackend


def backend_for(X):
    """The backend for data ``X``."""
    if is_dask_collection(X):
        from ._dask import DaskBackend

        return DaskBackend()
    namespace = input_namespace(X)
    if namespace is None:
        return NumpyBackend()
    from ._array_api import ArrayAPIBackend

    return ArrayAPIBackend(*namespace)


__all__ = ["FitData", "NumpyBackend", "ObjectiveSpec", "SolveSettings", "backend_for"]
