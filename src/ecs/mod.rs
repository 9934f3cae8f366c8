//! Amazon ECS: task definitions, their platform and the images they run.

pub mod taskdef;
