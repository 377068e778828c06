//! Python's `ast.literal_eval`, the way Ansible's INI inventory types a value.
//!
//! Ansible hands every INI value (`key=value` on a host line, `key=value` in a `[group:vars]`
//! section) to `ast.literal_eval` and keeps the text unchanged when that fails. So `22` is the
//! number 22, `'22'` the string "22", `True` a boolean, `10.0.0.1` (no Python literal) the
//! string "10.0.0.1" — and in a `[group:vars]` section, where nothing strips comments,
//! `22 # ssh` is 22 while `ops # admin` is the string "ops # admin". To read an inventory as
//! Ansible does we evaluate the same grammar: numbers, strings (prefixes, escapes, implicit
//! concatenation), `True`/`False`/`None`, tuples, lists, dicts, sets, `set()`, unary signs
//! and `real ± imaginary`, with Python's comments and whitespace. Anything else is "not a
//! literal" and the caller keeps the text, exactly as Ansible does, whatever the reason Python
//! had (a syntax error or a non-literal expression both end there).
//!
//! Ansible then turns tuples and sets into lists, and complex numbers, bytes and `...` into
//! text; `Literal` has only the shapes that survive that. Not modelled: `\N{name}` escapes
//! (no Unicode name table here; such a value is kept as text) and integers beyond 128 bits
//! (read as floats). Neither can be an address, a port or a user name.

use std::fmt::Write as _;

/// A value as Ansible stores it after `literal_eval`.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// Lists, tuples and sets.
    List(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

/// What `literal_eval` made of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Eval {
    /// A Python literal: Ansible stores this value.
    Value(Literal),
    /// Not a literal: Ansible keeps the text as written.
    Text,
    /// A literal Python refuses to build (a list as a dict key or set member): Ansible's INI
    /// parser stops on the `TypeError` instead of keeping the text.
    Unhashable,
}

pub fn eval(text: &str) -> Eval {
    let Some(tokens) = lex(text) else { return Eval::Text };
    let mut p = Parser { tokens: &tokens, at: 0 };
    let Some(ast) = p.top() else { return Eval::Text };
    match convert(&ast) {
        Ok((value, _)) => Eval::Value(value),
        Err(Refused::NotLiteral) => Eval::Text,
        Err(Refused::Unhashable) => Eval::Unhashable,
    }
}

// ----- tokens -----

#[derive(Debug, Clone, PartialEq)]
enum Num {
    Int(i128),
    /// An integer too large for i128, kept as a float.
    BigInt(f64),
    Float(f64),
    Imag(f64),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Num),
    /// A string literal: (is bytes, is an f-string, value).
    Str(bool, bool, String),
    Name(String),
    Punct(char),
    Ellipsis,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii()
}

