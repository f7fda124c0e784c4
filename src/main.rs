//! The `bmcwall` binary: command line to exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(bmcwall::cli::run(std::env::args_os()).code())
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
