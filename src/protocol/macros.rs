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

/// The methods an array element's `Deserializer` shares with every other one: an element
/// is always `Some`, an [`anam::array`](crate::array) inside another array's elements is
/// refused, and everything but `enum` (each element type words that refusal its own way)
/// goes to `deserialize_any`.
macro_rules! element_methods {
    () => {
        fn is_human_readable(&self) -> bool {
            false
        }
        fn deserialize_option<V: ::serde::de::Visitor<'de>>(
            self,
            visitor: V,
        ) -> $crate::error::Result<V::Value> {
            visitor.visit_some(self)
        }
        fn deserialize_newtype_struct<V: ::serde::de::Visitor<'de>>(
            self,
            name: &'static str,
            visitor: V,
        ) -> $crate::error::Result<V::Value> {
            if name == $crate::protocol::ARRAY_TOKEN {
                return Err($crate::error::Error::unsupported(
                    "an array nested inside another array's elements",
                ));
            }
            visitor.visit_newtype_struct(self)
        }
        ::serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
        }
    };
}
pub(crate) use element_methods;

/// Expands to the listed `Serializer` methods, each with its Serde signature and the body
/// `$body` (in which `$self` is the serializer): for serializers that refuse (or stop at)
/// most of the data model.
macro_rules! refuse_serialize {
    ($self:ident => $body:expr; $($method:ident),* $(,)?) => {
        $($crate::protocol::macros::refuse_serialize!(@sig $self, $body, $method);)*
    };
    // The signatures: (what the method returns, its arguments after `self`).
    (@sig $s:ident, $b:expr, serialize_char) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_char, Ok, char); };
    (@sig $s:ident, $b:expr, serialize_str) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_str, Ok, &str); };
    (@sig $s:ident, $b:expr, serialize_bytes) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_bytes, Ok, &[u8]); };
    (@sig $s:ident, $b:expr, serialize_none) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_none, Ok); };
    (@sig $s:ident, $b:expr, serialize_unit) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_unit, Ok); };
    (@sig $s:ident, $b:expr, serialize_unit_struct) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_unit_struct, Ok, &'static str); };
    (@sig $s:ident, $b:expr, serialize_unit_variant) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_unit_variant, Ok, &'static str, u32, &'static str); };
    (@sig $s:ident, $b:expr, serialize_some) => { $crate::protocol::macros::refuse_serialize!(@generic $s, $b, serialize_some, &T); };
    (@sig $s:ident, $b:expr, serialize_newtype_struct) => { $crate::protocol::macros::refuse_serialize!(@generic $s, $b, serialize_newtype_struct, &'static str, &T); };
    (@sig $s:ident, $b:expr, serialize_newtype_variant) => { $crate::protocol::macros::refuse_serialize!(@generic $s, $b, serialize_newtype_variant, &'static str, u32, &'static str, &T); };
    (@sig $s:ident, $b:expr, serialize_seq) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_seq, SerializeSeq, Option<usize>); };
    (@sig $s:ident, $b:expr, serialize_tuple) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_tuple, SerializeTuple, usize); };
    (@sig $s:ident, $b:expr, serialize_tuple_struct) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_tuple_struct, SerializeTupleStruct, &'static str, usize); };
    (@sig $s:ident, $b:expr, serialize_tuple_variant) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_tuple_variant, SerializeTupleVariant, &'static str, u32, &'static str, usize); };
    (@sig $s:ident, $b:expr, serialize_map) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_map, SerializeMap, Option<usize>); };
    (@sig $s:ident, $b:expr, serialize_struct) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_struct, SerializeStruct, &'static str, usize); };
    (@sig $s:ident, $b:expr, serialize_struct_variant) => { $crate::protocol::macros::refuse_serialize!(@fn $s, $b, serialize_struct_variant, SerializeStructVariant, &'static str, u32, &'static str, usize); };
    (@fn $self:ident, $body:expr, $method:ident, $ret:ident $(, $t:ty)*) => {
        fn $method($self $(, _: $t)*) -> ::std::result::Result<Self::$ret, Self::Error> {
            $body
        }
    };
    (@generic $self:ident, $body:expr, $method:ident $(, $t:ty)*) => {
        fn $method<T: ?Sized + ::serde::Serialize>(
            $self $(, _: $t)*
        ) -> ::std::result::Result<Self::Ok, Self::Error> {
            $body
        }
    };
}
pub(crate) use refuse_serialize;

