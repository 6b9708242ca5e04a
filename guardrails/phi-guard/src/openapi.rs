//! `Phi<T>` in OpenAPI documents (the `utoipa` feature): described as `T`, marked
//! `"x-phi": true`, so a client or a reviewer reading the document sees which fields hold
//! PHI, and the mark comes from the type rather than from an attribute beside each field.
//!
//! A field declares its schema by its type: `#[schema(schema_with = Phi::<String>::schema)]`
//! (utoipa's derive takes a generic field type's schema only from its own attributes).
//! utoipa knows the chrono types only inside its derive (they implement no
//! `PartialSchema`), so a `Phi` of a date or a moment names [`date`], [`optional_date`],
//! [`date_time`] or [`optional_date_time`] instead: the mark still comes from here, never
//! from an attribute written beside the field.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{
    AllOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::{PartialSchema, ToSchema};

use crate::Phi;

/// `T`'s schema, marked as PHI. A nullable `T` (utoipa describes `Option<T>` as one of
/// `null` and `T`) is written as utoipa's derive writes an `Option` field: `T`'s schema
/// with `null` among its types.
impl<T: PartialSchema> PartialSchema for Phi<T> {
    fn schema() -> RefOr<Schema> {
        marked(nullable_as_type(T::schema()))
    }
}

/// Named and referencing as `T`: a `Phi<T>` adds no schema of its own to a document.
impl<T: ToSchema> ToSchema for Phi<T> {
    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(schemas);
    }
}

/// A `Phi<NaiveDate>`: a date (`"format": "date"`), marked as PHI.
pub fn date() -> RefOr<Schema> {
    marked(text_of(KnownFormat::Date, false))
}

/// A `Phi<Option<NaiveDate>>`: a date or `null`, marked as PHI.
pub fn optional_date() -> RefOr<Schema> {
    marked(text_of(KnownFormat::Date, true))
}

/// A `Phi<DateTime<Utc>>`: an RFC 3339 moment (`"format": "date-time"`), marked as PHI.
pub fn date_time() -> RefOr<Schema> {
    marked(text_of(KnownFormat::DateTime, false))
}

/// A `Phi<Option<DateTime<Utc>>>`: a moment or `null`, marked as PHI.
pub fn optional_date_time() -> RefOr<Schema> {
    marked(text_of(KnownFormat::DateTime, true))
}

/// `schema` with `description`: utoipa's derive writes no doc comment beside
/// `schema_with`, so a field that needs one says it through its schema function.
pub fn described(schema: RefOr<Schema>, description: &str) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.description = Some(description.to_owned());
            RefOr::T(Schema::Object(object))
        }
        RefOr::T(Schema::AllOf(mut all_of)) => {
            all_of.description = Some(description.to_owned());
            RefOr::T(Schema::AllOf(all_of))
        }
        other => other,
    }
}

/// A string of `format`, as utoipa's derive describes the chrono types, optionally `null`.
fn text_of(format: KnownFormat, nullable: bool) -> Schema {
    let kinds: SchemaType = if nullable {
        [Type::String, Type::Null].into_iter().collect()
    } else {
        Type::String.into()
    };
    ObjectBuilder::new()
        .schema_type(kinds)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .into()
}

/// `schema`, marked as PHI (`"x-phi": true`). A reference cannot carry the mark itself, so
/// it is wrapped (`allOf`).
pub fn marked(schema: impl Into<RefOr<Schema>>) -> RefOr<Schema> {
    let mut schema = schema.into();
    let extensions = match &mut schema {
        RefOr::T(Schema::Object(object)) => Some(&mut object.extensions),
        RefOr::T(Schema::Array(array)) => Some(&mut array.extensions),
        RefOr::T(Schema::OneOf(one_of)) => Some(&mut one_of.extensions),
        RefOr::T(Schema::AnyOf(any_of)) => Some(&mut any_of.extensions),
        RefOr::T(Schema::AllOf(all_of)) => Some(&mut all_of.extensions),
        _ => None,
    };
    if let Some(extensions) = extensions {
        extensions
            .get_or_insert_with(Extensions::default)
            .insert("x-phi".to_owned(), true.into());
        return schema;
    }
    AllOfBuilder::new()
        .item(schema)
        .extensions(Some([("x-phi", true)].into_iter().collect()))
        .into()
}

