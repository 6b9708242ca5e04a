//! The guided terminal prompts of `medforge new`, one per option, derived from the option
//! table, and a summary to confirm before anything is written. Every answer is checked by
//! the same parser `--set` uses. Ctrl-C or Esc stops at once, with nothing written (exit
//! 130).
//!
//! inquire 0.9.4 has no Ctrl-U (clear the line) in its text prompts: it types a `u`.
//! Ctrl-W (delete a word) is missing too; Backspace, Home/End and Ctrl-Delete work.

use inquire::error::InquireError;
use inquire::validator::Validation;
use inquire::{Confirm, CustomType, MultiSelect, Select, Text};

use crate::answers::{Origin, Value};
use crate::error::{Error, Result};
use crate::generate::{NameCheck, Prompter};
use crate::options::{Kind, OptionSpec};

/// Prompts on the terminal (inquire draws on stderr, so `--json` stdout stays clean).
pub struct Terminal;

/// The option's help, after inquire's own key hints (`keys`): replacing inquire's help
/// message would hide how to pick, and "space to select" is not guessable.
pub(crate) fn with_keys(keys: Option<&str>, help: &str) -> String {
    match keys {
        Some(keys) => format!("{keys}. {help}"),
        None => help.to_owned(),
    }
}

impl Prompter for Terminal {
    fn project_name(&mut self, check: NameCheck) -> Result<String> {
        Text::new("Project name")
            .with_help_message("lowercase letters, digits, - and _; becomes the crate name")
            .with_validator(move |input: &str| {
                Ok(match check.check(input.trim()) {
                    Ok(()) => Validation::Valid,
                    Err(e) => Validation::Invalid(e.to_string().into()),
                })
            })
            .prompt()
            .map(|name| name.trim().to_owned())
            .map_err(prompt_error)
    }

    fn confirm(&mut self, summary: &str, dry_run: bool) -> Result<bool> {
        eprint!("\n{summary}");
        let question = if dry_run {
            "Show the files it would write (nothing is written)?"
        } else {
            "Create it?"
        };
        Confirm::new(question)
            .with_default(true)
            .with_help_message("y to go on, n to stop; nothing is written before this")
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
                let help = with_keys(Select::<&str>::DEFAULT_HELP_MESSAGE, spec.help);
                Select::new(message, choices.to_vec())
                    .with_help_message(&help)
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
                let help = with_keys(MultiSelect::<&str>::DEFAULT_HELP_MESSAGE, spec.help);
                MultiSelect::new(message, choices.to_vec())
                    .with_help_message(&help)
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

pub(crate) fn prompt_error(error: InquireError) -> Error {
    match error {
        InquireError::OperationCanceled | InquireError::OperationInterrupted => Error::Cancelled,
        other => Error::Prompt(other.to_string()),
    }
}
