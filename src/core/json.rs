//! JSON: a value type, a strict parser (RFC 8259) and a compact printer.
//!
//! sass-edge reads and writes JSON everywhere (bodies, templates, key claims,
//! counter messages) but only as plain values walked field by field, so a
//! small dedicated module replaces a general serialisation framework: the
//! wasm bundle has a size budget. Objects keep their keys sorted, so the same
//! value always prints the same bytes (keys carry signed claims).
//!
//! Numbers keep their text unless they are integers: `as_u64` and `as_i64`
//! read whole numbers, and any other number prints back exactly as it came.

use std::fmt;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// A JSON number: a whole number that fits 64 bits, or the literal text of
/// any other number (a fraction, an exponent, or a whole number too large).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Number {
    Unsigned(u64),
    Negative(i64),
    Other(Box<str>),
}

/// A JSON object, its keys kept sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Map {
    entries: Vec<(String, Value)>,
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    /// Where `key` is, or where it would go.
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Where `key` is. Objects are small: comparing for equality (lengths
    /// first) beats ordering comparisons below a few dozen keys.
    fn index(&self, key: &str) -> Option<usize> {
        if self.entries.len() <= 32 {
            self.entries.iter().position(|(k, _)| k == key)
        } else {
            self.find(key).ok()
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.index(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.index(key).map(|i| &mut self.entries[i].1)
    }

    /// The index of `key` in key order, and its value.
    pub fn position(&self, key: &str) -> Option<(usize, &Value)> {
        self.index(key).map(|i| (i, &self.entries[i].1))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.index(key).is_some()
    }

    /// Sets `key`, returning the value it replaced.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        // Text printed by `write` has its keys in order: append.
        if self.entries.last().is_none_or(|(last, _)| *last < key) {
            self.entries.push((key, value));
            return None;
        }
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.index(key).map(|i| self.entries.remove(i).1)
    }

    /// The value of `key`, set to `null` first if absent.
    pub fn entry(&mut self, key: &str) -> &mut Value {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key.to_string(), Value::Null));
                i
            }
        };
        &mut self.entries[i].1
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a String, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Map {
        let mut map = Map::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

/// An object from `(key, value)` pairs, for building responses.
pub fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

impl Value {
    /// The field `key` of an object; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(key),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A whole number from 0 to `u64::MAX`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(Number::Unsigned(n)) => Some(*n),
            _ => None,
        }
    }

    /// A whole number from `i64::MIN` to `i64::MAX`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(Number::Unsigned(n)) => i64::try_from(*n).ok(),
            Value::Number(Number::Negative(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The compact JSON text, appended to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(Number::Unsigned(n)) => push_u64(out, *n),
            Value::Number(Number::Negative(n)) => {
                out.push('-');
                push_u64(out, n.unsigned_abs());
            }
            Value::Number(Number::Other(text)) => out.push_str(text),
            Value::String(s) => write_str(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The compact JSON text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// `s` as a JSON string: quotes, backslashes and control characters escaped.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push_str(&crate::core::hex::lower(&[b]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(Number::Unsigned(n))
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::from(u64::from(n))
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::from(n as u64)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        match u64::try_from(n) {
            Ok(u) => Value::from(u),
            Err(_) => Value::Number(Number::Negative(n)),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Why a text is not JSON: what was wrong, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub what: &'static str,
    pub at: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 128;

/// Parses one JSON value, with optional whitespace around it.
pub fn parse(text: &[u8]) -> Result<Value, Error> {
    let mut p = Parser { text, at: 0 };
    let value = p.value(0)?;
    p.skip_space();
    if p.at < text.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(value)
}

pub fn parse_str(text: &str) -> Result<Value, Error> {
    parse(text.as_bytes())
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &'static str) -> Error {
        Error { what, at: self.at }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    #[inline(always)]
    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &'static [u8], value: Value) -> Result<Value, Error> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        self.skip_space();
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(open @ (b'[' | b'{')) => {
                if depth >= MAX_DEPTH {
                    return Err(self.error("nested too deeply"));
                }
                self.at += 1;
                if open == b'[' {
                    self.array(depth + 1)
                } else {
                    self.object(depth + 1)
                }
            }
            Some(_) => Err(self.error("expected a value")),
        }
    }

    /// After `[`: the items, up to and with `]`.
    fn array(&mut self, depth: usize) -> Result<Value, Error> {
        let mut items = Vec::new();
        if self.close(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            if self.separate(b']')? {
                return Ok(Value::Array(items));
            }
        }
    }

    /// After `{`: the members, up to and with `}`.
    fn object(&mut self, depth: usize) -> Result<Value, Error> {
        let mut map = Map::new();
        if self.close(b'}') {
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key = self.string()?;
            self.skip_space();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':'"));
            }
            self.at += 1;
            let value = self.value(depth)?;
            map.insert(key, value);
            if self.separate(b'}')? {
                return Ok(Value::Object(map));
            }
        }
    }

    /// After `[` or `{`: consumes the closing bracket if it comes next.
    fn close(&mut self, bracket: u8) -> bool {
        self.skip_space();
        let closed = self.peek() == Some(bracket);
        if closed {
            self.at += 1;
        }
        closed
    }

    /// After an item: `,` (false) or the closing bracket (true).
    fn separate(&mut self, bracket: u8) -> Result<bool, Error> {
        self.skip_space();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                Ok(false)
            }
            Some(b) if b == bracket => {
                self.at += 1;
                Ok(true)
            }
            None => Err(self.error("unexpected end of input")),
            Some(_) => Err(self.error(if bracket == b']' {
                "expected ',' or ']'"
            } else {
                "expected ',' or '}'"
            })),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Value, Error> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let int_start = self.at;
        match self.digits() {
            0 => return Err(self.error("expected a digit")),
            n if n > 1 && self.text[int_start] == b'0' => {
                return Err(Error {
                    what: "a number cannot start with 0",
                    at: int_start,
                });
            }
            _ => {}
        }
        let int_end = self.at;
        let mut whole = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            whole = false;
            if self.digits() == 0 {
                return Err(self.error("expected a digit"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            whole = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit"));
            }
        }
        // ASCII digits, signs, '.', 'e': always UTF-8.
        let text = std::str::from_utf8(&self.text[start..self.at]).unwrap_or_default();
        if whole {
            let mut n: u64 = 0;
            let mut fits = true;
            for &d in &self.text[int_start..int_end] {
                match n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d - b'0')))
                {
                    Some(next) => n = next,
                    None => fits = false,
                }
            }
            if fits && !negative {
                return Ok(Value::Number(Number::Unsigned(n)));
            }
            if fits && n <= i64::MAX as u64 + 1 {
                return Ok(Value::from((n as i64).wrapping_neg()));
            }
        }
        Ok(Value::Number(Number::Other(text.into())))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut n = 0;
        for _ in 0..4 {
            let d = self
                .peek()
                .and_then(crate::core::hex::value)
                .ok_or_else(|| self.error("expected 4 hex digits"))?;
            n = n * 16 + u32::from(d);
            self.at += 1;
        }
        Ok(n)
    }

    /// Moves past the bytes a string holds as they are.
    #[inline(always)]
    fn plain(&mut self) {
        while self
            .peek()
            .is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20)
        {
            self.at += 1;
        }
    }

    fn string(&mut self) -> Result<String, Error> {
        self.at += 1; // the opening quote
        let begin = self.at;
        self.plain();
        // The common case, no escape: one copy.
        if self.peek() == Some(b'"') {
            self.at += 1;
            return std::str::from_utf8(&self.text[begin..self.at - 1])
                .map(str::to_string)
                .map_err(|e| Error {
                    what: "invalid UTF-8",
                    at: begin + e.valid_up_to(),
                });
        }
        let mut out = self.text[begin..self.at].to_vec();
        loop {
            let start = self.at;
            self.plain();
            out.extend_from_slice(&self.text[start..self.at]);
            match self.peek() {
                None => return Err(self.error("unexpected end of input")),
                Some(b'"') => {
                    self.at += 1;
                    return String::from_utf8(out).map_err(|e| Error {
                        what: "invalid UTF-8",
                        at: begin + e.utf8_error().valid_up_to(),
                    });
                }
                Some(b'\\') => {
                    self.at += 1;
                    let unescaped = match self.peek() {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'/') => b'/',
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0c,
                        Some(b'n') => b'\n',
                        Some(b'r') => b'\r',
                        Some(b't') => b'\t',
                        Some(b'u') => {
                            self.at += 1;
                            let c = self.escaped_char()?;
                            let mut buf = [0; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    self.at += 1;
                    out.push(unescaped);
                }
                Some(_) => return Err(self.error("control character in a string")),
            }
        }
    }

    /// After `\u`: one character, from a surrogate pair if need be.
    fn escaped_char(&mut self) -> Result<char, Error> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.text[self.at..].starts_with(b"\\u") {
                    return Err(self.error("lone surrogate"));
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("lone surrogate"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone surrogate")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid escape"))
    }
}

