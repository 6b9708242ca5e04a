//! `.medforge/answers.toml`: what a project was generated from (generator version, template
//! version, every answer), so `update` and `check` can work from the same answers later.

use std::path::Path;

use crate::answers::{Answers, RECORD_ANSWERS};
use crate::error::{Error, Result};

pub const RECORD_DIR: &str = ".medforge";
pub const RECORD_FILE: &str = "answers.toml";

const HEADER: &str = "\
# Written by medforge: the answers this project was generated with.
# `medforge update` and `medforge check` read it; change an answer with
# `medforge update --set KEY=VALUE` rather than by hand.
";

pub fn write(project: &Path, name: &str, template_version: &str, answers: &Answers) -> Result<()> {
    let mut medforge = toml::Table::new();
    medforge.insert(
        "generator_version".to_owned(),
        env!("CARGO_PKG_VERSION").into(),
    );
    medforge.insert("template_version".to_owned(), template_version.into());
    medforge.insert("project_name".to_owned(), name.into());
    let mut record = toml::Table::new();
    record.insert("medforge".to_owned(), toml::Value::Table(medforge));
    record.insert(
        RECORD_ANSWERS.to_owned(),
        toml::Value::Table(answers.to_toml()),
    );

    let dir = project.join(RECORD_DIR);
    std::fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    let path = dir.join(RECORD_FILE);
    let body = toml::to_string(&record).expect("a TOML table serializes");
    std::fs::write(&path, format!("{HEADER}\n{body}")).map_err(Error::io("cannot write", &path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_reads_back_as_an_answers_file() {
        let dir = tempfile::tempdir().unwrap();
        let answers = Answers::defaults();
        write(dir.path(), "demo", "0.1.0", &answers).unwrap();
        let path = dir.path().join(RECORD_DIR).join(RECORD_FILE);
        assert_eq!(Answers::from_file(&path).unwrap(), answers);
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("generator_version = \""), "{text}");
        assert!(text.contains("template_version = \"0.1.0\""), "{text}");
    }
}
