//! The guided terminal prompts of `medforge new`, one per option, derived from the option
//! table. Every answer is checked by the same parser `--set` uses.

use inquire::error::InquireError;
use inquire::validator::Validation;
use inquire::{CustomType, MultiSelect, Select, Text};

use crate::answers::{Origin, Value};
use crate::error::{Error, Result};
use crate::generate::{Prompter, validate_name};
use crate::options::{Kind, OptionSpec};

/// Prompts on the terminal (inquire draws on stderr, so `--json` stdout stays clean).
pub struct Terminal;

impl Prompter for Terminal {
    fn project_name(&mut self) -> Result<String> {
        Text::new("Project name")
            .with_help_message("lowercase letters, digits, - and _; becomes the crate name")
            .with_validator(|input: &str| {
                Ok(match validate_name(input) {
                    Ok(()) => Validation::Valid,
                    Err(e) => Validation::Invalid(e.to_string().into()),
                })
            })
            .prompt()
            .map_err(prompt_error)
    }

    fn option(&mut self, spec: &'static OptionSpec, default: Value) -> Result<Value> {
        let message = spec.prompt;
        let raw = match spec.kind {
            Kind::Choice { choices } => {
                let cursor = choices
                    .iter()
                    .position(|c| Value::Str((*c).to_owned()) == default)
                    .unwrap_or(0);
                Select::new(message, choices.to_vec())
                    .with_help_message(spec.help)
                    .with_starting_cursor(cursor)
                    .prompt()
                    .map(str::to_owned)
            }
            Kind::MultiChoice { choices, .. } => {
                let selected: Vec<usize> = match &default {
                    Value::List(items) => choices
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| items.iter().any(|i| i == *c))
                        .map(|(index, _)| index)
                        .collect(),
                    _ => Vec::new(),
                };
                MultiSelect::new(message, choices.to_vec())
                    .with_help_message(spec.help)
                    .with_default(&selected)
                    .with_validator(move |picked: &[inquire::list_option::ListOption<&&str>]| {
                        let text = picked
                            .iter()
                            .map(|o| *o.value)
                            .collect::<Vec<_>>()
                            .join(",");
                        Ok(validation(spec, &text))
                    })
                    .prompt()
                    .map(|picked| picked.join(","))
            }
            Kind::Integer { .. } => {
                let Value::Int(default) = default else {
                    unreachable!("integer options have integer defaults")
                };
                CustomType::<u32>::new(message)
                    .with_default(default)
                    .with_help_message(spec.help)
                    .with_error_message("type a whole number")
                    .with_validator(move |n: &u32| Ok(validation(spec, &n.to_string())))
                    .prompt()
                    .map(|n| n.to_string())
            }
            Kind::Text { .. } => {
                let default = default.to_flag_text();
                Text::new(message)
                    .with_default(&default)
                    .with_help_message(spec.help)
                    .with_validator(move |input: &str| Ok(validation(spec, input)))
                    .prompt()
            }
        }
        .map_err(prompt_error)?;
        Value::parse(spec, &raw, Origin::Prompt)
    }
}

fn validation(spec: &OptionSpec, text: &str) -> Validation {
    match Value::parse(spec, text, Origin::Prompt) {
        Ok(_) => Validation::Valid,
        Err(e) => Validation::Invalid(e.to_string().into()),
    }
}

fn prompt_error(error: InquireError) -> Error {
    match error {
        InquireError::OperationCanceled | InquireError::OperationInterrupted => Error::Cancelled,
        other => Error::Prompt(other.to_string()),
    }
}
