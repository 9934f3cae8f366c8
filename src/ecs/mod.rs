//! Amazon ECS and ECR: task definitions, their platform and the images they run; services and
//! repositories read live.

pub mod repository;
pub mod service;
pub mod taskdef;
