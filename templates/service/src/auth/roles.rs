//! Roles and the access matrix (README.md, "API"): the first of the two authorization layers; row-level
//! security in PostgreSQL is the second. HIPAA 164.312(a)(1) access control; 164.502(b)
//! minimum necessary.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::AuditAction;
use crate::policy::{MFA, Mfa};

/// Whether auditors need a TOTP code too (the `mfa` answer: `totp` asks it of the
/// clinical roles, `totp-all` of every account).
pub const MFA_FOR_EVERY_ROLE: bool = matches!(MFA, Mfa::TotpAll);

/// What an account may do is decided by its role alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the clinic's accounts and deletes records; reads no PHI.
    Admin,
    /// Treats patients: reads and writes their records, the only role that reads notes.
    Clinician,
    /// Front desk: patients' details and scheduling.
    Staff,
    /// Reviews the audit trail; reads no patient records.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Clinician, Role::Staff, Role::Auditor];

    /// The name stored in `users.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clinician => "clinician",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
        }
    }

    /// Whether a session of this role needs a TOTP code before it opens any route: every
    /// role that may read any PHI field (break-glass reasons included), and the admin, who
    /// runs the clinic's accounts, under every `mfa` answer; `totp-all` asks it of every
    /// role there is (HIPAA 164.312(d); NIST SP 800-63B AAL2 for PHI).
    pub fn requires_mfa(self) -> bool {
        MFA_FOR_EVERY_ROLE || self == Role::Admin || self.reads_phi()
    }

    /// Whether this role may read a resource that holds PHI.
    pub fn reads_phi(self) -> bool {
        Resource::HOLDING_PHI
            .iter()
            .any(|&resource| self.may(Action::Read, resource))
    }

    /// Whether this role may do `action` on `resource`.
    pub fn may(self, action: Action, resource: Resource) -> bool {
        use Action::*;
        use Resource::*;
        use Role::*;
        match (resource, action) {
            // The audit trail is read by auditors and written by the service alone
            // (HIPAA 164.312(b)).
            (AuditTrail, Read) => self == Auditor,
            (AuditTrail, _) => false,
            // Break-glass (HIPAA 164.312(a)(2)(ii)): who sees a restricted patient
            // is a clinical decision; breaking the glass is a clinician's, reviewing it an
            // auditor's; neither is ever deleted.
            (Restrictions, Read | Create | Update) => self == Clinician,
            (EmergencyAccess, Create) => self == Clinician,
            (EmergencyAccess, Read | Update) => self == Auditor,
            (Restrictions | EmergencyAccess, Delete) => false,
            // The clinic's accounts are run by its admins (HIPAA 164.308(a)(4) access
            // authorization); every account runs its own password, codes and sessions.
            (Accounts, _) => self == Admin,
            (OwnAccount, _) => true,
            // The resources added with `medforge add resource` (its `--roles`), which
            // writes between these lines.
            // medforge:resource-access:start
            // medforge:resource-access:end
            // Only admins delete (a soft delete, kept for the retention rules).
            (_, Delete) => self == Admin,
            // Notes are clinician-only: the minimum necessary.
            (Notes, Read | Create | Update) => self == Clinician,
            (Patients | Encounters | Appointments, Read | Create) => {
                matches!(self, Clinician | Staff)
            }
            // Front-desk staff move appointments; clinical records change by clinicians.
            (Appointments, Update) => matches!(self, Clinician | Staff),
            (Patients | Encounters, Update) => self == Clinician,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or(UnknownRole)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of admin, clinician, staff, auditor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a role: expected admin, clinician, staff or auditor")]
pub struct UnknownRole;

/// What a request does to a resource. Searching is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

/// What the access matrix covers: the kinds of PHI record, and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Patients,
    Encounters,
    Appointments,
    Notes,
    AuditTrail,
    /// Restricted patients and their care teams.
    Restrictions,
    /// Break-glass grants.
    EmergencyAccess,
    /// The clinic's accounts: invitations, roles, resets, other accounts' sessions.
    Accounts,
    /// The caller's own account: password, recovery codes, sessions.
    OwnAccount,
    // medforge:resource-variants:start
    // medforge:resource-variants:end
}

impl Resource {
    /// The resources whose records hold PHI: the clinical records, and break-glass grants,
    /// whose reasons describe a patient's situation.
    pub const HOLDING_PHI: &[Resource] = &[
        Resource::Patients,
        Resource::Encounters,
        Resource::Appointments,
        Resource::Notes,
        Resource::EmergencyAccess,
        // medforge:resource-phi:start
        // medforge:resource-phi:end
    ];

    /// The table its records live in: the audit trail's `resource_type`.
    pub fn table(self) -> &'static str {
        match self {
            Resource::Patients => "patients",
            Resource::Encounters => "encounters",
            Resource::Appointments => "appointments",
            Resource::Notes => "notes",
            Resource::AuditTrail => "audit_events",
            Resource::Restrictions => "patient_restrictions",
            Resource::EmergencyAccess => "emergency_access",
            Resource::Accounts | Resource::OwnAccount => "users",
            // medforge:resource-tables:start
            // medforge:resource-tables:end
        }
    }
}

