//! Array elements of every dtype behind one trait, and numpy-like formatting of arrays and
//! Python-like formatting of values.

use anam::ndarray::{ArrayViewD, Axis};
use anam::num_complex::{Complex32, Complex64};
use anam::{TypedArray, Value};

/// Runs `$body` with `$a` bound to the `&ArrayD<T>` of a [`TypedArray`], whatever its dtype.
macro_rules! with_array {
    ($arr:expr, $a:ident => $body:expr) => {
        match $arr {
            anam::TypedArray::Bool($a) => $body,
            anam::TypedArray::I8($a) => $body,
            anam::TypedArray::I16($a) => $body,
            anam::TypedArray::I32($a) => $body,
            anam::TypedArray::I64($a) => $body,
            anam::TypedArray::U8($a) => $body,
            anam::TypedArray::U16($a) => $body,
            anam::TypedArray::U32($a) => $body,
            anam::TypedArray::U64($a) => $body,
            anam::TypedArray::F32($a) => $body,
            anam::TypedArray::F64($a) => $body,
            anam::TypedArray::C64($a) => $body,
            anam::TypedArray::C128($a) => $body,
        }
    };
}
pub(crate) use with_array;

/// What the commands need of an array element.
pub trait Elem: Copy + PartialEq {
    /// numpy's repr of the element (`1`, `2.5`, `nan`, `True`, `(1+2j)`).
    fn py(&self) -> String;
    /// The element in JSON (complex numbers as `[re, im]`, non-finite floats as `null`).
    fn json(&self) -> serde_json::Value;
    /// Real and imaginary parts as `f64`, for comparisons within a tolerance.
    fn parts(&self) -> (f64, f64);
    /// Appends the element's little-endian bytes.
    fn le_bytes(&self, out: &mut Vec<u8>);
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            fn py(&self) -> String { self.to_string() }
            fn json(&self) -> serde_json::Value { serde_json::Value::from(*self) }
            fn parts(&self) -> (f64, f64) { (*self as f64, 0.0) }
            fn le_bytes(&self, out: &mut Vec<u8>) { out.extend_from_slice(&self.to_le_bytes()) }
        }
    )*};
}
int_elem!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Elem for bool {
    fn py(&self) -> String {
        if *self { "True" } else { "False" }.into()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::Value::Bool(*self)
    }
    fn parts(&self) -> (f64, f64) {
        (f64::from(u8::from(*self)), 0.0)
    }
    fn le_bytes(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

/// Python's repr of a float: `1.0`, `2.5e-07`, `nan`, `inf`.
pub fn py_float(v: f64, shortest: String) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        shortest
    }
}

fn json_float(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

impl Elem for f32 {
    fn py(&self) -> String {
        py_float(f64::from(*self), format!("{self:?}"))
    }
    fn json(&self) -> serde_json::Value {
        // The shortest decimal of the f32, not of its f64 widening (0.1f32, not 0.10000000149).
        format!("{self:?}")
            .parse::<f64>()
            .map_or(serde_json::Value::Null, json_float)
    }
    fn parts(&self) -> (f64, f64) {
        (f64::from(*self), 0.0)
    }
    fn le_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes())
    }
}

impl Elem for f64 {
    fn py(&self) -> String {
        py_float(*self, format!("{self:?}"))
    }
    fn json(&self) -> serde_json::Value {
        json_float(*self)
    }
    fn parts(&self) -> (f64, f64) {
        (*self, 0.0)
    }
    fn le_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes())
    }
}

fn py_complex(re: f64, im: f64, re_s: String, im_s: String) -> String {
    let im_abs = py_float(im.abs(), im_s.trim_start_matches('-').to_string());
    let sign = if im.is_sign_negative() && !im.is_nan() {
        '-'
    } else {
        '+'
    };
    if re == 0.0 && !re.is_sign_negative() {
        format!("{}{}j", if sign == '-' { "-" } else { "" }, im_abs)
    } else {
        format!("({}{sign}{im_abs}j)", py_float(re, re_s))
    }
}

impl Elem for Complex32 {
    fn py(&self) -> String {
        py_complex(
            self.re.into(),
            self.im.into(),
            format!("{:?}", self.re),
            format!("{:?}", self.im),
        )
    }
    fn json(&self) -> serde_json::Value {
        serde_json::Value::Array(vec![self.re.json(), self.im.json()])
    }
    fn parts(&self) -> (f64, f64) {
        (self.re.into(), self.im.into())
    }
    fn le_bytes(&self, out: &mut Vec<u8>) {
        self.re.le_bytes(out);
        self.im.le_bytes(out);
    }
}

