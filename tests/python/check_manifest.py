#!/usr/bin/env python3
"""Check HDF5 files against the anamnesis 1.0.4 fixture manifest, using Python anamnesis.

Usage:
    check_manifest.py DIR [--files a.hdf5,b.hdf5] [--require-all]

The manifest is always ../fixtures/anamnesis-1.0.4/manifest.json (relative to this
script); it says, per file and group, what the file must load as.  For every manifest
file that exists in DIR (or only those named with --files), each group is loaded with
anamnesis.obj_from_hdf5file(path, group) and every value the manifest states is
checked against the loaded Python object.  The formula strings in the manifest are
implemented here exactly as tests/fixtures/generator/make_fixtures.py computes them;
a formula string this script does not know is a failure (so the checker cannot go
silently stale when the generator changes).

Output: one line per group, "OK file group" or "FAIL file group: reason", then
"N passed, M failed".  Exit status is 1 if anything failed or nothing was checked,
2 on usage errors.

Workarounds for anamnesis 1.0.4 under current numpy/h5py (they do not weaken checks):
  * numpy 1.24..1.26 has no `np.bool`, which anamnesis uses to read boolean datasets;
    it is aliased to np.bool_ before anamnesis is imported.
  * anamnesis calls .decode on each `namemaps` entry, which h5py returns as str when
    the attribute is a variable-length string (as Python anamnesis itself now writes
    it); such entries are handed to anamnesis as bytes.  The stored layout (namemaps
    row ['order', '_order'], member stored under 'order') is checked with h5py too.
"""
import argparse
import contextlib
import io
import json
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, '..', 'fixtures'))
MANIFEST = os.path.join(FIXTURES, 'anamnesis-1.0.4', 'manifest.json')
CLASSES = os.path.join(FIXTURES, 'generator', 'classes')

# --- compatibility shims (see module docstring) ------------------------------------
if 'bool' not in np.__dict__:
    np.bool = np.bool_

import h5py  # noqa: E402
import h5py._hl.attrs  # noqa: E402

_orig_attr_getitem = h5py._hl.attrs.AttributeManager.__getitem__


def _attr_getitem(self, name):
    value = _orig_attr_getitem(self, name)
    if (name == 'namemaps' and isinstance(value, np.ndarray) and value.dtype == object):
        value = np.array([v.encode('utf-8') if isinstance(v, str) else v
                          for v in value.flat], dtype=object).reshape(value.shape)
    return value


h5py._hl.attrs.AttributeManager.__getitem__ = _attr_getitem

sys.dont_write_bytecode = True  # keep the fixtures' classes/ directory clean
sys.path.insert(0, CLASSES)
from anamnesis import obj_from_hdf5file  # noqa: E402
import test_classes1  # noqa: E402,F401
import test_classes2  # noqa: E402,F401
import test_classes3  # noqa: E402,F401
import fixture_classes  # noqa: E402
from fixture_classes import ExampleWriter  # noqa: E402


class Mismatch(Exception):
    pass


def clsname(obj):
    t = type(obj)
    return t.__module__ + '.' + t.__name__


def text(v):
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode('utf-8')
    return str(v) if isinstance(v, np.str_) else v


def short(v, n=120):
    r = repr(v)
    return r if len(r) <= n else r[:n] + '...'


# --- generic comparison -------------------------------------------------------------
def is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def is_float(v):
    return isinstance(v, (float, np.floating))


