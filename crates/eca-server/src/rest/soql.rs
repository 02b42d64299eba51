//! A small, safe subset of SOQL: what clients ask OpenECA for (the Salesforce CLI's probes,
//! `SELECT Id FROM User WHERE Username = '...'`), parsed into a [`Query`] and nothing else.
//!
//! ```text
//! SELECT field [, field]... FROM Object
//!     [WHERE condition [AND condition]...]
//!     [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST] [, ...]]
//!     [LIMIT n] [OFFSET n]
//! condition := field (= | != | <>) literal | field [NOT] IN (literal, ...) | field LIKE 'text'
//! literal   := 'text' | true | false | null | number
//! ```
//!
//! Keywords, fields and object names are case-insensitive. No `OR`, no parentheses, no
//! relationship paths, no aggregates, no date literals: each is refused with
//! `MALFORMED_QUERY` and a message that says what is not supported. The query length is
//! bounded and the parser is a single pass over tokens without recursion, so no input makes it
//! slow or deep. Errors carry the byte offset they concern, rendered as Salesforce does
//! ("ERROR at Row:1:Column:16").

/// The longest query accepted, in bytes.
pub const MAX_LEN: usize = 20_000;
/// The largest `LIMIT` (Salesforce's limit for one query without `queryMore`).
pub const MAX_LIMIT: u32 = 50_000;
/// The largest `OFFSET` (Salesforce's limit).
pub const MAX_OFFSET: u32 = 2_000;

/// A name and where it starts in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub fields: Vec<Name>,
    pub object: Name,
    /// Conditions that must all hold.
    pub filters: Vec<Filter>,
    pub order: Vec<Order>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    NotEquals,
    In,
    NotIn,
    Like,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Text(String),
    Bool(bool),
    Null,
    /// A number, as written.
    Number(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: Name,
    pub operator: Operator,
    /// One value, or the list of `IN`.
    pub values: Vec<Literal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub field: Name,
    pub descending: bool,
    /// `NULLS LAST`; by default nulls come first ascending and last descending, as on
    /// Salesforce.
    pub nulls_last: bool,
}

/// Why a query was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoqlError {
    pub message: String,
    /// Byte offset into the query, when the error has a place.
    pub at: Option<usize>,
}

impl SoqlError {
    fn at(at: usize, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            at: Some(at),
        }
    }

    /// Salesforce's layout: the line of the query, a caret under the place, the row and
    /// column, then the message.
    pub fn render(&self, query: &str) -> String {
        located(query, self.at, &self.message)
    }
}

/// `message` under the line of `query` that holds byte `at`, Salesforce-style.
pub fn located(query: &str, at: Option<usize>, message: &str) -> String {
    let Some(at) = at.filter(|a| *a <= query.len() && query.is_char_boundary(*a)) else {
        return message.to_owned();
    };
    let line_start = query[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = query[at..].find('\n').map_or(query.len(), |i| at + i);
    let row = query[..at].matches('\n').count() + 1;
    let column = query[line_start..at].chars().count() + 1;
    format!(
        "\n{}\n{}^\nERROR at Row:{row}:Column:{column}\n{message}",
        &query[line_start..line_end],
        " ".repeat(column - 1)
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Number(String),
    Comma,
    Open,
    Close,
    Operator(&'static str),
    End,
}

fn tokens(query: &str) -> Result<Vec<(Token, usize)>, SoqlError> {
    let bytes = query.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b',' => {
                out.push((Token::Comma, start));
                i += 1;
            }
            b'(' => {
                out.push((Token::Open, start));
                i += 1;
            }
            b')' => {
                out.push((Token::Close, start));
                i += 1;
            }
            b'=' => {
                out.push((Token::Operator("="), start));
                i += 1;
            }
            b'!' | b'<' | b'>' => {
                let two = bytes.get(i + 1).copied();
                let op = match (c, two) {
                    (b'!', Some(b'=')) => "!=",
                    (b'<', Some(b'>')) => "<>",
                    (b'<', Some(b'=')) => "<=",
                    (b'>', Some(b'=')) => ">=",
                    (b'<', _) => "<",
                    (b'>', _) => ">",
                    _ => return Err(SoqlError::at(start, "unexpected token: '!'")),
                };
                out.push((Token::Operator(op), start));
                i += op.len();
            }
            b'\'' => {
                let (text, next) = string_literal(query, i)?;
                out.push((Token::Text(text), start));
                i = next;
            }
            b'0'..=b'9' | b'-' | b'.' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let number = &query[start..i];
                if number == "-" || number == "." {
                    return Err(SoqlError::at(
                        start,
                        format!("unexpected token: '{number}'"),
                    ));
                }
                out.push((Token::Number(number.to_owned()), start));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
                {
                    i += 1;
                }
                out.push((Token::Word(query[start..i].to_owned()), start));
            }
            _ => {
                let ch = query[start..].chars().next().unwrap_or('?');
                return Err(SoqlError::at(start, format!("unexpected token: '{ch}'")));
            }
        }
    }
    out.push((Token::End, query.len()));
    Ok(out)
}

