//! Narrow serializers: ones that accept a few shapes of value (a string, a map, an array
//! payload's parts) and refuse the rest. Each implements [`Narrow`] with what it accepts;
//! [`Narrowed`] is the one Serde `Serializer` over all of them.

use serde::ser::{self, Impossible, Serialize};

use crate::dtype::Scalar;
use crate::error::{Error, Result};

/// What a narrow serializer accepts; every method refuses by default.
pub(crate) trait Narrow: Sized {
    /// The sequence serializer, if sequences are accepted (else `Impossible`).
    type Seq: ser::SerializeSeq<Ok = (), Error = Error>;
    /// The map serializer, if maps are accepted (else `Impossible`).
    type Map: ser::SerializeMap<Ok = (), Error = Error>;
    /// The struct serializer, if structs are accepted (else `Impossible`).
    type Struct: ser::SerializeStruct<Ok = (), Error = Error>;

    /// The error for anything not accepted.
    fn rejected(&self) -> Error;
    /// Whether options and newtypes are looked through (else refused).
    fn looks_through_wrappers(&self) -> bool {
        true
    }
    /// A number, bool or complex number.
    fn scalar(self, _: Scalar) -> Result<()> {
        Err(self.rejected())
    }
    /// A string or `char`.
    fn text(self, _: &str) -> Result<()> {
        Err(self.rejected())
    }
    /// A byte string.
    fn bytes(self, _: &[u8]) -> Result<()> {
        Err(self.rejected())
    }
    /// A sequence.
    fn seq(self) -> Result<Self::Seq> {
        Err(self.rejected())
    }
    /// A map.
    fn map(self) -> Result<Self::Map> {
        Err(self.rejected())
    }
    /// A struct.
    fn structure(self) -> Result<Self::Struct> {
        Err(self.rejected())
    }
}

/// The Serde `Serializer` of a [`Narrow`] serializer.
pub(crate) struct Narrowed<N>(pub N);

impl<N: Narrow> Narrowed<N> {
    fn refuse<T>(self) -> Result<T> {
        Err(self.0.rejected())
    }

    fn wrapper<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        if self.0.looks_through_wrappers() {
            value.serialize(self)
        } else {
            self.refuse()
        }
    }
}

impl<N: Narrow> ser::Serializer for Narrowed<N> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = N::Seq;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = N::Map;
    type SerializeStruct = N::Struct;
    type SerializeStructVariant = Impossible<(), Error>;

    super::macros::serialize_scalars!(self, v => self.0.scalar(Scalar::from(v)));

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.0.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.0.text(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.0.bytes(v)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        self.wrapper(value)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        self.wrapper(value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<N::Seq> {
        self.0.seq()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<N::Map> {
        self.0.map()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<N::Struct> {
        self.0.structure()
    }
    super::macros::refuse_serialize!(self => self.refuse();
        serialize_none, serialize_unit, serialize_unit_struct, serialize_unit_variant,
        serialize_newtype_variant, serialize_tuple, serialize_tuple_struct,
        serialize_tuple_variant, serialize_struct_variant);
}
