//! The terminal prompts of `medforge add resource` (inquire, as `medforge new`), each
//! checked by the parser the flags go through, with the secure defaults preselected: PHI
//! for free text, the minimum-necessary roles. Ctrl-C or Esc stops with nothing written.

use std::collections::BTreeSet;

use inquire::validator::Validation;
use inquire::{Confirm, MultiSelect, Text};

use super::AddPrompter;
use super::spec::{Action, FieldFlag, Role, Roles, parse_role_set};
use crate::error::Result;
use crate::prompt::{Terminal, prompt_error, with_keys};

fn validation<T>(result: Result<T>) -> Validation {
    match result {
        Ok(_) => Validation::Valid,
        Err(e) => Validation::Invalid(e.to_string().into()),
    }
}

impl AddPrompter for Terminal {
    fn name(&mut self, check: &dyn Fn(&str) -> Result<()>) -> Result<String> {
        // inquire's validators must be 'static: check a copy of the rules afterwards too.
        let first = Text::new("Resource name")
            .with_help_message(
                "plural, lowercase, `_` between words: the table and the URL (e.g. prescriptions)",
            )
            .with_validator(|input: &str| Ok(validation(super::spec::validate_name(input.trim()))))
            .prompt()
            .map_err(prompt_error)?;
        let name = first.trim().to_owned();
        check(&name)?;
        Ok(name)
    }

    fn fields(&mut self) -> Result<Vec<FieldFlag>> {
        let mut fields: Vec<FieldFlag> = Vec::new();
        loop {
            let message = if fields.is_empty() {
                "Field (NAME:TYPE[:phi][:required])"
            } else {
                "Another field (empty to finish)"
            };
            let first = fields.is_empty();
            let answer = Text::new(message)
                .with_help_message(
                    "types: text, date, datetime, integer, decimal, boolean, code; \
                     e.g. medication:text:required",
                )
                .with_validator(move |input: &str| {
                    let input = input.trim();
                    if input.is_empty() {
                        return Ok(if first {
                            Validation::Invalid("a resource needs at least one field".into())
                        } else {
                            Validation::Valid
                        });
                    }
                    Ok(validation(FieldFlag::parse(input)))
                })
                .prompt()
                .map_err(prompt_error)?;
            let answer = answer.trim();
            if answer.is_empty() {
                return Ok(fields);
            }
            fields.push(FieldFlag::parse(answer)?);
        }
    }

    fn phi(&mut self, fields: &[String], defaults: &[bool]) -> Result<Vec<bool>> {
        let preselected: Vec<usize> = defaults
            .iter()
            .enumerate()
            .filter(|(_, phi)| **phi)
            .map(|(index, _)| index)
            .collect();
        let help = with_keys(
            MultiSelect::<&str>::DEFAULT_HELP_MESSAGE,
            "PHI fields are sealed with the clinic's key and marked x-phi; free text is PHI \
             unless you are sure it names no one",
        );
        let picked = MultiSelect::new(
            "Which fields hold PHI?",
            fields.iter().map(String::as_str).collect(),
        )
        .with_default(&preselected)
        .with_help_message(&help)
        .prompt()
        .map_err(prompt_error)?;
        Ok(fields
            .iter()
            .map(|field| picked.contains(&field.as_str()))
            .collect())
    }

    fn values(&mut self, field: &str) -> Result<Vec<String>> {
        let answer = Text::new(&format!("Values of `{field}`, separated by commas"))
            .with_help_message("lowercase, e.g. active,stopped")
            .with_validator(|input: &str| {
                Ok(if input.split(',').any(|v| !v.trim().is_empty()) {
                    Validation::Valid
                } else {
                    Validation::Invalid("give at least one value".into())
                })
            })
            .prompt()
            .map_err(prompt_error)?;
        Ok(answer
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect())
    }

    fn belongs_to_patient(&mut self, resource: &str) -> Result<bool> {
        Confirm::new(&format!("Is each of the {resource} about one patient?"))
            .with_default(true)
            .with_help_message(
                "then it names its patient and is hidden with a restricted patient, like \
                 encounters",
            )
            .prompt()
            .map_err(prompt_error)
    }

    fn roles(&mut self, resource: &str, defaults: &Roles) -> Result<Roles> {
        let keep = Confirm::new(&format!(
            "Roles for {resource}: {}?",
            defaults.to_flag().replace(',', ", ")
        ))
        .with_default(true)
        .with_help_message("the minimum necessary, as for notes; n to choose per action")
        .prompt()
        .map_err(prompt_error)?;
        if keep {
            return Ok(defaults.clone());
        }
        let mut roles = defaults.clone();
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        for action in Action::ALL {
            let current = defaults.of(action);
            let preselected: Vec<usize> = Role::ALL
                .iter()
                .enumerate()
                .filter(|(_, role)| current.contains(role))
                .map(|(index, _)| index)
                .collect();
            let help = with_keys(
                MultiSelect::<&str>::DEFAULT_HELP_MESSAGE,
                "admins run accounts and auditors the audit trail: give them patient records \
                 only if their work needs them",
            );
            let picked = MultiSelect::new(
                &format!("Who may {} {resource}?", action.name()),
                names.clone(),
            )
            .with_default(&preselected)
            .with_help_message(&help)
            .prompt()
            .map_err(prompt_error)?;
            let set: BTreeSet<Role> = parse_role_set(&picked.join("+"))?;
            roles.set(action, set);
        }
        eprintln!("  (the same as --roles {})", roles.to_flag());
        Ok(roles)
    }

    fn confirm(&mut self, summary: &str, dry_run: bool) -> Result<bool> {
        eprint!("\n{summary}");
        let question = if dry_run {
            "Show what it would change (nothing is written)?"
        } else {
            "Add it?"
        };
        Confirm::new(question)
            .with_default(true)
            .with_help_message("y to go on, n to stop; nothing is written before this")
            .prompt()
            .map_err(prompt_error)
    }
}
