fn main() {
    std::process::exit(shipcheck::run(std::env::args_os()));
}
