//! SOAP endpoints. Only the partner API's `login` and `logout` live here for now; the Metadata
//! API (`/services/Soap/m`) is another issue's.

pub mod envelope;
pub mod partner;
pub mod xml;
