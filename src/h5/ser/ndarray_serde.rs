//! ndarray's own Serde form as a member: a dataset (or an `AnamEmptyArray` group), as
//! `anam::array` writes it, instead of a group of class `Array` ([`crate::protocol::ndarray_serde`]).

use hdf5::Group;
use serde::Serializer as _;

use super::{MemberSerializer, StructSerializer};
use crate::dtype::DType;
use crate::error::Result;
use crate::protocol::ndarray_serde::{may_be_ndarray, MaybeNdarray, NdarrayTarget};

/// The struct serializer of a member: an ordinary struct, or ndarray's array.
pub(crate) type MemberStruct = MaybeNdarray<Member>;

/// Starts the struct `name` of `len` fields as the member `member`.
pub(super) fn start(
    member: MemberSerializer<'_>,
    name: &'static str,
    len: usize,
) -> Result<MemberStruct> {
    if !may_be_ndarray(name, len) {
        return ordinary(&member, name, len).map(MaybeNdarray::ordinary);
    }
    let target = Member {
        parent: member.parent.clone(),
        name: member.name.to_string(),
    };
    MaybeNdarray::start(target, name, len)
}

/// A struct as a subgroup (its fields and the class).
fn ordinary(
    member: &MemberSerializer<'_>,
    name: &'static str,
    len: usize,
) -> Result<StructSerializer> {
    member.subgroup(len + 1)?.serialize_struct(name, len)
}

/// Where the member goes (owned, as a list item's name does not outlive the item).
pub(crate) struct Member {
    parent: Group,
    name: String,
}

impl NdarrayTarget for Member {
    type Ok = ();
    type Plain = StructSerializer;

    fn plain(self, name: &'static str, len: usize) -> Result<StructSerializer> {
        ordinary(&MemberSerializer::new(&self.parent, &self.name), name, len)
    }

    fn array(self, dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<()> {
        MemberSerializer::new(&self.parent, &self.name).array(dtype, shape, bytes)
    }
}
