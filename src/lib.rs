//! motcua — one-stop-shop (*một cửa, một cửa liên thông*) case handling for Vietnamese
//! public administration.
//!
//! Layers, data flowing one way: [`http`] (actix) → [`app`] (use cases) → [`core`]
//! (pure rules) and [`store`] (the only place with diesel).

pub mod app;
pub mod backup;
pub mod clock;
pub mod config;
pub mod core;
pub mod error;
pub mod files;
pub mod forms;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod web;
