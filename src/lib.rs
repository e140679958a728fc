//! motcua — one-stop-shop (*một cửa, một cửa liên thông*) case handling for Vietnamese
//! public administration.
//!
//! Layers, data flowing one way: [`http`] (actix) → [`app`] (use cases) → [`core`]
//! (pure rules) and [`store`] (the only place with diesel).

pub mod app;
pub mod config;
pub mod core;
pub mod http;
pub mod store;
pub mod telemetry;
