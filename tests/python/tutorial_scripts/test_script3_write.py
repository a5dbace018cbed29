#!/usr/bin/python3
# Serialisation tutorial 3, test_script3_write.py (as in the anamnesis tutorials, but with
# deterministic data instead of np.random.randn, the same as the Rust example
# tutorial3_write writes, so that the output can be checked).
import h5py
import numpy as np

from test_classes3 import CollectableSubjectStats, StatsCollection

# Create a collection to put our data into
collection = StatsCollection()

# Five people's worth of data
for person in range(5):
    # 10x10 zstats - low resolution image!
    zstats = np.arange(100).reshape(10, 10) * 0.5 + person
    # 100 trials - from 0 to 450ms
    rts = np.linspace(0, 450, 100) + person

    p = CollectableSubjectStats(zstats, rts)

    collection.append(p)

# Write the data to a file
f = h5py.File('test_script3.hdf5', 'w')
collection.to_hdf5(f.create_group('data'))
f.close()
