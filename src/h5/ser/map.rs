//! Maps and enum variants with data: the `AnamDict` layout (keys and values in two lists).

use hdf5::Group;
use serde::ser::{self, Serialize};

use super::member::MemberSerializer;
use super::{list_entries, list_group, node, write_count};
use crate::error::{Error, Result};
use crate::format;
use crate::h5::group::{create_group, join};
use crate::value::{self, Value};

/// Marks `group` as a dict of `len` entries (if known: the lists are sized for them) and
/// makes its key and data lists; with `counted`, writes the counts now (`len` is exact).
fn dict(group: &Group, len: Option<usize>, counted: bool) -> Result<(Group, Group)> {
    node::write_str(group, format::CLASS_ATTR, format::DICT_CLASS)?;
    let count = len.filter(|_| counted);
    if let Some(n) = count {
        write_count(group, n)?;
    }
    let side = |name: &str| list_group(create_group(group, name, list_entries(len))?, count);
    Ok((side(format::DICT_KEYS)?, side(format::DICT_DATA)?))
}

/// Makes `group` the one-entry dict `{variant: ...}` of an enum variant with data; returns
/// its data list, whose item 0 is the variant's value.
pub(crate) fn variant_dict(group: &Group, variant: &str) -> Result<Group> {
    let (keys, data) = dict(group, Some(1), true)?;
    node::write_str(&keys, &format::list_item(0), variant)?;
    Ok(data)
}

/// A map.
pub(crate) struct MapSerializer {
    group: Group,
    keys: Group,
    data: Group,
    /// The keys, written after the values: writing into two groups alternately makes HDF5
    /// grow and reload both object headers for every entry (minutes for 10,000 entries);
    /// keys are scalars, so holding them costs little. Python writes keys, then values.
    pending_keys: Vec<Value>,
}

impl MapSerializer {
    /// Starts a map of `len` entries (if known) in `group`.
    pub(crate) fn start(group: Group, len: Option<usize>) -> Result<MapSerializer> {
        // The counts are written at the end, when they are known for sure.
        let (keys, data) = dict(&group, len, false)?;
        Ok(MapSerializer {
            group,
            keys,
            data,
            pending_keys: Vec::new(),
        })
    }
}

impl ser::SerializeMap for MapSerializer {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        let item = format::list_item(self.pending_keys.len());
        let key = value::to_value(key).map_err(|e| e.at_with(|| join(&self.keys, &item)))?;
        self.pending_keys.push(key);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let item = format::list_item(self.pending_keys.len().saturating_sub(1));
        value
            .serialize(MemberSerializer::new(&self.data, &item))
            .map_err(|e| e.at_with(|| join(&self.data, &item)))
    }

    fn end(self) -> Result<()> {
        for (i, key) in self.pending_keys.iter().enumerate() {
            let item = format::list_item(i);
            key.serialize(MemberSerializer::new(&self.keys, &item))
                .map_err(|e| e.at_with(|| join(&self.keys, &item)))?;
        }
        let n = self.pending_keys.len();
        write_count(&self.group, n)?;
        write_count(&self.keys, n)?;
        write_count(&self.data, n)
    }
}

/// The fields of a struct variant: a dict whose count was written up front.
pub(crate) struct VariantFields {
    keys: Group,
    data: Group,
    count: usize,
}

impl VariantFields {
    /// Starts the dict of `len` fields as item 0 of the variant's `data` list.
    pub(crate) fn start(data: &Group, len: usize) -> Result<VariantFields> {
        let fields = create_group(data, &format::list_item(0), super::DICT_ENTRIES)?;
        let (keys, data) = dict(&fields, Some(len), true)?;
        Ok(VariantFields {
            keys,
            data,
            count: 0,
        })
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<()> {
        let item = format::list_item(self.count);
        self.count += 1;
        node::write_str(&self.keys, &item, key)?;
        value
            .serialize(MemberSerializer::new(&self.data, &item))
            .map_err(|e| e.at_with(|| join(&self.data, &item)))
    }

    fn finish(self) -> Result<()> {
        Ok(())
    }
}

crate::protocol::macros::forward_fields!(VariantFields, (), field: field, end: finish);
