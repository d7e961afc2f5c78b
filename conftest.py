"""Test-session setup shared by the tests, the doctests and the README."""

import os

# scipy reads this once, at import: it turns on the array-API code paths that
# scikit-learn's array-API estimator checks exercise.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
