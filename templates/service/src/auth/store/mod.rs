//! The tables of the accounts and their sign-in: users, sessions, recovery codes and
//! account tokens (invitations, password resets). They are the authentication's own
//! records, kept here beneath it so that it reads them without reaching up into
//! `crate::models`, whose clinical records name the roles and resources of this module
//! (one-way imports: models, then auth, then the storage beneath both).

pub mod account_token;
pub mod recovery_code;
pub mod session;
pub mod user;