/// One `Deserializer` method whose Serde signature spans several lines, written with its
/// arguments' names only: `deserialize_fn!(deserialize_enum(self, _, _, visitor) => { .. })`.
/// The arguments are the method's own, in Serde's order (`_` for the unused ones).
macro_rules! deserialize_fn {
    (deserialize_enum($s:ident, $a:tt, $b:tt, $v:tt) => $body:block) => { $crate::protocol::macros::deserialize_fn!(@fn deserialize_enum, $s, [$a: &'static str, $b: &'static [&'static str]], $v, $body); };
    (deserialize_struct($s:ident, $a:tt, $b:tt, $v:tt) => $body:block) => { $crate::protocol::macros::deserialize_fn!(@fn deserialize_struct, $s, [$a: &'static str, $b: &'static [&'static str]], $v, $body); };
    (deserialize_tuple_struct($s:ident, $a:tt, $b:tt, $v:tt) => $body:block) => { $crate::protocol::macros::deserialize_fn!(@fn deserialize_tuple_struct, $s, [$a: &'static str, $b: usize], $v, $body); };
    ($method:ident($s:ident, $a:tt, $v:tt) => $body:block) => { $crate::protocol::macros::deserialize_fn!(@fn $method, $s, [$a: &'static str], $v, $body); };
    (@fn $method:ident, $self:ident, [$($arg:tt: $t:ty),*], $visitor:tt, $body:block) => {
        fn $method<V: ::serde::de::Visitor<'de>>(
            $self,
            $($arg: $t,)*
            $visitor: V,
        ) -> $crate::error::Result<V::Value> $body
    };
}
pub(crate) use deserialize_fn;

/// The `SeqAccess` methods of a sequence over an array's items along one axis:
/// `self.array` has `len()` and `$item(i)`, the deserializer of item `i`; `self.next`
/// counts the items handed out, and an error gets the item's index.
macro_rules! array_items_access {
    ($item:ident) => {
        fn next_element_seed<T: ::serde::de::DeserializeSeed<'de>>(
            &mut self,
            seed: T,
        ) -> $crate::error::Result<Option<T::Value>> {
            if self.next >= self.array.len() {
                return Ok(None);
            }
            let i = self.next;
            self.next += 1;
            seed.deserialize(self.array.$item(i))
                .map(Some)
                .map_err(|e| e.in_element(i))
        }
        fn size_hint(&self) -> Option<usize> {
            Some(self.array.len() - self.next)
        }
    };
}
pub(crate) use array_items_access;

/// One `Serializer` method whose Serde signature spans several lines, written with its
/// arguments' names only: `serialize_fn!(serialize_struct_variant(self, _, _, variant, len)
/// => { .. })`. The arguments are the method's own, in Serde's order (`_` for unused ones);
/// it returns `Result<Self::Ok>` or the compound type of `Self` the method names.
macro_rules! serialize_fn {
    (serialize_unit_variant($s:ident, $a:tt, $b:tt, $c:tt) => $body:block) => { $crate::protocol::macros::serialize_fn!(@fn serialize_unit_variant, Ok, $s, [$a: &'static str, $b: u32, $c: &'static str], $body); };
    (serialize_tuple_variant($s:ident, $a:tt, $b:tt, $c:tt, $d:tt) => $body:block) => { $crate::protocol::macros::serialize_fn!(@fn serialize_tuple_variant, SerializeTupleVariant, $s, [$a: &'static str, $b: u32, $c: &'static str, $d: usize], $body); };
    (serialize_struct_variant($s:ident, $a:tt, $b:tt, $c:tt, $d:tt) => $body:block) => { $crate::protocol::macros::serialize_fn!(@fn serialize_struct_variant, SerializeStructVariant, $s, [$a: &'static str, $b: u32, $c: &'static str, $d: usize], $body); };
    (serialize_tuple_struct($s:ident, $a:tt, $b:tt) => $body:block) => { $crate::protocol::macros::serialize_fn!(@fn serialize_tuple_struct, SerializeTupleStruct, $s, [$a: &'static str, $b: usize], $body); };
    (serialize_struct($s:ident, $a:tt, $b:tt) => $body:block) => { $crate::protocol::macros::serialize_fn!(@fn serialize_struct, SerializeStruct, $s, [$a: &'static str, $b: usize], $body); };
    (serialize_newtype_struct($s:ident, $a:tt, $v:tt) => $body:block) => { $crate::protocol::macros::serialize_fn!(@generic serialize_newtype_struct, $s, [$a: &'static str, $v: &T], $body); };
    (serialize_newtype_variant($s:ident, $a:tt, $b:tt, $c:tt, $v:tt) => $body:block) => { $crate::protocol::macros::serialize_fn!(@generic serialize_newtype_variant, $s, [$a: &'static str, $b: u32, $c: &'static str, $v: &T], $body); };
    (@fn $method:ident, $ret:ident, $self:ident, [$($arg:tt: $t:ty),*], $body:block) => {
        fn $method($self, $($arg: $t),*) -> ::std::result::Result<Self::$ret, Self::Error> $body
    };
    (@generic $method:ident, $self:ident, [$($arg:tt: $t:ty),*], $body:block) => {
        fn $method<T: ?Sized + ::serde::Serialize>(
            $self,
            $($arg: $t),*
        ) -> ::std::result::Result<Self::Ok, Self::Error> $body
    };
}
pub(crate) use serialize_fn;

/// The associated types of a `Serializer`: `Ok`, `Error`, then the compound serializers
/// in Serde's order (seq, tuple, tuple struct, tuple variant, map, struct, struct variant).
macro_rules! serializer_types {
    ($ok:ty, $error:ty; $seq:ty, $tuple:ty, $tuple_struct:ty, $tuple_variant:ty, $map:ty, $structure:ty, $struct_variant:ty) => {
        type Ok = $ok;
        type Error = $error;
        type SerializeSeq = $seq;
        type SerializeTuple = $tuple;
        type SerializeTupleStruct = $tuple_struct;
        type SerializeTupleVariant = $tuple_variant;
        type SerializeMap = $map;
        type SerializeStruct = $structure;
        type SerializeStructVariant = $struct_variant;
    };
}
pub(crate) use serializer_types;

/// A `Deserializer` whose `deserialize_any` is all it has: `Some` for an option, and every
/// other method forwarded to `deserialize_any`.
macro_rules! any_but_option {
    () => {
        fn deserialize_option<V: ::serde::de::Visitor<'de>>(
            self,
            visitor: V,
        ) -> $crate::error::Result<V::Value> {
            visitor.visit_some(self)
        }
        ::serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf unit unit_struct newtype_struct seq tuple
            tuple_struct map struct enum identifier ignored_any
        }
    };
}
pub(crate) use any_but_option;
