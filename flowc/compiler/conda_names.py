"""conda package names -> PyPI names, for serving `@conda` with uv.

Most conda packages of Python libraries share the PyPI name; RENAMES lists the
common ones that do not.  Some conda packages are not Python libraries at all
(compilers, CUDA, R, system tools): they have no PyPI equivalent and a step
asking for one is an error at its decorator, never a silent skip.
"""

from __future__ import annotations

RENAMES = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-lightgbm": "lightgbm",
    "py-opencv": "opencv-python",
    "opencv": "opencv-python",
    "matplotlib-base": "matplotlib",
    "numpy-base": "numpy",
    "msgpack-python": "msgpack",
    "python-graphviz": "graphviz",
    "pytables": "tables",
    "ruamel_yaml": "ruamel.yaml",
    "tensorflow-base": "tensorflow",
    "tensorflow-cpu": "tensorflow",
    "pyqt": "PyQt5",
}

# conda packages that are not Python libraries: no PyPI package installs them.
NO_PYPI = frozenset(
    {
        "blas",
        "cmake-base",
        "cuda",
        "cuda-toolkit",
        "cudatoolkit",
        "cudnn",
        "curl",
        "ffmpeg",
        "gcc",
        "gfortran",
        "git",
        "graphviz",
        "gxx",
        "libblas",
        "libgcc-ng",
        "libgfortran",
        "liblapack",
        "libstdcxx-ng",
        "make",
        "nccl",
        "nodejs",
        "openblas",
        "openjdk",
        "openssl",
        "python",
        "zlib",
    }
)
# Prefixes of conda-only families: R packages, conda's own metapackages.
NO_PYPI_PREFIXES = ("r-", "_", "conda-")


def conda_to_pypi(name: str) -> str | None:
    """The PyPI name serving conda package `name`, or None when none does."""
    key = name.lower()
    if key in RENAMES:
        return RENAMES[key]
    if key in NO_PYPI or key.startswith(NO_PYPI_PREFIXES):
        return None
    return name
