//! The service template and the guardrails are embedded in the binary with `include_dir!`,
//! which cannot tell cargo about the files it reads: ask cargo to rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=guardrails");
}
