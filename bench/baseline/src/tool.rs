//! How the benchmark's command-line tools run: one current-thread runtime,
//! and the exit status the scripts read.

use std::future::Future;
use std::process::ExitCode;

/// Runs `work` on a current-thread runtime. Exit 0 when it returns
/// `Ok(true)`, 1 on `Ok(false)` (it ran, but not everything was right),
/// 2 on an error (printed after `name`).
pub fn run(name: &str, work: impl Future<Output = anyhow::Result<bool>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::from(2)
        }
    }
}
