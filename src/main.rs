fn main() {
    // Sequoia's parser builds anyhow errors as it probes its input (armored or binary, each packet
    // header); with RUST_BACKTRACE=1, which many CI shells set, each of them captures a backtrace
    // that shipcheck never shows (6% of a small verify-bin's instructions). Library backtraces are
    // off unless asked for; a panic still prints its backtrace under RUST_BACKTRACE. Set before
    // any thread starts.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    std::process::exit(shipcheck::run(std::env::args_os()));
}
