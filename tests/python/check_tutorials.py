#!/usr/bin/env python3
"""Check the HDF5 files of the serialisation tutorials with Python anamnesis 1.0.4.

Usage:
    check_tutorials.py DIR

DIR holds the files the tutorial write examples (examples/tutorial*_write.rs and
tutorial2_extradata.rs) or the Python scripts of tests/python/tutorial_scripts wrote:
test_script1.hdf5, test_script2.hdf5, test_script2_aliases.hdf5,
test_script2_extradata.hdf5, test_script3.hdf5 and test_script4.hdf5.  Each is loaded as
the tutorials load it (obj_from_hdf5file, or Class.from_hdf5file for default groups), with
the tutorial classes of ../fixtures/generator/classes, and every value the examples write
is asserted: class, names, ages, location, destination (and the two lines
ComplexTrain.init_from_hdf5 prints), the alias file's stored class tag, extra_data, the
collection's five members with their deterministic arrays (exact values, float64) and the
update_cache() shapes, the Store's entries.

A missing file fails, as does a test_script*.hdf5 file this script has no check for
(other files, such as demo.hdf5, are ignored).

Output: one line per check, "OK file: what" or "FAIL file: what: reason", then
"N passed, M failed".  Exit status 1 if anything failed, 2 on a usage error.
"""
import contextlib
import io
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'generator', 'classes'))

sys.dont_write_bytecode = True  # keep the fixtures' classes/ directory clean
sys.path.insert(0, CLASSES)
import h5py  # noqa: E402
from anamnesis import obj_from_hdf5file  # noqa: E402
import test_classes1  # noqa: E402,F401
from test_classes2 import ComplexPerson, ComplexPlace  # noqa: E402
import test_classes3  # noqa: E402,F401


class Mismatch(Exception):
    pass


def clsname(obj):
    t = type(obj)
    return t.__module__ + '.' + t.__name__


def expect(what, got, want):
    if type(want) is int:
        ok = isinstance(got, (int, np.integer)) and not isinstance(got, (bool, np.bool_)) \
            and got == want
    elif type(want) is str:
        ok = isinstance(got, str) and got == want
    else:
        ok = got == want
    if not ok:
        raise Mismatch('{}: got {!r} ({}), want {!r}'.format(what, got, type(got).__name__,
                                                             want))


def expect_class(obj, want):
    expect('class', clsname(obj), want)


def expect_array(what, got, want):
    if not isinstance(got, np.ndarray):
        raise Mismatch('{}: not an array: {!r}'.format(what, got))
    if got.dtype != want.dtype or got.shape != want.shape:
        raise Mismatch('{}: {} {}, want {} {}'.format(what, got.dtype, got.shape,
                                                      want.dtype, want.shape))
    if not np.array_equal(got, want):
        bad = np.argwhere(got != want)[0]
        raise Mismatch('{}: differs at {}: {!r} != {!r}'.format(
            what, tuple(bad), got[tuple(bad)], want[tuple(bad)]))