/// Python's tokenizer, for the tokens a literal can hold; `None` is a syntax error or a token
/// no literal contains (either way the value stays text).
fn lex(text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\x0c' => i += 1,
            '#' => break,
            '\0' => return None,
            '(' | ')' | '[' | ']' | '{' | '}' | ',' | ':' | '+' | '-' => {
                out.push(Tok::Punct(c));
                i += 1;
            }
            '.' if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') => {
                out.push(Tok::Ellipsis);
                i += 3;
            }
            '.' if chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                let (num, end) = lex_number(&chars, i)?;
                out.push(Tok::Num(num));
                i = end;
            }
            '0'..='9' => {
                let (num, end) = lex_number(&chars, i)?;
                out.push(Tok::Num(num));
                i = end;
            }
            '\'' | '"' => {
                let (value, end) = lex_string(&chars, i, false, false)?;
                out.push(Tok::Str(false, false, value));
                i = end;
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                let prefix = name.to_ascii_lowercase();
                if matches!(chars.get(i), Some('\'' | '"')) && matches!(prefix.as_str(), "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf") {
                    let bytes = prefix.contains('b');
                    let fstring = prefix.contains('f');
                    let (value, end) = lex_string(&chars, i, prefix.contains('r'), bytes)?;
                    out.push(Tok::Str(bytes, fstring, value));
                    i = end;
                } else {
                    out.push(Tok::Name(name));
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// `digit (["_"] digit)*` from `i`; returns the digits without underscores and the end.
fn digit_part(chars: &[char], mut i: usize, radix: u32) -> (String, usize) {
    let mut digits = String::new();
    while i < chars.len() {
        if chars[i].is_digit(radix) {
            digits.push(chars[i]);
            i += 1;
        } else if chars[i] == '_' && !digits.is_empty() && chars.get(i + 1).is_some_and(|c| c.is_digit(radix)) {
            i += 1;
        } else {
            break;
        }
    }
    (digits, i)
}

fn lex_number(chars: &[char], start: usize) -> Option<(Num, usize)> {
    let mut i = start;
    let radix = match (chars.get(i), chars.get(i + 1).map(|c| c.to_ascii_lowercase())) {
        (Some('0'), Some('x')) => 16,
        (Some('0'), Some('o')) => 8,
        (Some('0'), Some('b')) => 2,
        _ => 10,
    };
    let num = if radix != 10 {
        i += 2;
        // `0x_1f` is valid: an underscore may follow the prefix.
        if chars.get(i) == Some(&'_') {
            i += 1;
        }
        let (digits, end) = digit_part(chars, i, radix);
        if digits.is_empty() {
            return None;
        }
        i = end;
        int_of(&digits, radix)
    } else {
        let (int_part, end) = digit_part(chars, i, 10);
        i = end;
        let mut is_float = false;
        let mut text = int_part.clone();
        if chars.get(i) == Some(&'.') && !(chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.')) {
            is_float = true;
            i += 1;
            let (frac, end) = digit_part(chars, i, 10);
            i = end;
            if int_part.is_empty() && frac.is_empty() {
                return None;
            }
            text.push('.');
            text.push_str(&frac);
        }
        if matches!(chars.get(i), Some('e' | 'E')) {
            let mut j = i + 1;
            let mut sign = "";
            if matches!(chars.get(j), Some('+' | '-')) {
                sign = if chars[j] == '-' { "-" } else { "" };
                j += 1;
            }
            let (exp, end) = digit_part(chars, j, 10);
            if !exp.is_empty() {
                is_float = true;
                text.push('e');
                text.push_str(sign);
                text.push_str(&exp);
                i = end;
            }
        }
        if matches!(chars.get(i), Some('j' | 'J')) {
            i += 1;
            Num::Imag(parse_float(&text)?)
        } else if is_float {
            Num::Float(parse_float(&text)?)
        } else {
            // Python 3 refuses `010` (leading zeros) but accepts `00` and `0_0`.
            if int_part.len() > 1 && int_part.starts_with('0') && int_part.chars().any(|c| c != '0') {
                return None;
            }
            int_of(&int_part, 10)
        }
    };
    // A number glued to a name (`1abc`, `10.0.0.1` after `10.0`) is never a literal.
    if chars.get(i).is_some_and(|c| is_ident_char(*c) || *c == '.') && !(chars.get(i) == Some(&'.') && chars.get(i + 1) == Some(&'.')) {
        return None;
    }
    Some((num, i))
}

fn parse_float(text: &str) -> Option<f64> {
    let t = if text.starts_with('.') { format!("0{text}") } else { text.to_string() };
    let t = if t.ends_with('.') { format!("{t}0") } else { t };
    let t = t.replace(".e", ".0e");
    t.parse::<f64>().ok()
}

fn int_of(digits: &str, radix: u32) -> Num {
    match i128::from_str_radix(digits, radix) {
        Ok(v) => Num::Int(v),
        Err(_) => Num::BigInt(digits.chars().fold(0.0, |acc, c| acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0)))),
    }
}

