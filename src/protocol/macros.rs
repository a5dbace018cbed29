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
/// whose body is `$forward!(self, deserialize_x(visitor))`: `$forward` is a macro of the
/// caller's, which can refuse the value or forward the method by its name.
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
            $forward!(self, $de(visitor))
        })*
    };
}
pub(crate) use define_deserialize_scalars;

/// Like [`deserialize_scalars!`], with the dtype: the bodies are
/// `$forward!(self, deserialize_x(visitor), DType::X)`.
macro_rules! deserialize_scalars_typed {
    ($forward:ident) => {
        $crate::dtype::dtype_table!(
            $crate::protocol::macros::define_deserialize_scalars_typed,
            $forward
        );
    };
}
pub(crate) use deserialize_scalars_typed;

macro_rules! define_deserialize_scalars_typed {
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
pub(crate) use define_deserialize_scalars_typed;

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
/// `visitor`): for deserializers that only choose which deserializer to hand over to.
macro_rules! deserialize_all {
    ($forward:ident) => {
        $crate::protocol::macros::deserialize_scalars!($forward);
        $crate::protocol::macros::deserialize_all!(@plain $forward:
            deserialize_any, deserialize_i128, deserialize_u128, deserialize_char,
            deserialize_str, deserialize_string, deserialize_bytes, deserialize_byte_buf,
            deserialize_option, deserialize_unit, deserialize_seq, deserialize_map,
            deserialize_identifier, deserialize_ignored_any);
        fn deserialize_unit_struct<V: ::serde::de::Visitor<'de>>(
            self,
            name: &'static str,
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, deserialize_unit_struct(name, visitor))
        }
        fn deserialize_newtype_struct<V: ::serde::de::Visitor<'de>>(
            self,
            name: &'static str,
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, deserialize_newtype_struct(name, visitor))
        }
        fn deserialize_tuple<V: ::serde::de::Visitor<'de>>(
            self,
            len: usize,
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, deserialize_tuple(len, visitor))
        }
        fn deserialize_tuple_struct<V: ::serde::de::Visitor<'de>>(
            self,
            name: &'static str,
            len: usize,
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, deserialize_tuple_struct(name, len, visitor))
        }
        fn deserialize_struct<V: ::serde::de::Visitor<'de>>(
            self,
            name: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, deserialize_struct(name, fields, visitor))
        }
        fn deserialize_enum<V: ::serde::de::Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, deserialize_enum(name, variants, visitor))
        }
    };
    (@plain $forward:ident: $($method:ident),*) => {
        $(fn $method<V: ::serde::de::Visitor<'de>>(
            self,
            visitor: V,
        ) -> ::std::result::Result<V::Value, Self::Error> {
            $forward!(self, $method(visitor))
        })*
    };
}
pub(crate) use deserialize_all;