impl From<Action> for AuditAction {
    /// The audit trail's name of an action on a resource.
    fn from(action: Action) -> Self {
        match action {
            Action::Read => Self::Read,
            Action::Create => Self::Create,
            Action::Update => Self::Update,
            Action::Delete => Self::Delete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Resource::*;
    use Role::*;

    #[test]
    fn matrix_matches_the_spec() {
        let may = |role: Role, action, resource| role.may(action, resource);
        for resource in [Patients, Encounters, Appointments, Notes] {
            assert!(may(Admin, Delete, resource));
            for role in [Clinician, Staff, Auditor] {
                assert!(!may(role, Delete, resource), "{role} deletes {resource:?}");
            }
            for action in [Read, Create, Update] {
                assert!(
                    !may(Admin, action, resource),
                    "admin {action:?} {resource:?}"
                );
                assert!(
                    !may(Auditor, action, resource),
                    "auditor {action:?} {resource:?}"
                );
                assert!(may(Clinician, action, resource));
            }
        }
        assert!(may(Staff, Read, Patients) && may(Staff, Create, Patients));
        assert!(!may(Staff, Update, Patients));
        assert!(may(Staff, Update, Appointments));
        for action in [Read, Create, Update] {
            assert!(!may(Staff, action, Notes), "staff {action:?} notes");
        }
        for role in Role::ALL {
            assert_eq!(may(role, Read, AuditTrail), role == Auditor);
            for action in [Create, Update, Delete] {
                assert!(!may(role, action, AuditTrail), "{role} {action:?} audit");
            }
        }
    }

    #[test]
    fn only_clinicians_break_the_glass_and_only_auditors_review_it() {
        for role in Role::ALL {
            assert_eq!(may(role, Create, EmergencyAccess), role == Clinician);
            assert_eq!(may(role, Update, Restrictions), role == Clinician);
            for action in [Read, Update] {
                assert_eq!(may(role, action, EmergencyAccess), role == Auditor);
            }
            for resource in [EmergencyAccess, Restrictions] {
                assert!(!may(role, Delete, resource), "{role} deletes {resource:?}");
            }
        }
    }

    fn may(role: Role, action: Action, resource: Resource) -> bool {
        role.may(action, resource)
    }

    #[test]
    fn only_admins_run_the_clinics_accounts_and_everyone_their_own() {
        for role in Role::ALL {
            for action in [Read, Create, Update, Delete] {
                assert_eq!(
                    may(role, action, Accounts),
                    role == Admin,
                    "{role} {action:?}"
                );
                assert!(
                    may(role, action, OwnAccount),
                    "{role} {action:?} own account"
                );
            }
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("root".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn every_role_that_reads_phi_needs_mfa_under_every_answer() {
        for role in Role::ALL {
            if role.reads_phi() {
                assert!(
                    role.requires_mfa(),
                    "{role} reads PHI without a second factor"
                );
            }
        }
        // Auditors read break-glass reasons, which are PHI.
        assert!(Auditor.reads_phi() && Auditor.requires_mfa());
        assert!(Admin.requires_mfa());
    }
}