def compare(expected, actual, where, float_tol=None):
    """Raise Mismatch unless `actual` (a loaded Python value) matches `expected`.

    Scalars must have the same kind (bool / integer / float / str) and value; lists
    compare element-wise; dicts by key set (keys compared with kinds) and values;
    ExampleWriter objects by type and .dat (and no extra_data); arrays by dtype,
    shape and values (exactly, or within float_tol relative for inexact formulas).
    """
    if expected is None:
        if actual is not None:
            raise Mismatch('%s: expected None, got %s' % (where, short(actual)))
    elif isinstance(expected, np.ndarray):
        if not isinstance(actual, np.ndarray):
            raise Mismatch('%s: expected numpy array, got %s %s'
                           % (where, type(actual).__name__, short(actual)))
        if actual.dtype != expected.dtype:
            raise Mismatch('%s: dtype %s, expected %s' % (where, actual.dtype, expected.dtype))
        if actual.shape != expected.shape:
            raise Mismatch('%s: shape %s, expected %s'
                           % (where, list(actual.shape), list(expected.shape)))
        if float_tol is not None:
            ok = np.allclose(actual, expected, rtol=float_tol, atol=float_tol)
        else:
            ok = np.array_equal(actual, expected)
        if not ok:
            raise Mismatch('%s: values %s, expected %s'
                           % (where, short(actual.tolist()), short(expected.tolist())))
    elif isinstance(expected, bool):
        if not isinstance(actual, (bool, np.bool_)) or bool(actual) != expected:
            raise Mismatch('%s: expected bool %r, got %s %s'
                           % (where, expected, type(actual).__name__, short(actual)))
    elif isinstance(expected, int):
        if not is_int(actual) or int(actual) != expected:
            raise Mismatch('%s: expected integer %r, got %s %s'
                           % (where, expected, type(actual).__name__, short(actual)))
    elif isinstance(expected, float):
        if not is_float(actual) or float(actual) != expected:
            raise Mismatch('%s: expected float %r, got %s %s'
                           % (where, expected, type(actual).__name__, short(actual)))
    elif isinstance(expected, str):
        if not isinstance(actual, str) or actual != expected:
            raise Mismatch('%s: expected str %r, got %s %s'
                           % (where, expected, type(actual).__name__, short(actual)))
    elif isinstance(expected, list):
        if not isinstance(actual, list):
            raise Mismatch('%s: expected list, got %s %s'
                           % (where, type(actual).__name__, short(actual)))
        if len(actual) != len(expected):
            raise Mismatch('%s: list length %d, expected %d (got %s)'
                           % (where, len(actual), len(expected), short(actual)))
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, '%s[%d]' % (where, i), float_tol)
    elif isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise Mismatch('%s: expected dict, got %s %s'
                           % (where, type(actual).__name__, short(actual)))
        if len(actual) != len(expected):
            raise Mismatch('%s: dict has keys %s, expected %s'
                           % (where, short(list(actual)), short(list(expected))))
        akeys = list(actual)
        for ek, ev in expected.items():
            match = None
            for ak in akeys:
                try:
                    compare(ek, ak, 'key')
                except Mismatch:
                    continue
                match = ak
                break
            if match is None:
                raise Mismatch('%s: key %r (%s) missing; keys are %s'
                               % (where, ek, type(ek).__name__,
                                  short([(k, type(k).__name__) for k in akeys])))
            akeys.remove(match)
            compare(ev, actual[match], '%s[%r]' % (where, ek), float_tol)
    elif isinstance(expected, ExampleWriter):
        if clsname(actual) != 'fixture_classes.ExampleWriter':
            raise Mismatch('%s: expected fixture_classes.ExampleWriter, got %s %s'
                           % (where, clsname(actual), short(actual)))
        check_extra_empty(actual, where)
        compare(expected.dat, actual.dat, where + '.dat', float_tol)
    else:  # pragma: no cover - only manifest/JSON/known formula values reach here
        raise Mismatch('%s: checker cannot compare %s' % (where, type(expected).__name__))


def check_extra_empty(obj, where):
    extra = {k: v for k, v in getattr(obj, 'extra_data', {}).items() if k != 'namemaps'}
    if extra:
        raise Mismatch('%s: unexpected extra_data %s' % (where, short(sorted(extra))))


def member(obj, name, where):
    if not hasattr(obj, name):
        raise Mismatch('%s: loaded object has no attribute %r' % (where, name))
    return getattr(obj, name)