/// A string literal from the quote at `start`; returns its value and the index after it.
fn lex_string(chars: &[char], start: usize, raw: bool, bytes: bool) -> Option<(String, usize)> {
    let q = chars[start];
    let triple = chars.get(start + 1) == Some(&q) && chars.get(start + 2) == Some(&q);
    let mut i = start + if triple { 3 } else { 1 };
    let mut out = String::new();
    loop {
        let c = *chars.get(i)?;
        if c == q && (!triple || (chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q))) {
            i += if triple { 3 } else { 1 };
            break;
        }
        if bytes && !c.is_ascii() {
            return None;
        }
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *chars.get(i + 1)?;
        if raw {
            // A backslash in a raw string stays, but still keeps the next quote from ending it.
            out.push('\\');
            out.push(e);
            i += 2;
            continue;
        }
        i += 2;
        match e {
            '\n' => {}
            '\\' | '\'' | '"' => out.push(e),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    match chars.get(i).and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(if bytes { v & 0xff } else { v })?);
            }
            'x' => {
                let hex: String = chars.get(i..i + 2)?.iter().collect();
                let v = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.chars().all(|c| c.is_ascii_hexdigit()))?;
                out.push(char::from_u32(v)?);
                i += 2;
            }
            'u' | 'U' if !bytes => {
                let n = if e == 'u' { 4 } else { 8 };
                let hex: String = chars.get(i..i + n)?.iter().collect();
                if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                i += n;
            }
            // `\N{name}` needs Unicode's name table: keep the value as text (see the module doc).
            'N' if !bytes => return None,
            // An unknown escape keeps its backslash (Python warns, then does this).
            _ => {
                out.push('\\');
                out.push(e);
            }
        }
    }
    Some((out, i))
}

// ----- syntax: the part of Python's expression grammar literals use -----

#[derive(Debug, Clone)]
enum Ast {
    Num(Num),
    Str(String),
    Bytes(String),
    FString,
    Const(Literal),
    Ellipsis,
    Name,
    Neg(bool, Box<Ast>),
    /// `left + right` (true) or `left - right` (false).
    Add(bool, Box<Ast>, Box<Ast>),
    Tuple(Vec<Ast>),
    List(Vec<Ast>),
    Set(Vec<Ast>),
    Dict(Vec<(Ast, Ast)>),
    EmptySetCall,
}

