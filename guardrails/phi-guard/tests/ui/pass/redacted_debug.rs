#![deny(warnings)]

use phi_guard::{OpaqueId, Phi, RedactedDebug};

/// A nested type with its own redacting `Debug`.
#[derive(RedactedDebug)]
struct Contact {
    phone: Phi<String>,
}

#[derive(RedactedDebug)]
struct Patient {
    id: OpaqueId,
    name: Phi<String>,
    previous_names: Vec<Phi<String>>,
    /// Not a `Phi` type, but PHI all the same: redacted on request.
    #[phi(redact)]
    free_text: String,
    contact: Contact,
}

#[derive(RedactedDebug)]
enum Event<T> {
    Admitted { patient: Phi<String>, ward: T },
    Discharged(OpaqueId, Phi<String>),
    Closed,
}

fn main() {
    let patient = Patient {
        id: OpaqueId::from_u128(1),
        name: Phi::new("Synthetic Person".into()),
        previous_names: vec![Phi::new("Synthetic Maiden".into())],
        free_text: "synthetic note".into(),
        contact: Contact { phone: Phi::new("+41 00 000 00 00".into()) },
    };
    assert_eq!(
        format!("{patient:?}"),
        "Patient { id: OpaqueId(00000000-0000-0000-0000-000000000001), name: [PHI redacted], \
         previous_names: [PHI redacted], free_text: [PHI redacted], \
         contact: Contact { phone: [PHI redacted] } }"
    );

    let admitted = Event::Admitted { patient: Phi::new("Synthetic Person".into()), ward: 3u8 };
    assert_eq!(format!("{admitted:?}"), "Admitted { patient: [PHI redacted], ward: 3 }");
    let discharged: Event<u8> = Event::Discharged(OpaqueId::from_u128(2), Phi::new("x".into()));
    assert_eq!(
        format!("{discharged:?}"),
        "Discharged(OpaqueId(00000000-0000-0000-0000-000000000002), [PHI redacted])"
    );
    assert_eq!(format!("{:?}", Event::<u8>::Closed), "Closed");
}
