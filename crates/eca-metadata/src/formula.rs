//! Custom-attribute formulas (`spec/metadata.md` §8): what the validator checks and what the
//! server evaluates when it puts custom attributes into userinfo, ID tokens and SAML
//! assertions.
//!
//! The language is the small subset of Salesforce formulas that custom attributes use in
//! practice: field references (`$User.Country`, `User.Country`, `$Organization.Name`,
//! `$Profile.Name`), string and number literals, `&` concatenation, comparison and arithmetic
//! operators, and function calls (`IF(...)`, `TEXT(...)`, `UPPER(...)`).

use std::fmt;

/// The objects a formula may read.
pub const OBJECTS: &[&str] = &["User", "Organization", "Profile", "UserRole", "Permission"];

/// Deepest nesting of parentheses, function calls and `!`/`-` a formula may have. Real custom
/// attribute formulas nest a few levels; the bound keeps the recursive parser (and everything
/// that walks the tree) far from the stack's limit, as `xml::MAX_DEPTH` does for documents.
pub const MAX_NESTING: usize = 64;

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Number(f64),
    Bool(bool),
    Null,
    /// `$User.Country`: object, field path, and whether it was written with `$`.
    Field {
        object: String,
        path: Vec<String>,
        dollar: bool,
    },
    Call {
        name: String,
        args: Vec<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Not(Box<Expr>),
    Negate(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Concat,
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// Why a formula does not parse, with the character offset it was found at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaError {
    pub message: String,
    /// 0-based character offset into the formula.
    pub at: usize,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

impl Expr {
    /// Every field reference in the formula.
    pub fn fields(&self) -> Vec<(&str, &[String], bool)> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<(&'a str, &'a [String], bool)>) {
        match self {
            Expr::Field {
                object,
                path,
                dollar,
            } => out.push((object, path, *dollar)),
            Expr::Call { args, .. } => args.iter().for_each(|a| a.collect_fields(out)),
            Expr::Binary { left, right, .. } => {
                left.collect_fields(out);
                right.collect_fields(out);
            }
            Expr::Not(e) | Expr::Negate(e) => e.collect_fields(out),
            Expr::Str(_) | Expr::Number(_) | Expr::Bool(_) | Expr::Null => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Number(f64),
    Ident(String),
    Dollar,
    Dot,
    Comma,
    LParen,
    RParen,
    Op(&'static str),
}

fn tokenize(src: &str) -> Result<Vec<(Token, usize)>, FormulaError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '"' | '\'' => {
                let quote = c;
                i += 1;
                let mut s = String::new();
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(FormulaError {
                                message: "unterminated string literal".into(),
                                at: start,
                            });
                        }
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                s.push(*n);
                            }
                            i += 2;
                        }
                        Some(ch) if *ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                tokens.push((Token::Str(s), start));
                continue;
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text.parse::<f64>().map_err(|_| FormulaError {
                    message: format!("`{text}` is not a number"),
                    at: start,
                })?;
                tokens.push((Token::Number(n), start));
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push((Token::Ident(chars[start..i].iter().collect()), start));
                continue;
            }
            '$' => tokens.push((Token::Dollar, start)),
            '.' => tokens.push((Token::Dot, start)),
            ',' => tokens.push((Token::Comma, start)),
            '(' => tokens.push((Token::LParen, start)),
            ')' => tokens.push((Token::RParen, start)),
            _ => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = ["==", "!=", "<>", "<=", ">=", "&&", "||"]
                    .into_iter()
                    .find(|o| *o == two);
                if let Some(op) = op {
                    tokens.push((Token::Op(op), start));
                    i += 2;
                    continue;
                }
                let op = match c {
                    '&' => "&",
                    '+' => "+",
                    '-' => "-",
                    '*' => "*",
                    '/' => "/",
                    '=' => "=",
                    '<' => "<",
                    '>' => ">",
                    '!' => "!",
                    other => {
                        return Err(FormulaError {
                            message: format!("unexpected character `{other}`"),
                            at: start,
                        });
                    }
                };
                tokens.push((Token::Op(op), start));
            }
        }
        i += 1;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    len: usize,
    /// How many parentheses, calls and unary operators enclose the current position.
    depth: usize,
}