def load(path, group=None):
    """obj_from_hdf5file, returning (object, what it printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        obj = obj_from_hdf5file(path, group) if group else obj_from_hdf5file(path)
    return obj, out.getvalue()


def check_person(p, cls, name, age, extra):
    expect_class(p, cls)
    expect('name', p.name, name)
    expect('age', p.age, age)
    expect('extra_data', dict(p.extra_data), extra)


# --- the checks: (file, description, function(path)) -------------------------------------

def script1(group):
    def check(path):
        s, _ = load(path, group)
        check_person(s, 'test_classes1.SimplePerson', 'Fred', 42, {})
    return check


def script2_person(path):
    s = ComplexPerson.from_hdf5file(path)
    check_person(s, 'test_classes2.ComplexPerson', 'Anna', 45, {})


def script2_place(path):
    loc = ComplexPlace.from_hdf5file(path)
    expect_class(loc, 'test_classes2.ComplexPlace')
    expect('location', loc.location, 'York')


def script2_train(path):
    t, printed = load(path, 'train')
    expect_class(t, 'test_classes2.ComplexTrain')
    expect('destination', t.destination, 'Glasgow')
    expect('init_from_hdf5 output', printed,
           'ComplexTrain.init_from_hdf5\nWe have already set destination: Glasgow\n')


def script2_alias_tag(path):
    with h5py.File(path, 'r') as f:
        tag = f['person'].attrs['class']
    if isinstance(tag, bytes):
        tag = tag.decode('utf-8')
    expect("stored class of 'person'", tag, 'test_classes2.OldComplexPerson')


def script2_alias_load(path):
    s, _ = load(path, 'person')
    check_person(s, 'test_classes2.ComplexPerson', 'Anna', 45, {})


def script2_extradata(path):
    p, _ = load(path)
    check_person(p, 'test_classes2.ComplexPerson', 'Bob', 75, {'hometown': 'Oxford'})


def stats(person):
    """The deterministic data of tutorial 3 (instead of the tutorial's random data)."""
    zstats = np.arange(100).reshape(10, 10) * 0.5 + person
    rts = np.linspace(0, 450, 100) + person
    return zstats, rts


def script3_members(path):
    c, _ = load(path)
    expect_class(c, 'test_classes3.StatsCollection')
    expect('number of members', len(c.members), 5)
    for i, p in enumerate(c.members):
        expect_class(p, 'test_classes3.CollectableSubjectStats')
        zstats, rts = stats(i)
        expect_array('member {} zstats'.format(i), p.zstats, zstats)
        expect_array('member {} rts'.format(i), p.rts, rts)


def script3_combined(path):
    c, _ = load(path)
    c.update_cache()
    expect('zstats shape', c.zstats.shape, (10, 10, 5))
    expect('rts shape', c.rts.shape, (100, 5))
    expect_array('combined zstats', c.zstats, np.stack([stats(i)[0] for i in range(5)], -1))
    expect_array('combined rts', c.rts, np.stack([stats(i)[1] for i in range(5)], -1))


def script4(path):
    s, _ = load(path)
    expect_class(s, 'anamnesis.store.Store')
    expect('extra_data', dict(s.extra_data),
           {'airport_from': 'Manchester', 'airport_to': 'Schipol'})
    expect('airport_from', s.extra_data['airport_from'], 'Manchester')
    expect('airport_to', s.extra_data['airport_to'], 'Schipol')


CHECKS = [
    ('test_script1.hdf5', 'SimplePerson from the first group', script1(None)),
    ('test_script1.hdf5', "SimplePerson from group 'person'", script1('person')),
    ('test_script2.hdf5', 'ComplexPerson.from_hdf5file (default group)', script2_person),
    ('test_script2.hdf5', 'ComplexPlace.from_hdf5file (default group)', script2_place),
    ('test_script2.hdf5', "ComplexTrain from group 'train', init_from_hdf5", script2_train),
    ('test_script2_aliases.hdf5', 'stored class tag is the alias', script2_alias_tag),
    ('test_script2_aliases.hdf5', 'alias loads as ComplexPerson', script2_alias_load),
    ('test_script2_extradata.hdf5', 'ComplexPerson with extra_data', script2_extradata),
    ('test_script3.hdf5', 'StatsCollection members', script3_members),
    ('test_script3.hdf5', 'StatsCollection update_cache', script3_combined),
    ('test_script4.hdf5', 'Store entries', script4),
]


def main(argv):
    if len(argv) != 2 or argv[1].startswith('-'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    directory = argv[1]
    if not os.path.isdir(directory):
        print('check_tutorials.py: {} is not a directory'.format(directory), file=sys.stderr)
        return 2
    passed = failed = 0
    known = {name for name, _, _ in CHECKS}
    for name in sorted(os.listdir(directory)):
        if name.startswith('test_script') and name.endswith('.hdf5') and name not in known:
            print('FAIL {}: no check for this file'.format(name))
            failed += 1
    for name, what, check in CHECKS:
        path = os.path.join(directory, name)
        try:
            if not os.path.exists(path):
                raise Mismatch('missing')
            check(path)
        except Exception as e:  # noqa: BLE001 - every failure is reported, then counted
            reason = str(e) if isinstance(e, Mismatch) else '{}: {}'.format(
                type(e).__name__, e)
            print('FAIL {}: {}: {}'.format(name, what, reason))
            failed += 1
        else:
            print('OK {}: {}'.format(name, what))
            passed += 1
    print('{} passed, {} failed'.format(passed, failed))
    return 1 if failed or not passed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
