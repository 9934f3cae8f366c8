//! Amazon ECS and ECR: task definitions, their platform and the images they run; services and
//! repositories read live.

pub(crate) mod repository;
pub(crate) mod service;
pub mod taskdef;
