#!/usr/bin/python3
# Serialisation tutorial 2, the writing part of test_script2_extradata.py (as in the
# anamnesis tutorials).
import h5py

from test_classes2 import ComplexPerson

# Create an example object
p = ComplexPerson('Bob', 75)
p.extra_data['hometown'] = 'Oxford'

print(p)
print(p.extra_data)

# Save the object out
f = h5py.File('test_script2_extradata.hdf5', 'w')
p.to_hdf5(f.create_group(p.hdf5_defaultgroup))
f.close()
