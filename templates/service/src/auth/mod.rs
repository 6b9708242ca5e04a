//! Who is calling, and what they may do (NIST SP 800-63B; HIPAA 164.312(a)(1)):
//!
//! - [`password`]: the password rule and Argon2id hashing off the async workers;
//! - [`totp`]: the RFC 6238 second factor;
//! - [`throttle`]: login throttling per account and address;
//! - [`rate_limit`]: a limit on the authentication routes per address;
//! - [`session`]: session tokens, timeouts, and finding a request's session;
//! - [`caller`]: the [`Caller`] of a protected route: its scope, role check and audit;
//! - [`login`]: the login, TOTP and logout flows;
//! - [`roles`]: the roles and the access matrix;
//! - [`tokens`]: invitation and reset tokens, and recovery codes.

pub mod caller;
pub mod login;
pub mod password;
pub mod rate_limit;
pub mod roles;
pub mod session;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod totp;

pub use caller::Caller;
pub use roles::{Action, Resource, Role};
pub use session::CurrentUser;