/// Test support: `json!` builds a `Value` with serde_json's macro, which the
/// tests keep as a dev-dependency and oracle.
#[cfg(test)]
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        parse_str(&v.to_string()).expect("serde_json prints JSON")
    }
}

#[cfg(test)]
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v: serde_json::Value = serde_json::from_str(&self.text()).expect("JSON");
        v.serialize(s)
    }
}

#[cfg(test)]
impl std::ops::Index<&str> for Value {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

#[cfg(test)]
impl std::ops::IndexMut<&str> for Value {
    fn index_mut(&mut self, key: &str) -> &mut Value {
        self.as_object_mut().expect("an object").entry(key)
    }
}

#[cfg(test)]
impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

#[cfg(test)]
macro_rules! json {
    ($($t:tt)+) => {
        $crate::core::json::Value::from(serde_json::json!($($t)+))
    };
}
#[cfg(test)]
pub(crate) use json;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(text: &str) -> Value {
        parse_str(text).unwrap()
    }

    #[test]
    fn parses_and_prints_compactly_with_sorted_keys() {
        let v = ok(
            r#" { "b": [1, -2, 3.5, 1e3, true, false, null], "a": "x\"\\/\n\u00e9\ud83d\ude00" } "#,
        );
        assert_eq!(
            v.text(),
            r#"{"a":"x\"\\/\né😀","b":[1,-2,3.5,1e3,true,false,null]}"#
        );
        assert_eq!(
            v.get("b").unwrap().as_array().unwrap()[1].as_i64(),
            Some(-2)
        );
        assert_eq!(v.get("b").unwrap().as_array().unwrap()[0].as_u64(), Some(1));
        assert_eq!(v.get("b").unwrap().as_array().unwrap()[2].as_u64(), None);
    }