# --- the formulas of make_fixtures.py ----------------------------------------------
EW = ExampleWriter

DAT_FORMULAS = {
    "[1, [ExampleWriter(dat=5), 2], 'a', 4.5, ExampleWriter(dat='x'), [1, None, 'foo'], [], [[]]]":
        lambda: [1, [EW(5), 2], 'a', 4.5, EW('x'), [1, None, 'foo'], [], [[]]],
    "{'A': 1, 'B': 'two', 3: ExampleWriter(dat=3), 'nested': {'c': 99, 'e': [1, 2]}}":
        lambda: {'A': 1, 'B': 'two', 3: EW(3), 'nested': {'c': 99, 'e': [1, 2]}},
    '[ExampleWriter(dat=1), ExampleWriter(dat=2), ExampleWriter(dat=3)] (legacy LISTS layout)':
        lambda: [EW(1), EW(2), EW(3)],
}

BASE = [[1, 2, 3], [4, 5, 6]]
INTS = [('i8', np.int8), ('i16', np.int16), ('i32', np.int32), ('i64', np.int64),
        ('u8', np.uint8), ('u16', np.uint16), ('u32', np.uint32), ('u64', np.uint64)]


def _ints(base):
    out = []
    for nm, dt in INTS:
        if nm.startswith('u'):
            out.append((nm, np.abs(np.array(base, dtype=np.int64)).astype(dt)))
        else:
            out.append((nm, np.array(base, dtype=dt)))
    return out


# key -> (formula string, function(base) -> [(attribute, expected array)])
ARRAY_FORMULAS = {
    'i8..i64, u8..u64': ('base (abs for unsigned) in that dtype, shape [2,3]', _ints),
    'f32': ('base/4 float32', lambda b: [('f32', np.array(b, dtype=np.float32) / 4)]),
    'f64': ('base/8 float64', lambda b: [('f64', np.array(b, dtype=np.float64) / 8)]),
    'c64': ('base + 1j*base complex64', lambda b: [('c64', (
        np.array(b, dtype=np.float32) + 1j * np.array(b, dtype=np.float32)).astype(np.complex64))]),
    'c128': ('base - 2j complex128', lambda b: [('c128', np.array(b, dtype=np.float64) - 2j)]),
    'b': ('base % 2 == 0 (bool)', lambda b: [('b', np.array(b) % 2 == 0)]),
    'empty0d': ('float64 shape [] (0-d)', lambda b: [('empty0d', np.zeros((), np.float64))]),
    'empty1d': ('float64 shape [0]', lambda b: [('empty1d', np.array([], dtype=np.float64))]),
    'empty2d': ('float64 shape [2,0]', lambda b: [('empty2d', np.zeros((2, 0), np.float64))]),
    'empty3d_f32': ('float32 shape [2,3,0]',
                    lambda b: [('empty3d_f32', np.zeros((2, 3, 0), np.float32))]),
    'empty3d_i16': ('int16 shape [2,3,0]',
                    lambda b: [('empty3d_i16', np.zeros((2, 3, 0), np.int16))]),
}

ZSTATS = 'arange(100).reshape(10,10)*0.5 + p  (float64)'
RTS = 'linspace(0, 450, 100) + p  (float64)'
NAMEMAP_KEY = 'python attribute _order, stored as order'


def zstats(p):
    return np.arange(100, dtype=np.float64).reshape(10, 10) * 0.5 + p


def rts(p):
    return np.linspace(0.0, 450.0, 100) + p


def expected_formula(key, value, known):
    if value != known:
        raise Mismatch('manifest %r is %r; this checker implements %r (update the checker)'
                       % (key, value, known))


# --- per-group checks ---------------------------------------------------------------
def check_extra_data(spec, obj, where):
    actual = {k: v for k, v in getattr(obj, 'extra_data', {}).items() if k != 'namemaps'}
    if sorted(actual) != sorted(spec):
        raise Mismatch('%s.extra_data keys %s, expected %s'
                       % (where, sorted(actual), sorted(spec)))
    for k, v in spec.items():
        if isinstance(v, dict) and set(v) == {'dtype', 'data'}:
            v = np.array(v['data'], dtype=np.dtype(v['dtype']))
        compare(v, actual[k], '%s.extra_data[%r]' % (where, k))


