use std::process::ExitCode;

fn main() -> ExitCode {
    // A bug must still end in one sentence and exit 1, never a backtrace (SPEC §3).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: medforge hit an internal bug ({info}); please report it");
    }));
    provide_author_fallback();
    ExitCode::from(medforge::cli::main().code())
}

/// medforge's one `unsafe` (the workspace denies it, and the library forbids it): the
/// environment may only change while no other thread reads it, which holds here alone.
#[allow(unsafe_code)]
fn provide_author_fallback() {
    if let Some((name, value)) = medforge::render::author_fallback() {
        // SAFETY: called first thing in `main`, before any other thread starts.
        unsafe { std::env::set_var(name, value) };
    }
}
