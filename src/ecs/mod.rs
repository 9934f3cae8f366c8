//! Amazon ECS: task definitions, their platform and the images they run; services read live.

pub mod service;
pub mod taskdef;