struct Parser<'t> {
    tokens: &'t [Tok],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// The whole value: an expression or a bare tuple (`1, 2`), and nothing after it.
    fn top(&mut self) -> Option<Ast> {
        let ast = self.tuple_or_expr(None)?;
        (self.at == self.tokens.len()).then_some(ast)
    }

    /// `expr (, expr)* [,]` up to `close` (or the end).
    fn tuple_or_expr(&mut self, close: Option<char>) -> Option<Ast> {
        let first = self.expr()?;
        if self.peek() != Some(&Tok::Punct(',')) {
            return Some(first);
        }
        let mut items = vec![first];
        while self.eat(',') {
            if self.peek().is_none() || close.is_some_and(|c| self.peek() == Some(&Tok::Punct(c))) {
                break;
            }
            items.push(self.expr()?);
        }
        Some(Ast::Tuple(items))
    }

    fn expr(&mut self) -> Option<Ast> {
        let mut left = self.unary()?;
        loop {
            let add = match self.peek() {
                Some(Tok::Punct('+')) => true,
                Some(Tok::Punct('-')) => false,
                _ => return Some(left),
            };
            self.at += 1;
            let right = self.unary()?;
            left = Ast::Add(add, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Option<Ast> {
        match self.peek() {
            Some(Tok::Punct('-')) => {
                self.at += 1;
                Some(Ast::Neg(true, Box::new(self.unary()?)))
            }
            Some(Tok::Punct('+')) => {
                self.at += 1;
                Some(Ast::Neg(false, Box::new(self.unary()?)))
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Option<Ast> {
        let tok = self.peek()?.clone();
        self.at += 1;
        match tok {
            Tok::Num(n) => Some(Ast::Num(n)),
            Tok::Ellipsis => Some(Ast::Ellipsis),
            Tok::Str(bytes, fstring, mut value) => {
                // Adjacent string literals are one; mixing bytes and str is a syntax error.
                let mut any_f = fstring;
                while let Some(Tok::Str(b, f, v)) = self.peek() {
                    if *b != bytes {
                        return None;
                    }
                    any_f |= *f;
                    value.push_str(v);
                    self.at += 1;
                }
                Some(if any_f {
                    Ast::FString
                } else if bytes {
                    Ast::Bytes(value)
                } else {
                    Ast::Str(value)
                })
            }
            Tok::Name(name) => match name.as_str() {
                "True" => Some(Ast::Const(Literal::Bool(true))),
                "False" => Some(Ast::Const(Literal::Bool(false))),
                "None" => Some(Ast::Const(Literal::None)),
                "set" if self.peek() == Some(&Tok::Punct('(')) && self.tokens.get(self.at + 1) == Some(&Tok::Punct(')')) => {
                    self.at += 2;
                    Some(Ast::EmptySetCall)
                }
                // Any other name (a keyword, a variable) makes the value no literal; the
                // caller keeps the text either way.
                _ => Some(Ast::Name),
            },
            Tok::Punct('(') => {
                if self.eat(')') {
                    return Some(Ast::Tuple(Vec::new()));
                }
                let inner = self.tuple_or_expr(Some(')'))?;
                self.eat(')').then_some(inner)
            }
            Tok::Punct('[') => {
                let items = self.items(']')?;
                Some(Ast::List(items))
            }
            Tok::Punct('{') => {
                if self.eat('}') {
                    return Some(Ast::Dict(Vec::new()));
                }
                let first = self.expr()?;
                if self.eat(':') {
                    let mut pairs = vec![(first, self.expr()?)];
                    while self.eat(',') {
                        if self.eat('}') {
                            return Some(Ast::Dict(pairs));
                        }
                        let k = self.expr()?;
                        if !self.eat(':') {
                            return None;
                        }
                        pairs.push((k, self.expr()?));
                    }
                    self.eat('}').then_some(Ast::Dict(pairs))
                } else {
                    let mut items = vec![first];
                    while self.eat(',') {
                        if self.eat('}') {
                            return Some(Ast::Set(items));
                        }
                        items.push(self.expr()?);
                    }
                    self.eat('}').then_some(Ast::Set(items))
                }
            }
            _ => None,
        }
    }

    /// `[expr (, expr)* [,]]` then `close`.
    fn items(&mut self, close: char) -> Option<Vec<Ast>> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Some(items);
        }
        loop {
            items.push(self.expr()?);
            if self.eat(close) {
                return Some(items);
            }
            if !self.eat(',') {
                return None;
            }
            if self.eat(close) {
                return Some(items);
            }
        }
    }
}

// ----- evaluation: `ast.literal_eval`'s `_convert`, then Ansible's coercion -----

enum Refused {
    NotLiteral,
    Unhashable,
}

/// A number as Python holds it during evaluation.
#[derive(Clone, Copy)]
enum PyNum {
    Int(i128),
    Float(f64),
    Complex(f64, f64),
}

fn num(ast: &Ast) -> Result<PyNum, Refused> {
    match ast {
        Ast::Num(Num::Int(i)) => Ok(PyNum::Int(*i)),
        Ast::Num(Num::BigInt(f) | Num::Float(f)) => Ok(PyNum::Float(*f)),
        Ast::Num(Num::Imag(f)) => Ok(PyNum::Complex(0.0, *f)),
        _ => Err(Refused::NotLiteral),
    }
}

fn signed_num(ast: &Ast) -> Result<PyNum, Refused> {
    match ast {
        Ast::Neg(neg, inner) => {
            let n = num(inner)?;
            Ok(match (n, neg) {
                (_, false) => n,
                (PyNum::Int(i), true) => PyNum::Int(-i),
                (PyNum::Float(f), true) => PyNum::Float(-f),
                (PyNum::Complex(r, i), true) => PyNum::Complex(-r, -i),
            })
        }
        _ => num(ast),
    }
}

fn from_num(n: PyNum) -> Literal {
    match n {
        PyNum::Int(i) => Literal::Int(i),
        PyNum::Float(f) => Literal::Float(f),
        PyNum::Complex(r, i) => Literal::Str(complex_str(r, i)),
    }
}

/// The value and whether Python could hash it (set members and dict keys must be hashable).
fn convert(ast: &Ast) -> Result<(Literal, bool), Refused> {
    Ok(match ast {
        Ast::Str(s) | Ast::Bytes(s) => (Literal::Str(s.clone()), true),
        Ast::Const(c) => (c.clone(), true),
        Ast::Ellipsis => (Literal::Str("...".to_string()), true),
        Ast::Tuple(items) => {
            let mut all_hashable = true;
            let mut out = Vec::new();
            for item in items {
                let (v, h) = convert(item)?;
                all_hashable &= h;
                out.push(v);
            }
            (Literal::List(out), all_hashable)
        }
        Ast::List(items) => (Literal::List(items.iter().map(|i| convert(i).map(|(v, _)| v)).collect::<Result<_, _>>()?), false),
        Ast::Set(items) => {
            let mut out: Vec<Literal> = Vec::new();
            for item in items {
                let (v, h) = convert(item)?;
                if !h {
                    return Err(Refused::Unhashable);
                }
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            (Literal::List(out), false)
        }
        Ast::EmptySetCall => (Literal::List(Vec::new()), false),
        Ast::Dict(pairs) => {
            let mut out: Vec<(Literal, Literal)> = Vec::new();
            for (k, v) in pairs {
                let (k, h) = convert(k)?;
                if !h {
                    return Err(Refused::Unhashable);
                }
                let (v, _) = convert(v)?;
                match out.iter_mut().find(|(existing, _)| *existing == k) {
                    Some(slot) => slot.1 = v,
                    None => out.push((k, v)),
                }
            }
            (Literal::Dict(out), false)
        }
        Ast::Add(add, left, right) => {
            let l = signed_num(left)?;
            let r = num(right)?;
            let real = match l {
                PyNum::Int(i) => i as f64,
                PyNum::Float(f) => f,
                PyNum::Complex(..) => return Err(Refused::NotLiteral),
            };
            let PyNum::Complex(_, imag) = r else { return Err(Refused::NotLiteral) };
            // Python widens the left number to `complex(real, 0.0)`, then adds or subtracts.
            let (real, imag) = if *add { (real + 0.0, 0.0 + imag) } else { (real - 0.0, 0.0 - imag) };
            (from_num(PyNum::Complex(real, imag)), true)
        }
        Ast::Neg(..) | Ast::Num(_) => (from_num(signed_num(ast)?), true),
        Ast::FString | Ast::Name => return Err(Refused::NotLiteral),
    })
}

/// Python's `repr(float)`: the shortest digits that read back, fixed notation for exponents
/// -4..16, scientific otherwise; `point` adds the `.0` a float (not a complex part) shows.
pub fn float_repr(f: f64, point: bool) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Rust's `{:e}` gives the same shortest round-trip digits, as d.ddde<exp>.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.push_str(&"0".repeat(int_len - digits.len()));
                if point {
                    out.push_str(".0");
                }
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

/// Python's `str(complex)`: `2j`, `(1-2j)`, `(-0-1j)`.
fn complex_str(real: f64, imag: f64) -> String {
    let im = float_repr(imag, false);
    if real == 0.0 && real.is_sign_positive() {
        format!("{im}j")
    } else {
        let sign = if im.starts_with('-') { "" } else { "+" };
        format!("({}{sign}{im}j)", float_repr(real, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Eval {
        Eval::Value(Literal::Str(v.to_string()))
    }

    /// Each row checked against Python 3.11's `ast.literal_eval` as Ansible's INI plugin
    /// applies it (then tuples and sets as lists, complex and bytes as text).
    #[test]
    fn evaluates_like_python() {
        use Literal::*;
        let v = Eval::Value;
        let rows: Vec<(&str, Eval)> = vec![
            ("22", v(Int(22))),
            ("22 # ssh port", v(Int(22))),
            ("ops # admin", Eval::Text),
            ("'ops' # admin", s("ops")),
            ("'22'", s("22")),
            ("\"22\"", s("22")),
            ("-5", v(Int(-5))),
            ("+5", v(Int(5))),
            ("- 5", v(Int(-5))),
            ("--5", Eval::Text),
            ("-(1)", v(Int(-1))),
            ("(1)", v(Int(1))),
            ("010", Eval::Text),
            ("00", v(Int(0))),
            ("0_0", v(Int(0))),
            ("1_000", v(Int(1000))),
            ("1__0", Eval::Text),
            ("1_", Eval::Text),
            ("0x1F", v(Int(31))),
            ("0x_1f", v(Int(31))),
            ("0o17", v(Int(15))),
            ("0b101", v(Int(5))),
            ("0x", Eval::Text),
            ("1.", v(Float(1.0))),
            (".5", v(Float(0.5))),
            ("1e5", v(Float(100000.0))),
            ("1.e2", v(Float(100.0))),
            ("0_7.5", v(Float(7.5))),
            ("010.5", v(Float(10.5))),
            ("1e", Eval::Text),
            ("10.0.0.1", Eval::Text),
            ("1.2.3", Eval::Text),
            ("web1.example.com", Eval::Text),
            ("eth0", Eval::Text),
            ("True", v(Bool(true))),
            ("False", v(Bool(false))),
            ("true", Eval::Text),
            ("yes", Eval::Text),
            ("None", v(None)),
            ("-True", Eval::Text),
            ("2j", s("2j")),
            ("010j", s("10j")),
            ("-1j", s("(-0-1j)")),
            ("1-2j", s("(1-2j)")),
            ("1+2j", s("(1+2j)")),
            ("1.5+0.5j", s("(1.5+0.5j)")),
            ("1+2", Eval::Text),
            ("1+2j+3j", Eval::Text),
            ("...", s("...")),
            ("'a' 'b'", s("ab")),
            ("'a' \"b\"", s("ab")),
            ("b'x' 'y'", Eval::Text),
            ("b'x'", s("x")),
            ("f'x'", Eval::Text),
            ("r'\\d'", s("\\d")),
            ("r'\\''", s("\\'")),
            ("'\\d'", s("\\d")),
            ("'\\n'", s("\n")),
            ("'\\x41\\101\\u00e9'", s("AAé")),
            ("'\\x4'", Eval::Text),
            ("'\\N{DASH}'", Eval::Text),
            ("'''a'b'''", s("a'b")),
            ("'unterminated", Eval::Text),
            ("'03#pa33w0rd'", s("03#pa33w0rd")),
            ("''", s("")),
            ("", Eval::Text),
            ("1, 2", v(List(vec![Int(1), Int(2)]))),
            ("1,", v(List(vec![Int(1)]))),
            ("()", v(List(vec![]))),
            ("(1,)", v(List(vec![Int(1)]))),
            ("[1, 'a', [None]]", v(List(vec![Int(1), Str("a".into()), List(vec![None])]))),
            ("[1,]", v(List(vec![Int(1)]))),
            ("[1,,]", Eval::Text),
            ("{'a': 1, 'a': 2,}", v(Dict(vec![(Str("a".into()), Int(2))]))),
            ("{1, 1}", v(List(vec![Int(1)]))),
            ("set()", v(List(vec![]))),
            ("set(1)", Eval::Text),
            ("{[1]: 2}", Eval::Unhashable),
            ("{(1, [2])}", Eval::Unhashable),
            ("{(1, 2): 3}", v(Dict(vec![(List(vec![Int(1), Int(2)]), Int(3))]))),
            ("{**a}", Eval::Text),
            ("[1][0]", Eval::Text),
            ("1 if True else 2", Eval::Text),
            ("1 2", Eval::Text),
            ("a=b", Eval::Text),
            ("/etc/ssh/key", Eval::Text),
            ("~/.ssh/id", Eval::Text),
            ("@x", Eval::Text),
        ];
        for (text, want) in rows {
            assert_eq!(eval(text), want, "literal_eval({text:?})");
        }
    }

    #[test]
    fn floats_print_like_python() {
        for (f, want) in [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1234.5, "1234.5"),
            (-0.0, "-0.0"),
            (100000.0, "100000.0"),
        ] {
            assert_eq!(float_repr(f, true), want);
        }
    }
}