impl Elem for Complex64 {
    fn py(&self) -> String {
        py_complex(
            self.re,
            self.im,
            format!("{:?}", self.re),
            format!("{:?}", self.im),
        )
    }
    fn json(&self) -> serde_json::Value {
        serde_json::Value::Array(vec![self.re.json(), self.im.json()])
    }
    fn parts(&self) -> (f64, f64) {
        (self.re, self.im)
    }
    fn le_bytes(&self, out: &mut Vec<u8>) {
        self.re.le_bytes(out);
        self.im.le_bytes(out);
    }
}

/// numpy's print options: arrays of more than THRESHOLD elements are summarised, showing
/// EDGE items at each end of every axis.
pub const THRESHOLD: usize = 1000;
pub const EDGE: usize = 3;
/// numpy's line width.
const LINE: usize = 75;

/// The shape as numpy writes it: `(2, 3)`, `(5,)`, `()`.
pub fn shape_str(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The indices shown along an axis of length `n`: all, or the first and last EDGE with a
/// gap (`None`) between them.
fn shown(n: usize, summarise: bool) -> Vec<Option<usize>> {
    if summarise && n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    }
}

/// The nested-bracket text of an array, numpy-style: rows of a 2-d array on their own lines,
/// elements right-aligned, `...` where a summarised axis skips items. `indent` is the column
/// the first bracket is at.
pub fn array_body<T: Elem>(a: &ArrayViewD<'_, T>, indent: usize, full: bool) -> String {
    let summarise = !full && a.len() > THRESHOLD;
    let mut width = 0;
    visit(a, summarise, &mut |e| width = width.max(e.py().len()));
    let mut out = String::new();
    body(a, indent, summarise, width, &mut out);
    out
}

fn visit<T: Elem>(a: &ArrayViewD<'_, T>, summarise: bool, f: &mut dyn FnMut(&T)) {
    if a.ndim() == 0 {
        if let Some(e) = a.iter().next() {
            f(e);
        }
        return;
    }
    for i in shown(a.len_of(Axis(0)), summarise).into_iter().flatten() {
        visit(&a.index_axis(Axis(0), i), summarise, f);
    }
}

fn body<T: Elem>(
    a: &ArrayViewD<'_, T>,
    indent: usize,
    summarise: bool,
    w: usize,
    out: &mut String,
) {
    if a.ndim() == 0 {
        if let Some(e) = a.iter().next() {
            out.push_str(&format!("{:>w$}", e.py()));
        }
        return;
    }
    out.push('[');
    let idx = shown(a.len_of(Axis(0)), summarise);
    let sep = if a.ndim() == 1 {
        ", ".to_string()
    } else {
        format!(",{}{}", "\n".repeat(a.ndim() - 1), " ".repeat(indent + 1))
    };
    for (k, i) in idx.iter().enumerate() {
        if k > 0 {
            if a.ndim() == 1 {
                // numpy wraps 1-d rows at 75 columns, under the first element.
                let column = match out.rfind('\n') {
                    Some(nl) => out.len() - nl - 1,
                    None => indent + out.len(),
                };
                if column + 2 + w.max(3) + 1 > LINE {
                    out.push_str(",\n");
                    out.push_str(&" ".repeat(indent + 1));
                } else {
                    out.push_str(&sep);
                }
            } else {
                out.push_str(&sep);
            }
        }
        match i {
            Some(i) => body(&a.index_axis(Axis(0), *i), indent + 1, summarise, w, out),
            None => out.push_str("..."),
        }
    }
    out.push(']');
}

/// numpy's repr of an array: `array([1, 2, 3], dtype=int32)`; the dtype is left out for
/// `float64`, `int64` and `bool` as numpy does, and given with the shape for empty arrays.
pub fn array_repr(arr: &TypedArray, indent: usize, full: bool) -> String {
    let dtype = arr.dtype();
    let shape = arr.shape();
    if shape.contains(&0) {
        let shape_part = if shape.len() == 1 {
            String::new()
        } else {
            format!("shape={}, ", shape_str(shape))
        };
        return format!("array([], {shape_part}dtype={dtype})");
    }
    let body = with_array!(arr, a => array_body(&a.view(), indent + 6, full));
    let default = matches!(dtype.name(), "float64" | "int64" | "bool");
    if default {
        format!("array({body})")
    } else {
        format!("array({body}, dtype={dtype})")
    }
}

