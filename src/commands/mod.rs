//! One module per command: each turns its arguments into a request for the domain code below it
//! (release, oci, ecs, pgp, catalog, input), and its report into text. Commands do not import each
//! other.

pub mod audit;
pub mod check_endpoints;
pub mod check_iam;
pub(crate) mod keys;
pub(crate) mod verify_bin;
pub(crate) mod verify_image;
pub(crate) mod verify_taskdef;

use crate::cli::{Command, KeysCommand, NetArgs, RegistryAuthArgs};
use crate::context::Context;
use crate::net::Http;
use crate::report::Reason;

/// Runs one command and returns its exit code.
pub fn run(command: Command, ctx: &Context) -> i32 {
    match command {
        Command::VerifyBin(a) => verify_bin::run(a, ctx),
        Command::VerifyImage(a) => verify_image::run(a, ctx),
        Command::VerifyTaskdef(a) => verify_taskdef::run(a, ctx),
        Command::Audit(a) => audit::run_command(a, ctx),
        Command::CheckIam(a) => check_iam::run_command(a, ctx),
        Command::CheckEndpoints(a) => check_endpoints::run_command(a, ctx),
        Command::Keys {
            command: KeysCommand::List { catalog },
        } => keys::run_command(catalog.as_deref(), ctx),
    }
}

/// What a registry command needs before it starts: the HTTP client and the `--password-stdin`
/// password (read when asked for), or why it cannot start.
fn registry_setup(
    ctx: &Context,
    net: &NetArgs,
    auth: &RegistryAuthArgs,
) -> Result<(Http, Option<String>), Reason> {
    let password = if auth.password_stdin {
        Some(read_password_stdin()?)
    } else {
        None
    };
    let http = ctx.http(net).map_err(|e| e.reason())?;
    Ok((http, password))
}

/// Reads the password for `--password-stdin`: all of stdin, without the trailing newline.
pub fn read_password_stdin() -> Result<String, Reason> {
    use std::io::Read;
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| Reason::usage(format!("cannot read the password from stdin: {e}")))?;
    let p = s.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        return Err(Reason::usage("--password-stdin: stdin was empty")
            .hint("pipe the password in, e.g. `aws ecr get-login-password | shipcheck verify-image ... --username AWS --password-stdin`"));
    }
    Ok(p)
}
