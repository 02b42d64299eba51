//! What every part of the OpenECA server shares and none of them owns: Salesforce record ids
//! (with the 15→18 character checksum), time and randomness passed in as values (so tests
//! control expiry and ids exactly), secrets that never print, password hashing, hashing of
//! bearer tokens, and encryption of consumer secrets at rest.
//!
//! No I/O, no HTTP, no SQL.

pub mod crypto;
pub mod domain;
pub mod ids;
pub mod net;
pub mod rng;
pub mod secret;
pub mod time;

pub use ids::{IdError, LoginIpRangeId, OrgId, PermissionSetId, ProfileId, UserId};
pub use rng::{Rng, SystemRng};
pub use secret::Secret;
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