def check_object(spec, obj, where, h5group=None):
    """Check a loaded object against a manifest group spec (recursively)."""
    keys = dict(spec)
    if 'loads as' in keys:
        want = keys.pop('loads as')
        in_file = keys.pop('class (in file)', None)
        if in_file is not None and h5group is not None:
            got = text(h5group.attrs.get('class'))
            if got != in_file:
                raise Mismatch('%s: class attribute in file is %r, expected %r'
                               % (where, got, in_file))
    else:
        want = keys.pop('class')
        if h5group is not None:
            got = text(h5group.attrs.get('class'))
            if got != want:
                raise Mismatch('%s: class attribute in file is %r, expected %r'
                               % (where, got, want))
    if clsname(obj) != want:
        raise Mismatch('%s: loaded as %s, expected %s' % (where, clsname(obj), want))

    if 'extra_data' in keys:
        check_extra_data(keys.pop('extra_data'), obj, where)
    else:
        check_extra_empty(obj, where)

    if 'base' in keys:  # arrays.hdf5
        base = keys.pop('base')
        compare(BASE, base, 'manifest base')
        for key in list(keys):
            if key in ARRAY_FORMULAS:
                formula, make = ARRAY_FORMULAS[key]
                expected_formula(key, keys.pop(key), formula)
                for attr, arr in make(base):
                    compare(arr, member(obj, attr, where), '%s.%s' % (where, attr))

    if 'member p zstats' in keys:  # tutorial3.hdf5 (AnamCollection)
        expected_formula('member p zstats', keys.pop('member p zstats'), ZSTATS)
        expected_formula('member p rts', keys.pop('member p rts', None), RTS)
        n = keys.pop('members')
        mclass = keys.pop('member class')
        members = member(obj, 'members', where)
        if not isinstance(members, list) or len(members) != n:
            raise Mismatch('%s.members: expected a list of %d, got %s'
                           % (where, n, short(members)))
        for p, m in enumerate(members):
            mw = '%s.members[%d]' % (where, p)
            if clsname(m) != mclass:
                raise Mismatch('%s: loaded as %s, expected %s' % (mw, clsname(m), mclass))
            check_extra_empty(m, mw)
            compare(zstats(p), member(m, 'zstats', mw), mw + '.zstats')
            compare(rts(p), member(m, 'rts', mw), mw + '.rts', float_tol=1e-12)
        obj.update_cache()
        for attr in ('zstats', 'rts'):
            shape = keys.pop('combined %s shape' % attr)
            got = getattr(obj, attr)
            if not isinstance(got, np.ndarray) or list(got.shape) != shape:
                raise Mismatch('%s.%s after update_cache(): shape %s, expected %s'
                               % (where, attr, list(getattr(got, 'shape', [])) or short(got),
                                  shape))
            for p, m in enumerate(members):
                if not np.array_equal(got[..., p], getattr(m, attr)):
                    raise Mismatch('%s.%s[..., %d] after update_cache() differs from member %d'
                                   % (where, attr, p, p))

    if NAMEMAP_KEY in keys:  # namemap.hdf5
        order = keys.pop(NAMEMAP_KEY)
        compare(order, member(obj, '_order', where), where + '._order')
        if h5group is not None:
            check_namemap_layout(h5group, where)

    for key, value in keys.items():
        w = '%s.%s' % (where, key)
        if key == 'dat' and isinstance(value, str) and value in DAT_FORMULAS:
            compare(DAT_FORMULAS[value](), member(obj, key, where), w)
        elif isinstance(value, dict) and 'class' in value:
            sub = h5group.get(key) if h5group is not None else None
            check_object(value, member(obj, key, where), w,
                         sub if isinstance(sub, h5py.Group) else None)
        elif isinstance(value, dict):
            raise Mismatch('%s: checker does not understand manifest value %s'
                           % (w, short(value)))
        else:
            compare(value, member(obj, key, where), w)


