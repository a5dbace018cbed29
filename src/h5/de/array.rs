//! Arrays read whole (numbers or strings), presented as nested sequences along their axes.

use std::rc::Rc;

use serde::de::{self, IntoDeserializer, Visitor};

use crate::dtype::{with_typed_array, Scalar, TypedArray};
use crate::error::{Error, Result};

/// The elements of an array in storage order.
pub(crate) enum Flat {
    Num(TypedArray),
    Str(Vec<String>),
}

/// An array (numbers or strings) read in one call, presented as nested sequences along its
/// axes; `deserialize_newtype_struct(ARRAY_TOKEN)` hands the whole buffer over instead.
#[derive(Clone)]
pub(crate) struct ArrayDe {
    flat: Rc<Flat>,
    shape: Rc<[usize]>,
    level: usize,
    offset: usize,
}

impl ArrayDe {
    pub(crate) fn new(flat: Flat, shape: Rc<[usize]>) -> ArrayDe {
        ArrayDe {
            flat: Rc::new(flat),
            shape,
            level: 0,
            offset: 0,
        }
    }

    pub(crate) fn whole(array: TypedArray) -> ArrayDe {
        let shape: Rc<[usize]> = array.shape().into();
        ArrayDe::new(Flat::Num(array), shape)
    }

    /// Number of items along the current axis.
    pub(crate) fn len(&self) -> usize {
        self.shape.get(self.level).copied().unwrap_or(0)
    }

    fn stride(&self) -> usize {
        self.shape[self.level + 1..].iter().product()
    }

    /// Item `i` along the current axis: a sub-array, or an element at the last axis.
    pub(crate) fn element(&self, i: usize) -> ElementDe {
        let offset = self.offset + i * self.stride();
        ElementDe(ArrayDe {
            level: self.level + 1,
            offset,
            ..self.clone()
        })
    }

    fn visit_leaf<'de, V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value> {
        match &*self.flat {
            Flat::Num(a) => {
                let num = with_typed_array!(a, arr => arr
                    .as_slice_memory_order()
                    .and_then(|s| s.get(self.offset))
                    .copied()
                    .map(Scalar::from));
                num.ok_or_else(|| Error::invalid("array element out of range"))?
                    .visit(visitor)
            }
            Flat::Str(s) => visitor.visit_str(s.get(self.offset).map_or("", String::as_str)),
        }
    }

    pub(crate) fn deserialize_any<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.level == self.shape.len() {
            self.visit_leaf(visitor)
        } else {
            let access = ArrayItems {
                array: self,
                next: 0,
            };
            visit_all(access, visitor)
        }
    }

    pub(crate) fn deserialize_seq<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }
}

/// One item of an [`ArrayDe`].
pub(crate) struct ElementDe(ArrayDe);

impl<'de> de::Deserializer<'de> for ElementDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.0.deserialize_any(visitor)
    }

    crate::protocol::macros::element_methods!();

    crate::protocol::macros::deserialize_fn!(deserialize_enum(self, _, _, visitor) => {
        match &*self.0.flat {
            Flat::Str(s) if self.0.level == self.0.shape.len() => {
                let name = s.get(self.0.offset).cloned().unwrap_or_default();
                visitor.visit_enum(name.into_deserializer())
            }
            _ => Err(Error::invalid("expected an enum variant name")),
        }
    });
}

/// The items along an array's current axis, as a sequence.
struct ArrayItems {
    array: ArrayDe,
    next: usize,
}

impl<'de> de::SeqAccess<'de> for ArrayItems {
    type Error = Error;

    crate::protocol::macros::array_items_access!(element);
}

impl Progress for ArrayItems {
    fn progress(&self) -> (usize, usize) {
        (self.next, self.array.len())
    }
}

/// How far a sequence access got: `(items taken, items in all)`.
pub(crate) trait Progress {
    fn progress(&self) -> (usize, usize);
}

/// Visits a sequence and fails when the visitor left items unread (a tuple or array
/// shorter than the stored sequence), as Serde's own sequence deserializers do.
pub(crate) fn visit_all<'de, A, V>(mut access: A, visitor: V) -> Result<V::Value>
where
    A: de::SeqAccess<'de, Error = Error> + Progress,
    V: Visitor<'de>,
{
    let value = visitor.visit_seq(&mut access)?;
    let (taken, len) = access.progress();
    if taken < len {
        return Err(de::Error::invalid_length(len, &ExpectedIn(taken)));
    }
    Ok(value)
}

struct ExpectedIn(usize);

impl de::Expected for ExpectedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} elements in sequence", self.0)
    }
}
