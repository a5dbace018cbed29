//! Macros for the method lists every Serde (de)serializer of the crate repeats: the scalar
//! methods (from the [dtype table](crate::dtype)) and the compound-forwarding impls.

/// Expands to the primitive scalar methods of a `Serializer` (`serialize_bool` ...
/// `serialize_f64`), each `fn serialize_x($self, $v: x) -> Result<Self::Ok, Self::Error>
/// { $body }`. `$body` sees `$v` as the typed value; `Scalar::from($v)` tags it.
macro_rules! serialize_scalars {
    ($self:ident, $v:ident => $body:expr) => {
        $crate::dtype::dtype_table!(
            $crate::protocol::macros::define_serialize_scalars,
            $self,
            $v,
            $body
        );
    };
}
pub(crate) use serialize_scalars;

macro_rules! define_serialize_scalars {
    (($self:ident, $v:ident, $body:expr)
        primitives [$(($p:ident, $pt:ty, $pname:literal, $ser:ident, $de:ident, $visit:ident)),*]
        complex [$($complex:tt)*]) => {
        $(fn $ser($self, $v: $pt) -> ::std::result::Result<Self::Ok, Self::Error> {
            $body
        })*
    };
}
pub(crate) use define_serialize_scalars;

/// Expands to the primitive `visit_*` methods of a `Visitor` (`visit_bool` ...
/// `visit_f64`), each returning `$body` with `$v` the typed value.
macro_rules! visit_scalars {
    ($v:ident => $body:expr) => {
        $crate::dtype::dtype_table!($crate::protocol::macros::define_visit_scalars, $v, $body);
    };
}
pub(crate) use visit_scalars;

macro_rules! define_visit_scalars {
    (($v:ident, $body:expr)
        primitives [$(($p:ident, $pt:ty, $pname:literal, $ser:ident, $de:ident, $visit:ident)),*]
        complex [$($complex:tt)*]) => {
        $(fn $visit<E: ::serde::de::Error>(self, $v: $pt) -> ::std::result::Result<Self::Value, E> {
            $body
        })*
    };
}
pub(crate) use define_visit_scalars;

/// Expands to the primitive `deserialize_*` methods of a `Deserializer`
/// (`deserialize_bool` ... `deserialize_f64`), each
/// `fn deserialize_x<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error>`
/// whose body is `$forward!(self, deserialize_x(visitor), DType::X)`: `$forward` is a
/// macro of the caller's, which can refuse the value, read one of that dtype, or forward
/// the method by its name.
macro_rules! deserialize_scalars {
    ($forward:ident) => {
        $crate::dtype::dtype_table!(
            $crate::protocol::macros::define_deserialize_scalars,
            $forward
        );
    };
}
pub(crate) use deserialize_scalars;

macro_rules! define_deserialize_scalars {
    (($forward:ident)
        primitives [$(($p:ident, $pt:ty, $pname:literal, $ser:ident, $de:ident, $visit:ident)),*]
        complex [$($complex:tt)*]) => {
        $(fn $de<V: ::serde::de::Visitor<'de>>(
            self,
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, $de(visitor), $crate::dtype::DType::$p)
        })*
    };
}
pub(crate) use define_deserialize_scalars;

/// Implements `SerializeSeq`, `SerializeTuple`, `SerializeTupleStruct` and
/// `SerializeTupleVariant` for `$type` by calling `$type::$element(&mut self, value)` for
/// each element and `$type::$end(self)` at the end.
macro_rules! forward_compound {
    ($type:ty, $ok:ty, element: $element:ident, end: $end:ident) => {
        $crate::protocol::macros::forward_compound!(@impl $type, $ok, $element, $end,
            SerializeSeq::serialize_element,
            SerializeTuple::serialize_element,
            SerializeTupleStruct::serialize_field,
            SerializeTupleVariant::serialize_field);
    };
    (@impl $type:ty, $ok:ty, $element:ident, $end:ident, $($trait:ident :: $method:ident),*) => {
        $(impl ::serde::ser::$trait for $type {
            type Ok = $ok;
            type Error = $crate::error::Error;
            fn $method<T: ?Sized + ::serde::Serialize>(
                &mut self,
                value: &T,
            ) -> $crate::error::Result<()> {
                self.$element(value)
            }
            fn end(self) -> $crate::error::Result<$ok> {
                self.$end()
            }
        })*
    };
}
pub(crate) use forward_compound;

/// Implements `SerializeStruct` and `SerializeStructVariant` for `$type` by calling
/// `$type::$field(&mut self, key, value)` and `$type::$end(self)`.
macro_rules! forward_fields {
    ($type:ty, $ok:ty, field: $field:ident, end: $end:ident) => {
        $crate::protocol::macros::forward_fields!(@impl $type, $ok, $field, $end,
            SerializeStruct, SerializeStructVariant);
    };
    (@impl $type:ty, $ok:ty, $field:ident, $end:ident, $($trait:ident),*) => {
        $(impl ::serde::ser::$trait for $type {
            type Ok = $ok;
            type Error = $crate::error::Error;
            fn serialize_field<T: ?Sized + ::serde::Serialize>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> $crate::error::Result<()> {
                self.$field(key, value)
            }
            fn end(self) -> $crate::error::Result<$ok> {
                self.$end()
            }
        })*
    };
}
pub(crate) use forward_fields;

/// Expands to every method of a `Deserializer`, each forwarding through the caller's macro
/// as `$forward!(self, deserialize_x(visitor))` (with the method's other arguments before
/// `visitor`, and the dtype after it for the scalar methods): for deserializers that only
/// choose which deserializer to hand over to.
macro_rules! deserialize_all {
    ($forward:ident) => {
        $crate::protocol::macros::deserialize_scalars!($forward);
        $crate::protocol::macros::deserialize_methods!($forward:
            deserialize_any(), deserialize_i128(), deserialize_u128(), deserialize_char(),
            deserialize_str(), deserialize_string(), deserialize_bytes(), deserialize_byte_buf(),
            deserialize_option(), deserialize_unit(), deserialize_seq(), deserialize_map(),
            deserialize_identifier(), deserialize_ignored_any(),
            deserialize_unit_struct(name: &'static str),
            deserialize_newtype_struct(name: &'static str),
            deserialize_tuple(len: usize),
            deserialize_tuple_struct(name: &'static str, len: usize),
            deserialize_struct(name: &'static str, fields: &'static [&'static str]),
            deserialize_enum(name: &'static str, variants: &'static [&'static str]));
    };
}
pub(crate) use deserialize_all;

/// Expands to the listed `Deserializer` methods (their arguments before `visitor`), each
/// `$forward!(self, deserialize_x(args.., visitor))`.
macro_rules! deserialize_methods {
    ($forward:ident: $($method:ident($($arg:ident: $t:ty),*)),* $(,)?) => {
        $(fn $method<V: ::serde::de::Visitor<'de>>(
            self,
            $($arg: $t,)*
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, $method($($arg,)* visitor))
        })*
    };
}
pub(crate) use deserialize_methods;

/// `serialize_tuple` and `serialize_tuple_struct` as sequences of known length, for
/// serializers that write tuples as they write sequences.
macro_rules! tuples_as_sequences {
    () => {
        fn serialize_tuple(self, len: usize) -> $crate::error::Result<Self::SerializeTuple> {
            self.serialize_seq(Some(len))
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            len: usize,
        ) -> $crate::error::Result<Self::SerializeTupleStruct> {
            self.serialize_seq(Some(len))
        }
    };
}
pub(crate) use tuples_as_sequences;
