"""Classes of the benchmarks (`bench_hdf5.py`, `bench_mpi.py`), with Python anamnesis 1.0.4.

Imported as `bench_classes`, their tags (`bench_classes.SmallObject`, ...) are the tags the
Rust benchmark (`benches/hdf5/`) writes, so either side's files load in the other.
"""

from anamnesis import AbstractAnam, AnamCollection, register_class

__all__ = []


def _anam(cls):
    register_class(cls)
    __all__.append(cls.__name__)
    return cls


class _Fields(AbstractAnam):
    """An anamnesis class whose members are its `hdf5_outputs`, set by keyword."""

    hdf5_outputs = []

    def __init__(self, **kwargs):
        AbstractAnam.__init__(self)
        for name in self.hdf5_outputs:
            setattr(self, name, kwargs.get(name))


# --- HDF5 (W1-W3) ------------------------------------------------------------------------


@_anam
class SmallObject(_Fields):
    """W1: a string, an integer and a 3-element float64 array."""

    hdf5_outputs = ["name", "value", "data"]


@_anam
class SmallObjectNoArray(_Fields):
    """W1 without the array (the issue's Python figures)."""

    hdf5_outputs = ["name", "value"]


@_anam
class SmallCollection(AnamCollection):
    pass


@_anam
class SmallCollectionNoArray(AnamCollection):
    pass


@_anam
class BigArrays(_Fields):
    """W2: a float64 and a complex64 array."""

    hdf5_outputs = ["real", "cplx"]


@_anam
class Node(_Fields):
    """W3: each node holds the next."""

    hdf5_outputs = ["level", "child"]


@_anam
class MapHolder(_Fields):
    """W3: a dict of string keys and integers."""

    hdf5_outputs = ["entries"]


@_anam
class ListHolder(_Fields):
    """W3: a list mixing ints, floats, strings and Items."""

    hdf5_outputs = ["items"]


@_anam
class Item(_Fields):
    hdf5_outputs = ["name", "value"]


# --- MPI (M1-M3, as benches/mpi.rs) -------------------------------------------------------


@_anam
class MpiSmallObject(_Fields):
    """M1: two scalar fields."""

    hdf5_outputs = ["name", "age"]


@_anam
class MpiArrayObject(_Fields):
    """M3: a label and a large float64 array."""

    hdf5_outputs = ["label", "data"]


@_anam
class MpiMember(_Fields):
    """M2's members: a string, an int and a 3-element array."""

    hdf5_outputs = ["name", "index", "values"]


@_anam
class MpiMembers(AnamCollection):
    """M2: the collection."""

    anam_combine = ["values"]
