use std::process::ExitCode;

fn main() -> ExitCode {
    // A bug must still end in one sentence and exit 1, never a backtrace (SPEC §3).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: medforge hit an internal bug ({info}); please report it");
    }));
    // SAFETY: nothing else runs yet.
    unsafe { medforge::render::provide_author_fallback() };
    ExitCode::from(medforge::cli::main().code())
}
