//! External Client App metadata, offline.
//!
//! Files are read in two layers (`STYLE.md`, "Parse, then validate"):
//!
//! 1. [`raw`]: each file becomes a [`raw::RawComponent`], an [`xml::Element`] tree that mirrors
//!    the XML exactly, every element and value with its line and column. Reading never fails on
//!    unknown elements; only unreadable or malformed files stop at this layer.
//! 2. [`validate`]: the generic checks driven by the WSDL tables in [`schema`], then the rules
//!    of each type and across files, turn raw components into the typed [`model`] and report
//!    *all* problems as [`Diagnostic`]s. Everything downstream takes only the model.
//!
//! [`project`] knows the SFDX layouts (source format, Metadata API format, zips),
//! `sfdx-project.json`, `.forceignore`, `package.xml` and destructive-change manifests.
//! The crate does no I/O except reading and writing project files.

pub mod catalog;
pub mod diagnostic;
pub mod formula;
pub mod model;
pub mod project;
pub mod raw;
pub mod schema;
pub mod suggest;
pub mod validate;
pub mod version;
pub mod xml;
pub mod xml_shape;

pub use catalog::MetadataType;
pub use diagnostic::{Code, Diagnostic, Severity};
pub use version::ApiVersion;