/// A quoted literal starting at `start` (the quote); returns the text and the offset after
/// the closing quote. `\_` and `\%` stay escaped, for `LIKE`.
fn string_literal(query: &str, start: usize) -> Result<(String, usize), SoqlError> {
    let mut text = String::new();
    let mut chars = query[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => return Ok((text, start + 1 + i + 1)),
            '\\' => {
                let escaped = match chars.next() {
                    Some((_, 'n')) => "\n",
                    Some((_, 't')) => "\t",
                    Some((_, 'r')) => "\r",
                    Some((_, 'b')) => "\u{8}",
                    Some((_, 'f')) => "\u{c}",
                    Some((_, '\'')) => "'",
                    Some((_, '"')) => "\"",
                    Some((_, '\\')) => "\\",
                    Some((_, '_')) => "\\_",
                    Some((_, '%')) => "\\%",
                    _ => {
                        return Err(SoqlError::at(
                            start + 1 + i,
                            "Invalid string literal: unknown escape sequence",
                        ));
                    }
                };
                text.push_str(escaped);
            }
            other => text.push(other),
        }
    }
    Err(SoqlError::at(start, "unterminated string literal"))
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens.get(self.next).map_or(&Token::End, |(t, _)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).map_or(0, |(_, at)| *at)
    }

    fn bump(&mut self) -> (Token, usize) {
        let item = self
            .tokens
            .get(self.next)
            .cloned()
            .unwrap_or((Token::End, 0));
        if self.next < self.tokens.len() {
            self.next += 1;
        }
        item
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        if found {
            self.next += 1;
        }
        found
    }

    fn unexpected(&self) -> SoqlError {
        let at = self.position();
        match self.peek() {
            Token::End => SoqlError::at(at, "unexpected end of query"),
            Token::Word(w) => SoqlError::at(at, format!("unexpected token: '{w}'")),
            Token::Text(t) => SoqlError::at(at, format!("unexpected token: '{t}'")),
            Token::Number(n) => SoqlError::at(at, format!("unexpected token: '{n}'")),
            Token::Comma => SoqlError::at(at, "unexpected token: ','"),
            Token::Open => SoqlError::at(at, "unexpected token: '('"),
            Token::Close => SoqlError::at(at, "unexpected token: ')'"),
            Token::Operator(o) => SoqlError::at(at, format!("unexpected token: '{o}'")),
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), SoqlError> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// A field or object name; relationship paths (`Profile.Name`) and keywords are refused.
    fn name(&mut self, what: &str) -> Result<Name, SoqlError> {
        let at = self.position();
        match self.peek().clone() {
            Token::Word(w) if !is_reserved(&w) => {
                self.next += 1;
                if matches!(self.peek(), Token::Open) {
                    return Err(SoqlError::at(
                        at,
                        format!("{w}(): functions and aggregates are not supported by OpenECA"),
                    ));
                }
                if w.contains('.') {
                    return Err(SoqlError::at(
                        at,
                        format!("{w}: relationship queries are not supported by OpenECA"),
                    ));
                }
                Ok(Name { text: w, at })
            }
            Token::End => Err(SoqlError::at(at, format!("expected {what}"))),
            _ => Err(self.unexpected()),
        }
    }

    fn literal(&mut self) -> Result<Literal, SoqlError> {
        let at = self.position();
        match self.bump().0 {
            Token::Text(t) => Ok(Literal::Text(t)),
            Token::Number(n) => Ok(Literal::Number(n)),
            Token::Word(w) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Token::Word(w) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            Token::Word(w) if w.eq_ignore_ascii_case("null") => Ok(Literal::Null),
            Token::Word(w) => Err(SoqlError::at(
                at,
                format!(
                    "unexpected token: '{w}' (date literals and bind variables are not supported by OpenECA)"
                ),
            )),
            _ => {
                self.next -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn count(&mut self, what: &str, max: u32) -> Result<u32, SoqlError> {
        let at = self.position();
        match self.bump().0 {
            Token::Number(n) => match n.parse::<u32>() {
                Ok(v) if v <= max => Ok(v),
                _ => Err(SoqlError::at(
                    at,
                    format!("{what} must be a whole number from 0 to {max}"),
                )),
            },
            _ => {
                self.next -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn filter(&mut self) -> Result<Filter, SoqlError> {
        if self.is_keyword("NOT") || matches!(self.peek(), Token::Open) {
            return Err(SoqlError::at(
                self.position(),
                "parentheses and NOT are not supported by OpenECA: join conditions with AND",
            ));
        }
        let field = self.name("a field")?;
        let at = self.position();
        let operator = match self.bump().0 {
            Token::Operator("=") => Operator::Equals,
            Token::Operator("!=" | "<>") => Operator::NotEquals,
            Token::Operator(o) => {
                return Err(SoqlError::at(
                    at,
                    format!("the operator {o} is not supported by OpenECA: use =, !=, IN or LIKE"),
                ));
            }
            Token::Word(w) if w.eq_ignore_ascii_case("IN") => Operator::In,
            Token::Word(w) if w.eq_ignore_ascii_case("LIKE") => Operator::Like,
            Token::Word(w) if w.eq_ignore_ascii_case("NOT") && self.eat_keyword("IN") => {
                Operator::NotIn
            }
            _ => {
                self.next -= 1;
                return Err(self.unexpected());
            }
        };
        let values = match operator {
            Operator::In | Operator::NotIn => {
                if !matches!(self.bump().0, Token::Open) {
                    self.next -= 1;
                    return Err(self.unexpected());
                }
                let mut values = vec![self.literal()?];
                loop {
                    match self.bump().0 {
                        Token::Comma => values.push(self.literal()?),
                        Token::Close => break,
                        _ => {
                            self.next -= 1;
                            return Err(self.unexpected());
                        }
                    }
                }
                values
            }
            Operator::Like => {
                let at = self.position();
                match self.literal()? {
                    text @ Literal::Text(_) => vec![text],
                    _ => return Err(SoqlError::at(at, "LIKE needs a quoted pattern")),
                }
            }
            _ => vec![self.literal()?],
        };
        Ok(Filter {
            field,
            operator,
            values,
        })
    }
}

/// Words that cannot be field or object names here.
fn is_reserved(word: &str) -> bool {
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER", "BY", "LIMIT", "OFFSET", "IN",
        "LIKE", "ASC", "DESC", "NULLS", "GROUP", "HAVING", "USING", "WITH", "FOR",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(word))
}

/// Parses a query of the supported subset.
pub fn parse(query: &str) -> Result<Query, SoqlError> {
    if query.len() > MAX_LEN {
        return Err(SoqlError {
            message: format!("SOQL statements cannot be longer than {MAX_LEN} characters"),
            at: None,
        });
    }
    let mut p = Parser {
        tokens: tokens(query)?,
        next: 0,
    };
    p.expect_keyword("SELECT")?;
    let mut fields = vec![p.name("a field")?];
    while matches!(p.peek(), Token::Comma) {
        p.next += 1;
        fields.push(p.name("a field")?);
    }
    p.expect_keyword("FROM")?;
    let object = p.name("an object")?;
    let mut filters = Vec::new();
    if p.eat_keyword("WHERE") {
        filters.push(p.filter()?);
        loop {
            if p.eat_keyword("AND") {
                filters.push(p.filter()?);
            } else if p.is_keyword("OR") {
                return Err(SoqlError::at(
                    p.position(),
                    "OR is not supported by OpenECA: join conditions with AND",
                ));
            } else {
                break;
            }
        }
    }
    let mut order = Vec::new();
    if p.eat_keyword("ORDER") {
        p.expect_keyword("BY")?;
        loop {
            let field = p.name("a field")?;
            let descending = if p.eat_keyword("DESC") {
                true
            } else {
                p.eat_keyword("ASC");
                false
            };
            let mut nulls_last = descending;
            if p.eat_keyword("NULLS") {
                nulls_last = if p.eat_keyword("LAST") {
                    true
                } else {
                    p.expect_keyword("FIRST")?;
                    false
                };
            }
            order.push(Order {
                field,
                descending,
                nulls_last,
            });
            if !matches!(p.peek(), Token::Comma) {
                break;
            }
            p.next += 1;
        }
    }
    let limit = match p.eat_keyword("LIMIT") {
        true => Some(p.count("LIMIT", MAX_LIMIT)?),
        false => None,
    };
    let offset = match p.eat_keyword("OFFSET") {
        true => Some(p.count("OFFSET", MAX_OFFSET)?),
        false => None,
    };
    if !matches!(p.peek(), Token::End) {
        return Err(p.unexpected());
    }
    Ok(Query {
        fields,
        object,
        filters,
        order,
        limit,
        offset,
    })
}

/// SOQL `LIKE`: `%` is any run of characters, `_` one character, `\%` and `\_` themselves;
/// case-insensitive, as on Salesforce.
pub fn like(value: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Char(char),
    }
    let mut parts = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        parts.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => match chars.next() {
                Some(e) => P::Char(e),
                None => P::Char('\\'),
            },
            c => P::Char(c),
        });
    }
    let value: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    // Dynamic programming over (pattern prefix, value prefix): linear memory, no recursion.
    let mut matches = vec![false; value.len() + 1];
    matches[0] = true;
    for part in parts {
        let mut next = vec![false; value.len() + 1];
        match part {
            P::Any => {
                let mut seen = false;
                for (i, m) in matches.iter().enumerate() {
                    seen |= *m;
                    next[i] = seen;
                }
            }
            P::One => {
                next[1..].copy_from_slice(&matches[..value.len()]);
            }
            P::Char(c) => {
                for i in 0..value.len() {
                    next[i + 1] = matches[i] && c.to_lowercase().eq(std::iter::once(value[i]));
                }
            }
        }
        matches = next;
    }
    matches[value.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(q: &Query) -> Vec<&str> {
        q.fields.iter().map(|f| f.text.as_str()).collect()
    }

    #[test]
    fn parses_what_the_salesforce_cli_sends() {
        let q = parse("SELECT Id FROM ScratchOrgInfo limit 1").unwrap();
        assert_eq!(names(&q), ["Id"]);
        assert_eq!(q.object.text, "ScratchOrgInfo");
        assert_eq!(q.object.at, 15);
        assert_eq!(q.limit, Some(1));

        let q = parse(
            "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization",
        )
        .unwrap();
        assert_eq!(q.fields.len(), 6);

        let q = parse(
            "SELECT Id,Status,SandboxName,SandboxInfoId,LicenseType,CreatedDate,CopyProgress,SandboxOrganization,SourceId,Description,EndDate,Features FROM SandboxProcess WHERE SandboxOrganization='00D000000000001' ORDER BY CreatedDate DESC",
        )
        .unwrap();
        assert_eq!(q.fields.len(), 12);
        assert_eq!(
            q.filters,
            [Filter {
                field: Name {
                    text: "SandboxOrganization".into(),
                    at: 164
                },
                operator: Operator::Equals,
                values: vec![Literal::Text("00D000000000001".into())],
            }]
        );
        assert!(q.order[0].descending && q.order[0].nulls_last);
    }

    #[test]
    fn parses_filters_order_limit_and_offset() {
        let q = parse(
            "select Id, Username from User where IsActive = true and Username in ('a@b.c', 'd\\'e@f.g') \
             AND Email != null AND LastName LIKE 'O\\_%' order by Username asc nulls last, Id LIMIT 10 OFFSET 2",
        )
        .unwrap();
        assert_eq!(q.filters.len(), 4);
        assert_eq!(q.filters[0].values, [Literal::Bool(true)]);
        assert_eq!(q.filters[1].operator, Operator::In);
        assert_eq!(
            q.filters[1].values,
            [
                Literal::Text("a@b.c".into()),
                Literal::Text("d'e@f.g".into())
            ]
        );
        assert_eq!(q.filters[2].operator, Operator::NotEquals);
        assert_eq!(q.filters[3].values, [Literal::Text("O\\_%".into())]);
        assert_eq!(q.order.len(), 2);
        assert!(q.order[0].nulls_last && !q.order[0].descending);
        assert_eq!((q.limit, q.offset), (Some(10), Some(2)));
    }

    #[test]
    fn refuses_what_is_not_supported_with_a_place() {
        for (query, message, at) in [
            ("", "unexpected end of query", 0),
            ("SELECT FROM User", "unexpected token: 'FROM'", 7),
            ("SELECT Id FRM User", "unexpected token: 'FRM'", 10),
            ("SELECT Id FROM", "expected an object", 14),
            (
                "SELECT COUNT() FROM User",
                "COUNT(): functions and aggregates are not supported by OpenECA",
                7,
            ),
            (
                "SELECT Profile.Name FROM User",
                "Profile.Name: relationship queries are not supported by OpenECA",
                7,
            ),
            (
                "SELECT Id FROM User WHERE A = 'x' OR B = 'y'",
                "OR is not supported by OpenECA: join conditions with AND",
                34,
            ),
            (
                "SELECT Id FROM User WHERE (A = 'x')",
                "parentheses and NOT are not supported by OpenECA: join conditions with AND",
                26,
            ),
            (
                "SELECT Id FROM User WHERE A > 1",
                "the operator > is not supported by OpenECA: use =, !=, IN or LIKE",
                28,
            ),
            (
                "SELECT Id FROM User WHERE CreatedDate = TODAY",
                "unexpected token: 'TODAY' (date literals and bind variables are not supported by OpenECA)",
                40,
            ),
            (
                "SELECT Id FROM User WHERE A = 'x",
                "unterminated string literal",
                30,
            ),
            (
                "SELECT Id FROM User LIMIT 99999999",
                "LIMIT must be a whole number from 0 to 50000",
                26,
            ),
            (
                "SELECT Id FROM User LIMIT 1 extra",
                "unexpected token: 'extra'",
                28,
            ),
            ("SELECT Id; FROM User", "unexpected token: ';'", 9),
        ] {
            let err = parse(query).unwrap_err();
            assert_eq!(
                (err.message.as_str(), err.at),
                (message, Some(at)),
                "{query}"
            );
        }
        let long = format!("SELECT Id FROM User WHERE Id = '{}'", "x".repeat(MAX_LEN));
        assert_eq!(parse(&long).unwrap_err().at, None);
    }

    #[test]
    fn errors_are_located_like_salesforce() {
        let q = "SELECT Id FROM ScratchOrgInfo limit 1";
        assert_eq!(
            located(
                q,
                Some(15),
                "sObject type 'ScratchOrgInfo' is not supported."
            ),
            "\nSELECT Id FROM ScratchOrgInfo limit 1\n               ^\nERROR at Row:1:Column:16\nsObject type 'ScratchOrgInfo' is not supported."
        );
        assert_eq!(
            located("SELECT Id\nFROM Nope", Some(15), "x"),
            "\nFROM Nope\n     ^\nERROR at Row:2:Column:6\nx"
        );
        assert_eq!(located(q, None, "plain"), "plain");
    }

    #[test]
    fn like_patterns() {
        assert!(like("Ops@Acme.example", "ops@%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("a_c", "a\\_c"));
        assert!(!like("abc", "a\\_c"));
        assert!(like("", "%"));
        assert!(like("100%", "100\\%"));
        assert!(!like(
            "x".repeat(500).as_str(),
            &"%x".repeat(200).replace('x', "y")
        ));
    }
}