def check_namemap_layout(g, where):
    """The stored layout of a name-mapped member, read with h5py directly."""
    if 'namemaps' not in g.attrs:
        raise Mismatch('%s: no namemaps attribute' % where)
    nm = np.asarray(_orig_attr_getitem(g.attrs, 'namemaps'))
    if nm.ndim != 2 or nm.shape[1] != 2:
        raise Mismatch('%s: namemaps has shape %s, expected [N, 2]' % (where, list(nm.shape)))
    rows = [[text(x) for x in row] for row in nm]
    if ['order', '_order'] not in rows:
        raise Mismatch("%s: namemaps rows %s lack ['order', '_order']" % (where, rows))
    if 'order' not in g and 'order' not in g.attrs:
        raise Mismatch("%s: nothing stored under 'order'" % where)
    if '_order' in g or '_order' in g.attrs:
        raise Mismatch("%s: '_order' stored under its Python name" % where)


def check_group(path, group, spec):
    with h5py.File(path, 'r') as f:
        if group not in f:
            raise Mismatch('no group %r in file (has %s)' % (group, sorted(f.keys())))
    if 'expect' in spec:  # badclass.hdf5: loading must fail, naming the class
        cls = spec['class']
        with h5py.File(path, 'r') as f:
            got = text(f[group].attrs.get('class'))
        if got != cls:
            raise Mismatch('class attribute in file is %r, expected %r' % (got, cls))
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                obj = obj_from_hdf5file(path, group)
        except Exception as e:  # noqa: BLE001 - any error will do if it names the class
            if cls not in str(e):
                raise Mismatch('error does not mention %s: %s: %s'
                               % (cls, type(e).__name__, e))
            return
        raise Mismatch('loading succeeded (as %s), expected an error naming %s'
                       % (clsname(obj), cls))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            obj = obj_from_hdf5file(path, group)
    except Exception as e:  # noqa: BLE001
        raise Mismatch('anamnesis failed to load it: %s: %s' % (type(e).__name__, e))
    with h5py.File(path, 'r') as f:
        check_object(spec, obj, group, f[group])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('dir', help='directory holding the HDF5 files to check')
    ap.add_argument('--files', help='comma-separated file names: check only these')
    ap.add_argument('--require-all', action='store_true',
                    help='every file in the manifest must exist in DIR')
    args = ap.parse_args(argv)

    with open(MANIFEST) as fh:
        manifest = json.load(fh)
    if not os.path.isdir(args.dir):
        ap.error('not a directory: %s' % args.dir)

    if args.files:
        names = [n.strip() for n in args.files.split(',') if n.strip()]
        unknown = [n for n in names if n not in manifest]
        if unknown:
            ap.error('not in the manifest: %s' % ', '.join(unknown))
    else:
        names = sorted(manifest)

    passed = failed = 0
    for name in names:
        path = os.path.join(args.dir, name)
        for group in sorted(manifest[name]):
            if not os.path.isfile(path):
                if args.files or args.require_all:
                    print('FAIL %s %s: file missing from %s' % (name, group, args.dir))
                    failed += 1
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore', FutureWarning)
                    check_group(path, group, manifest[name][group])
            except Mismatch as e:
                print('FAIL %s %s: %s' % (name, group, e))
                failed += 1
            except Exception as e:  # noqa: BLE001 - report, keep going
                print('FAIL %s %s: %s: %s' % (name, group, type(e).__name__, e))
                failed += 1
            else:
                print('OK %s %s' % (name, group))
                passed += 1
            sys.stdout.flush()

    print('%d passed, %d failed' % (passed, failed))
    if passed + failed == 0:
        print('nothing checked: no manifest file found in %s' % args.dir, file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