/// `oneOf: [{type: null}, {type: T, ...}]` as `{type: [T, null], ...}`; anything else as
/// it is.
fn nullable_as_type(schema: RefOr<Schema>) -> RefOr<Schema> {
    let RefOr::T(Schema::OneOf(one_of)) = &schema else {
        return schema;
    };
    let [
        RefOr::T(Schema::Object(null)),
        RefOr::T(Schema::Object(value)),
    ] = one_of.items.as_slice()
    else {
        return schema;
    };
    let (SchemaType::Type(Type::Null), SchemaType::Type(kind)) =
        (&null.schema_type, &value.schema_type)
    else {
        return schema;
    };
    let mut value = value.clone();
    value.schema_type = [kind.clone(), Type::Null].into_iter().collect();
    RefOr::T(Schema::Object(value))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use utoipa::openapi::schema::{ObjectBuilder, Ref};

    use super::*;

    fn json_of<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    /// A type documented by reference, as a derived enum is where it is used.
    struct Referenced;

    impl PartialSchema for Referenced {
        fn schema() -> RefOr<Schema> {
            RefOr::Ref(Ref::from_schema_name("Referenced"))
        }
    }

    impl ToSchema for Referenced {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("Referenced")
        }

        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push(("Inner".to_owned(), ObjectBuilder::new().into()));
        }
    }

    #[test]
    fn a_phi_field_is_described_as_its_value_marked_as_phi() {
        assert_eq!(
            json_of::<Phi<String>>(),
            json!({ "type": "string", "x-phi": true })
        );
        assert_eq!(
            json_of::<Phi<Option<String>>>(),
            json!({ "type": ["string", "null"], "x-phi": true })
        );
        assert_eq!(
            json_of::<Phi<Vec<u8>>>(),
            json!({
                "type": "array",
                "items": { "type": "integer", "format": "int32", "minimum": 0 },
                "x-phi": true
            })
        );
    }

    #[test]
    fn dates_and_moments_are_described_as_utoipa_describes_chrono_types_marked_as_phi() {
        let json = |schema: RefOr<Schema>| serde_json::to_value(schema).unwrap();
        assert_eq!(
            json(date()),
            json!({ "type": "string", "format": "date", "x-phi": true })
        );
        assert_eq!(
            json(optional_date()),
            json!({ "type": ["string", "null"], "format": "date", "x-phi": true })
        );
        assert_eq!(
            json(date_time()),
            json!({ "type": "string", "format": "date-time", "x-phi": true })
        );
        assert_eq!(
            json(optional_date_time()),
            json!({ "type": ["string", "null"], "format": "date-time", "x-phi": true })
        );
    }

    #[test]
    fn a_described_schema_keeps_its_mark() {
        let schema = described(Phi::<String>::schema(), "A synthetic field.");
        assert_eq!(
            serde_json::to_value(schema).unwrap(),
            json!({ "type": "string", "description": "A synthetic field.", "x-phi": true })
        );
    }

    #[test]
    fn a_reference_is_wrapped_to_carry_the_mark() {
        assert_eq!(
            json_of::<Phi<Referenced>>(),
            json!({ "allOf": [{ "$ref": "#/components/schemas/Referenced" }], "x-phi": true })
        );
    }

    #[test]
    fn phi_adds_no_schema_of_its_own() {
        assert_eq!(Phi::<Referenced>::name(), "Referenced");
        let mut schemas = Vec::new();
        Phi::<Referenced>::schemas(&mut schemas);
        assert_eq!(schemas.len(), 1);
        assert_eq!(schemas[0].0, "Inner");
    }
}