/// Python's repr of a string: single quotes unless the string holds one and no double quote.
pub fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// The repr of a scalar value (not a list, dict, object or array), or `None`.
pub fn scalar_repr(v: &Value) -> Option<String> {
    Some(match v {
        Value::None => "None".into(),
        Value::Unit => "Empty()".into(),
        Value::Bool(x) => x.py(),
        Value::I8(x) => x.py(),
        Value::I16(x) => x.py(),
        Value::I32(x) => x.py(),
        Value::I64(x) => x.py(),
        Value::U8(x) => x.py(),
        Value::U16(x) => x.py(),
        Value::U32(x) => x.py(),
        Value::U64(x) => x.py(),
        Value::F32(x) => x.py(),
        Value::F64(x) => x.py(),
        Value::C64(x) => x.py(),
        Value::C128(x) => x.py(),
        Value::Str(s) => py_str(s),
        _ => return None,
    })
}

/// The dtype of a numeric scalar value.
pub fn scalar_dtype(v: &Value) -> Option<&'static str> {
    Some(match v {
        Value::Bool(_) => "bool",
        Value::I8(_) => "int8",
        Value::I16(_) => "int16",
        Value::I32(_) => "int32",
        Value::I64(_) => "int64",
        Value::U8(_) => "uint8",
        Value::U16(_) => "uint16",
        Value::U32(_) => "uint32",
        Value::U64(_) => "uint64",
        Value::F32(_) => "float32",
        Value::F64(_) => "float64",
        Value::C64(_) => "complex64",
        Value::C128(_) => "complex128",
        _ => return None,
    })
}

/// The width `show` fits lines into.
const WIDTH: usize = 88;

/// A value pretty-printed the way Python's `pprint` would print what anamnesis loads:
/// objects as `Class(member=value, ...)`, one member a line when they do not fit a line.
pub fn pretty(v: &Value, indent: usize, full: bool) -> String {
    if let Some(s) = scalar_repr(v) {
        return s;
    }
    if let Value::Array(a) = v {
        return array_repr(a, indent, full);
    }
    let flat = compact(v, full);
    if !flat.contains('\n') && indent + flat.len() <= WIDTH {
        return flat;
    }
    let pad = " ".repeat(indent + 4);
    let close = " ".repeat(indent);
    let mut out = String::new();
    match v {
        Value::List(items) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&format!("{pad}{},\n", pretty(item, indent + 4, full)));
            }
            out.push_str(&format!("{close}]"));
        }
        Value::Dict(entries) => {
            out.push_str("{\n");
            for (k, x) in entries {
                let key = compact(k, full);
                let col = if matches!(x, Value::Array(_)) {
                    indent + 4 + key.len() + 2
                } else {
                    indent + 4
                };
                let val = pretty(x, col, full);
                out.push_str(&format!("{pad}{key}: {val},\n"));
            }
            out.push_str(&format!("{close}}}"));
        }
        Value::Object(o) => {
            out.push_str(&format!("{}(\n", o.class));
            for (name, x) in &o.fields {
                let col = if matches!(x, Value::Array(_)) {
                    indent + 4 + name.len() + 1
                } else {
                    indent + 4
                };
                let val = pretty(x, col, full);
                out.push_str(&format!("{pad}{name}={val},\n"));
            }
            out.push_str(&format!("{close})"));
        }
        _ => out = flat,
    }
    out
}

/// A value on one line (arrays of two or more dimensions still break at their rows).
pub fn compact(v: &Value, full: bool) -> String {
    if let Some(s) = scalar_repr(v) {
        return s;
    }
    match v {
        Value::Array(a) => array_repr(a, 0, full),
        Value::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|x| compact(x, full))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Dict(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, x)| format!("{}: {}", compact(k, full), compact(x, full)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(o) => format!(
            "{}({})",
            o.class,
            o.fields
                .iter()
                .map(|(n, x)| format!("{n}={}", compact(x, full)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "?".into(),
    }
}

/// What kind of value this is, for messages (`list`, `int64 scalar`, `float64 array`).
pub fn kind(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Unit => "Empty".into(),
        Value::Str(_) => "string".into(),
        Value::Array(a) => format!("{} array", a.dtype()),
        Value::List(_) => "list".into(),
        Value::Dict(_) => "dict".into(),
        Value::Object(o) => format!("object of class {}", o.class),
        other => format!("{} scalar", scalar_dtype(other).unwrap_or("?")),
    }
}