/// Parses a formula.
pub fn parse(src: &str) -> Result<Expr, FormulaError> {
    let len = src.chars().count();
    if src.trim().is_empty() {
        return Err(FormulaError {
            message: "formula is empty".into(),
            at: 0,
        });
    }
    if len > 3900 {
        return Err(FormulaError {
            message: "formula is longer than 3,900 characters".into(),
            at: 3900,
        });
    }
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        len,
        depth: 0,
    };
    let expr = p.expr(0)?;
    if let Some((t, at)) = p.tokens.get(p.pos) {
        return Err(FormulaError {
            message: format!("unexpected {} after the end of the expression", describe(t)),
            at: *at,
        });
    }
    Ok(expr)
}

fn describe(t: &Token) -> String {
    match t {
        Token::Str(s) => format!("string \"{s}\""),
        Token::Number(n) => format!("number {n}"),
        Token::Ident(s) => format!("`{s}`"),
        Token::Dollar => "`$`".into(),
        Token::Dot => "`.`".into(),
        Token::Comma => "`,`".into(),
        Token::LParen => "`(`".into(),
        Token::RParen => "`)`".into(),
        Token::Op(o) => format!("`{o}`"),
    }
}

fn binary_op(op: &str) -> Option<(BinaryOp, u8)> {
    Some(match op {
        "||" => (BinaryOp::Or, 1),
        "&&" => (BinaryOp::And, 2),
        "=" | "==" => (BinaryOp::Eq, 3),
        "!=" | "<>" => (BinaryOp::Ne, 3),
        "<" => (BinaryOp::Lt, 4),
        "<=" => (BinaryOp::Le, 4),
        ">" => (BinaryOp::Gt, 4),
        ">=" => (BinaryOp::Ge, 4),
        "&" => (BinaryOp::Concat, 5),
        "+" => (BinaryOp::Add, 5),
        "-" => (BinaryOp::Sub, 5),
        "*" => (BinaryOp::Mul, 6),
        "/" => (BinaryOp::Div, 6),
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.len, |(_, a)| *a)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, FormulaError> {
        Err(FormulaError {
            message: message.into(),
            at: self.at(),
        })
    }

    /// Parses one level deeper: the operand of `!`/`-`, a parenthesised expression or a
    /// call's arguments. The token at the current position opens the level.
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, FormulaError>,
    ) -> Result<T, FormulaError> {
        if self.depth >= MAX_NESTING {
            return self.error(format!(
                "parentheses, function calls and `!`/`-` are nested more than {MAX_NESTING} levels deep"
            ));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn expr(&mut self, min_prec: u8) -> Result<Expr, FormulaError> {
        let mut left = self.unary()?;
        while let Some(Token::Op(op)) = self.peek() {
            let Some((bin, prec)) = binary_op(op) else {
                break;
            };
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            let right = self.expr(prec + 1)?;
            left = Expr::Binary {
                op: bin,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        match self.peek() {
            Some(Token::Op("!")) => self.nested(|p| {
                p.pos += 1;
                Ok(Expr::Not(Box::new(p.unary()?)))
            }),
            Some(Token::Op("-")) => self.nested(|p| {
                p.pos += 1;
                Ok(Expr::Negate(Box::new(p.unary()?)))
            }),
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, FormulaError> {
        let Some((token, _)) = self.tokens.get(self.pos).cloned() else {
            return self.error("the formula ends where a value was expected");
        };
        match token {
            Token::Str(s) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Token::Number(n) => {
                self.pos += 1;
                Ok(Expr::Number(n))
            }
            Token::LParen => self.nested(|p| {
                p.pos += 1;
                let e = p.expr(0)?;
                if p.peek() != Some(&Token::RParen) {
                    return p.error("expected `)`");
                }
                p.pos += 1;
                Ok(e)
            }),
            Token::Dollar => {
                self.pos += 1;
                match self.peek() {
                    Some(Token::Ident(_)) => self.field(true),
                    _ => self.error("expected an object name after `$`, as in $User.Country"),
                }
            }
            Token::Ident(name) => {
                if self.tokens.get(self.pos + 1).map(|(t, _)| t) == Some(&Token::LParen) {
                    return self.nested(|p| p.call(name));
                }
                match name.to_ascii_uppercase().as_str() {
                    "TRUE" => {
                        self.pos += 1;
                        Ok(Expr::Bool(true))
                    }
                    "FALSE" => {
                        self.pos += 1;
                        Ok(Expr::Bool(false))
                    }
                    "NULL" => {
                        self.pos += 1;
                        Ok(Expr::Null)
                    }
                    _ => self.field(false),
                }
            }
            other => self.error(format!("unexpected {}", describe(&other))),
        }
    }

    fn field(&mut self, dollar: bool) -> Result<Expr, FormulaError> {
        let Some(Token::Ident(object)) = self.peek().cloned() else {
            return self.error("expected a field reference");
        };
        self.pos += 1;
        let mut path = Vec::new();
        while self.peek() == Some(&Token::Dot) {
            self.pos += 1;
            match self.peek().cloned() {
                Some(Token::Ident(f)) => {
                    self.pos += 1;
                    path.push(f);
                }
                _ => return self.error("expected a field name after `.`"),
            }
        }
        if path.is_empty() {
            return Err(FormulaError {
                message: format!(
                    "`{object}` is not a field reference; write Object.Field, as in $User.{object}"
                ),
                at: self.tokens[self.pos - 1].1,
            });
        }
        Ok(Expr::Field {
            object,
            path,
            dollar,
        })
    }

    fn call(&mut self, name: String) -> Result<Expr, FormulaError> {
        self.pos += 2;
        let mut args = Vec::new();
        if self.peek() == Some(&Token::RParen) {
            self.pos += 1;
            return Ok(Expr::Call { name, args });
        }
        loop {
            args.push(self.expr(0)?);
            match self.peek() {
                Some(Token::Comma) => self.pos += 1,
                Some(Token::RParen) => {
                    self.pos += 1;
                    return Ok(Expr::Call { name, args });
                }
                _ => return self.error(format!("expected `,` or `)` in the arguments of {name}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_field_references() {
        for (src, object, dollar) in [
            ("$User.Country", "User", true),
            ("User.Country", "User", false),
            ("$Organization.Name", "Organization", true),
        ] {
            let e = parse(src).unwrap();
            let f = e.fields();
            assert_eq!((f[0].0, f[0].2), (object, dollar), "{src}");
        }
    }

    #[test]
    fn parses_expressions() {
        let e = parse("IF($User.Country = \"US\", 'us-' & LOWER($User.Alias), \"other\")").unwrap();
        assert_eq!(e.fields().len(), 2);
        assert!(parse("1 + 2 * (3 - 4)").is_ok());
        assert!(parse("\"literal\"").is_ok());
    }

    #[test]
    fn reports_errors_with_positions() {
        assert_eq!(parse("$User.").unwrap_err().at, 6);
        assert_eq!(parse("$User.Country)").unwrap_err().at, 13);
        assert!(
            parse("Country")
                .unwrap_err()
                .message
                .contains("not a field reference")
        );
        assert!(parse("\"open").is_err());
        assert!(parse("").is_err());
        assert!(parse("IF(a.b, c.d").is_err());
        assert!(parse("$User.Country #").is_err());
    }

    /// Review found that 1,940 parentheses (within the 3,900-character limit) overflowed the
    /// stack of a debug build; every kind of nesting the parser recurses on is bounded.
    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let field = "$User.Country";
        for (open, close) in [
            ("(", ")"),
            ("!", ""),
            ("-", ""),
            ("IF(", ")"),
            ("UPPER(- ", ")"),
        ] {
            let deep = format!("{}{field}{}", open.repeat(1940), close.repeat(1940));
            let deep: String = deep.chars().take(3900).collect();
            let e = parse(&deep).unwrap_err();
            assert!(e.message.contains("nested more than"), "{open}: {e}");
        }
        let ok = format!(
            "{}{field}{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert!(parse(&ok).is_ok());
        let too_deep = format!(
            "{}{field}{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert_eq!(parse(&too_deep).unwrap_err().at, MAX_NESTING);
        // A long chain of operators is a deep tree without nesting; walking and dropping it
        // must not overflow either.
        let chain = format!("{}1", "1+".repeat(1949));
        assert!(parse(&chain).unwrap().fields().is_empty());
    }
}
