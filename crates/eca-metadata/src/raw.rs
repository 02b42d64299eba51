//! The raw layer: one metadata file as read, before any validation.

use std::path::PathBuf;

use crate::catalog::MetadataType;
use crate::xml::{self, Document, Element, XmlError};

/// One component file, parsed into an element tree that mirrors the XML exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawComponent {
    pub ty: MetadataType,
    /// The component's API name: the file name without its suffix.
    pub full_name: String,
    /// Where the file is, relative to the project root.
    pub path: PathBuf,
    pub document: Document,
}

impl RawComponent {
    /// Parses a component from the bytes of its file.
    pub fn parse(
        ty: MetadataType,
        full_name: impl Into<String>,
        path: impl Into<PathBuf>,
        bytes: &[u8],
    ) -> Result<Self, XmlError> {
        Ok(Self {
            ty,
            full_name: full_name.into(),
            path: path.into(),
            document: xml::parse_bytes(bytes)?,
        })
    }

    pub fn root(&self) -> &Element {
        &self.document.root
    }
}