    #[test]
    fn integers_at_the_edges() {
        assert_eq!(ok("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(ok("18446744073709551616").as_u64(), None);
        assert_eq!(ok("18446744073709551616").text(), "18446744073709551616");
        assert_eq!(ok("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(ok("-9223372036854775809").as_i64(), None);
        assert_eq!(ok("-0").as_u64(), Some(0));
        assert_eq!(ok("1.0").as_u64(), None);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            " ",
            "{",
            "[1,]",
            "[1 2]",
            "{\"a\"}",
            "{\"a\":}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "1e",
            "-",
            "+1",
            "tru",
            "nul",
            "\"abc",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\t\"",
            "1 2",
            "[1]]",
            "{\"a\":1,}",
            "NaN",
            "\"\\u12\"",
        ] {
            assert!(parse_str(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse(b"\"\xff\"").is_err());
        assert_eq!(
            parse_str("[1,").unwrap_err().to_string(),
            "unexpected end of input at byte 3"
        );
    }

    #[test]
    fn limits_nesting() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_str(&deep(MAX_DEPTH)).is_ok());
        assert!(parse_str(&deep(MAX_DEPTH + 1)).is_err());
        assert!(parse_str(&"[".repeat(100_000)).is_err());
    }

    #[test]
    fn later_duplicate_keys_win() {
        assert_eq!(ok(r#"{"a":1,"a":2}"#).text(), r#"{"a":2}"#);
    }

    #[test]
    fn maps_keep_keys_sorted() {
        let mut m = Map::new();
        for k in ["b", "c", "a"] {
            m.insert(k.into(), Value::from(k));
        }
        assert_eq!(
            m.keys().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(m.remove("b"), Some(Value::from("b")));
        *m.entry("d") = Value::from(true);
        assert!(m.entry("a").as_str().is_some());
        assert_eq!(Value::Object(m).text(), r#"{"a":"a","c":"c","d":true}"#);
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(
            Value::from("\u{0}\u{1f}\u{8}\u{c}\r\t\u{7f}").text(),
            "\"\\u0000\\u001f\\b\\f\\r\\t\u{7f}\""
        );
    }

    fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                prop::collection::btree_map(any::<String>(), inner, 0..8)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// serde_json, the oracle, prints the same text and reads ours back.
        #[test]
        fn agrees_with_serde_json(v in arbitrary_json()) {
            let text = v.to_string();
            let ours = parse_str(&text).unwrap();
            prop_assert_eq!(ours.text(), text.clone());
            let back: serde_json::Value = serde_json::from_str(&ours.text()).unwrap();
            prop_assert_eq!(back, v);
        }

        /// Whatever the bytes, parsing never panics, and it accepts exactly
        /// what serde_json accepts (bar its float range and depth rules).
        #[test]
        fn accepts_what_serde_json_accepts(bytes in prop::collection::vec(
            prop_oneof![Just(b'['), Just(b']'), Just(b'{'), Just(b'}'), Just(b'"'), Just(b':'),
                        Just(b','), Just(b'1'), Just(b'-'), Just(b'.'), Just(b'e'), Just(b'\\'),
                        Just(b'u'), Just(b' '), Just(b'a'), any::<u8>()], 0..24)) {
            let ours = parse(&bytes);
            let theirs = serde_json::from_slice::<serde_json::Value>(&bytes);
            // serde_json refuses numbers beyond f64's range; they stay text here.
            prop_assume!(!theirs.as_ref().is_err_and(|e| e.to_string().contains("out of range")));
            prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", String::from_utf8_lossy(&bytes));
            if let (Ok(o), Ok(t)) = (ours, theirs) {
                let back: serde_json::Value = serde_json::from_str(&o.text()).unwrap();
                prop_assert_eq!(back, t);
            }
        }
    }
}
