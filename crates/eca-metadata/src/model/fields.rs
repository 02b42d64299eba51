//! Reading model values out of an element tree and writing them back.
//!
//! Reading is lenient and total: the schema checks have already reported every value that does
//! not parse, so here such a value is simply left out. Writing pushes an element only for a
//! value that is present; the canonical writer sorts the children.

use crate::schema::ComplexDef;
use crate::xml::{Element, Text};

use super::enums::ModelEnum;
use super::secret::Secret;

/// An `xsd:boolean` in its lexical forms (XML Schema Part 2 §3.2.2.1), case-sensitive.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// The trimmed text of the first child called `name`.
pub(super) fn text<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.child(name).map(|c| c.text.trimmed())
}

pub(super) fn get_str(el: &Element, name: &str) -> Option<String> {
    text(el, name).map(str::to_owned)
}

/// A required string: empty when missing (the schema check reported it).
pub(super) fn get_required(el: &Element, name: &str) -> String {
    get_str(el, name).unwrap_or_default()
}

pub(super) fn get_bool(el: &Element, name: &str) -> Option<bool> {
    text(el, name).and_then(parse_bool)
}

/// An `xsd:int`, held as `i64` so that arithmetic on it (minutes to seconds) cannot overflow.
pub(super) fn get_int(el: &Element, name: &str) -> Option<i64> {
    text(el, name)
        .and_then(|s| crate::schema::parse_int(s).ok())
        .map(i64::from)
}

pub(super) fn get_enum<T: ModelEnum>(el: &Element, name: &str) -> Option<T> {
    text(el, name).and_then(T::parse)
}

pub(super) fn get_secret(el: &Element, name: &str) -> Option<Secret> {
    text(el, name).map(Secret::new)
}

/// Every value of a repeated string element, in document order.
pub(super) fn get_strs(el: &Element, name: &str) -> Vec<String> {
    el.children_named(name)
        .map(|c| c.text.trimmed().to_owned())
        .collect()
}

/// Every occurrence of a repeated complex element, converted.
pub(super) fn get_list<T>(el: &Element, name: &str, read: impl Fn(&Element) -> T) -> Vec<T> {
    el.children_named(name).map(read).collect()
}

/// The first occurrence of a complex element, converted.
pub(super) fn get_node<T>(el: &Element, name: &str, read: impl Fn(&Element) -> T) -> Option<T> {
    el.child(name).map(read)
}

/// The children of `el` that `def` does not know, detached from their source positions and in
/// the order the writer puts them.
pub(super) fn extra(el: &Element, def: &ComplexDef) -> Vec<Element> {
    sorted(
        el.children
            .iter()
            .filter(|c| !def.fields.iter().any(|f| f.name == c.name))
            .map(detach)
            .collect(),
    )
}

/// Elements in the writer's order: by name, repeated elements keeping their relative order.
fn sorted(mut elements: Vec<Element>) -> Vec<Element> {
    elements.sort_by(|a, b| a.name.cmp(&b.name));
    elements
}

/// A copy of `el` as the writer sees it: no positions, no namespace, children in the writer's
/// order, and no text on an element with children (the writer drops it). Unknown elements are
/// kept in this form so that a model compares equal to the model of its own written file.
fn detach(el: &Element) -> Element {
    let text = if el.children.is_empty() {
        Text {
            raw: el.text.raw.clone(),
            span: Default::default(),
        }
    } else {
        Text::default()
    };
    Element {
        name: el.name.clone(),
        namespace: None,
        span: Default::default(),
        text,
        children: sorted(el.children.iter().map(detach).collect()),
    }
}

/// Splits a comma-separated list (profiles, permission sets, custom scopes) into its trimmed,
/// non-empty items.
pub(super) fn split_commas(value: Option<&str>) -> Vec<&str> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The children of an element being written.
#[derive(Debug, Default)]
pub(super) struct Out {
    children: Vec<Element>,
}

impl Out {
    pub(super) fn new() -> Self {
        Self::default()
    }

    pub(super) fn str(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.children.push(Element::leaf(name, v));
        }
    }

    /// A required string, left out when empty (it was missing when read).
    pub(super) fn required(&mut self, name: &str, value: &str) {
        if !value.is_empty() {
            self.children.push(Element::leaf(name, value));
        }
    }

    pub(super) fn bool(&mut self, name: &str, value: Option<bool>) {
        if let Some(v) = value {
            self.children
                .push(Element::leaf(name, if v { "true" } else { "false" }));
        }
    }

    pub(super) fn int(&mut self, name: &str, value: Option<i64>) {
        if let Some(v) = value {
            self.children.push(Element::leaf(name, v.to_string()));
        }
    }

    pub(super) fn enumeration<T: ModelEnum>(&mut self, name: &str, value: Option<T>) {
        if let Some(v) = value {
            self.children.push(Element::leaf(name, v.as_str()));
        }
    }

    pub(super) fn secret(&mut self, name: &str, value: Option<&Secret>) {
        if let Some(v) = value {
            self.children.push(Element::leaf(name, v.expose()));
        }
    }

    /// A repeated string element, one per value.
    pub(super) fn strs(&mut self, name: &str, values: &[String]) {
        for v in values {
            self.children.push(Element::leaf(name, v.as_str()));
        }
    }

    /// A complex element.
    pub(super) fn node(&mut self, name: &str, children: Vec<Element>) {
        self.children.push(Element::node(name, children));
    }

    /// A repeated complex element, one per item.
    pub(super) fn nodes<T>(&mut self, name: &str, items: &[T], write: impl Fn(&T) -> Vec<Element>) {
        for item in items {
            self.node(name, write(item));
        }
    }

    /// Elements the model does not know, written back as they were read.
    pub(super) fn extra(&mut self, extra: &[Element]) {
        self.children.extend(extra.iter().cloned());
    }

    pub(super) fn into_children(self) -> Vec<Element> {
        self.children
    }

    /// The root element of a component.
    pub(super) fn finish(self, root: &str) -> Element {
        Element::node(root, self.children)
    }
}
