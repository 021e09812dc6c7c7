//! The `kubernaut` command; all logic lives in the library.

fn main() -> std::process::ExitCode {
    kubernaut_cli::main()
}
