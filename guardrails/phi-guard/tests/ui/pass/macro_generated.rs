#![deny(warnings)]

// The derives must work on types written by a `macro_rules!` macro (whose tokens carry their
// own hygiene) and on raw-identifier fields.

use phi_guard::{OpaqueId, Phi, PhiJson, PhiResponse, RedactedDebug, UrlSafe};

macro_rules! resource {
    ($name:ident, $query:ident) => {
        #[derive(PhiResponse, RedactedDebug)]
        struct $name {
            id: OpaqueId,
            r#type: Phi<String>,
            state: u8,
            token: Option<u32>,
        }

        #[derive(UrlSafe)]
        struct $query {
            page: u32,
        }
    };
}

resource!(Observation, ObservationQuery);

fn main() {
    let observation = Observation {
        id: OpaqueId::from_u128(3),
        r#type: Phi::new("synthetic blood pressure".into()),
        state: 1,
        token: None,
    };
    assert_eq!(
        format!("{observation:?}"),
        "Observation { id: OpaqueId(00000000-0000-0000-0000-000000000003), \
         type: [PHI redacted], state: 1, token: None }"
    );
    let _ = ObservationQuery { page: 1 }.page;
    let _ = PhiJson(observation);
}
