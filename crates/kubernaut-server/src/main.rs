//! The `kubernaut-server` binary; all logic lives in the library.

fn main() -> std::process::ExitCode {
    kubernaut_server::main()
}
