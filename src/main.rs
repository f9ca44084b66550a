//! The `fleetsim` binary: parse, run, map the result to an exit code (0 ok, 1 "no", 2 error).
//! Nothing here prints with a macro that panics on a closed stream (see `fleetsim::out`).

fn main() {
    let code = match fleetsim::cli::parse().and_then(fleetsim::commands::execute) {
        Ok(code) => code,
        Err(e) => {
            fleetsim::out::error(&e);
            2
        }
    };
    std::process::exit(code);
}
