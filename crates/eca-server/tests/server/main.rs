//! The server, driven in-process: one integration test binary for the crate (`STYLE.md` §10).
//! Time moves only by `ManualClock`, so expiry and lockout are tested exactly.

mod authorize;
mod browser;
mod connect;
mod demo;
mod metadata;
mod nodes;
mod oauth;
mod ops;
mod people;
mod rest;
mod saml;
mod soap;
mod support;
mod web;
