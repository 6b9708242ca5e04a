//! The file operations every command shares: listing a tree, reading a file that may be
//! absent, replacing a file atomically, and the temporary directories work is staged in.
//! Every I/O error carries what medforge was doing and where.

use std::path::Path;

use tempfile::TempDir;

use crate::error::{Error, Result};

/// Every file under `root`, relative and sorted, with `/` separators.
pub fn list_files(root: &Path) -> Result<Vec<String>> {
    list_files_except(root, &|_| false)
}

/// Every file under `root` like [`list_files`], without descending into the directories
/// `skip` says so of (it is given each directory's path relative to `root`).
pub fn list_files_except(root: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<Vec<String>> {
    fn walk(
        root: &Path,
        dir: &Path,
        skip: &dyn Fn(&Path) -> bool,
        out: &mut Vec<String>,
    ) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(Error::io("cannot read", dir))? {
            let entry = entry.map_err(Error::io("cannot read", dir))?;
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap_or(&path);
            if entry
                .file_type()
                .map_err(Error::io("cannot inspect", &path))?
                .is_dir()
            {
                if !skip(relative) {
                    walk(root, &path, skip, out)?;
                }
            } else {
                let parts: Vec<_> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, root, skip, &mut files)?;
    files.sort();
    Ok(files)
}

/// The files under `root/dir` as paths relative to `root` (`dir/...`), sorted; none when
/// `dir` is absent.
pub fn list_files_under(root: &Path, dir: &str) -> Result<Vec<String>> {
    let path = root.join(dir);
    if !path.is_dir() {
        return Ok(Vec::new());
    }
    Ok(list_files(&path)?
        .into_iter()
        .map(|file| format!("{dir}/{file}"))
        .collect())
}

/// The file's content, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(content) => Ok(Some(content)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read", path)(e)),
    }
}

/// The file's text (invalid UTF-8 replaced), or `None` when it does not exist.
pub fn read_optional_text(path: &Path) -> Result<Option<String>> {
    Ok(read_optional(path)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Writes `contents` to `path` directly: for trees being staged, which nobody reads yet.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    std::fs::write(path, contents).map_err(Error::io("cannot write", path))
}

/// Creates the directory `path` is in, and its parents.
pub fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(Error::io("cannot create", dir)),
        None => Ok(()),
    }
}

/// Replaces `path` with `contents` through a temporary file beside it and a rename, so a
/// reader (or a crash) sees the old file or the new one, never half of one.
pub fn write_atomic(
    path: &Path,
    contents: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".medforge-write-")
        .tempfile_in(dir)
        .map_err(Error::io("cannot write in", dir))?;
    file.write_all(contents)
        .map_err(Error::io("cannot write", file.path().to_owned()))?;
    // A temporary file starts private (0600): give it the old file's mode, or a plain
    // file's.
    let permissions = permissions
        .or_else(|| std::fs::metadata(path).ok().map(|m| m.permissions()))
        .or_else(default_permissions);
    if let Some(permissions) = permissions {
        std::fs::set_permissions(file.path(), permissions)
            .map_err(Error::io("cannot set permissions of", path))?;
    }
    file.persist(path)
        .map_err(|e| Error::io("cannot write", path)(e.error))?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

/// A scratch directory in the system's temporary directory, removed when dropped: for
/// work nobody sees (an extracted template, a reference render).
pub fn scratch_dir(prefix: &str) -> Result<TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(Error::io(
            "cannot create a temporary directory in",
            std::env::temp_dir(),
        ))
}

/// A staging directory in `parent`, removed when dropped unless its content was moved
/// out. Staging beside the target keeps the final move a rename on one filesystem, so
/// nothing is ever half written; a `parent` medforge cannot write to is the user's to fix.
pub fn staging_dir(prefix: &str, parent: &Path) -> Result<TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(parent)
        .map_err(|source| Error::Unwritable {
            path: parent.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_listed_relative_sorted_and_without_skipped_folders() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["b.txt", "a/z.txt", "a/b/c.txt", "target/x"] {
            let path = dir.path().join(file);
            create_parent(&path).unwrap();
            write_file(&path, b"x").unwrap();
        }
        assert_eq!(
            list_files(dir.path()).unwrap(),
            ["a/b/c.txt", "a/z.txt", "b.txt", "target/x"]
        );
        let skip = |dir: &Path| dir == Path::new("target");
        assert_eq!(
            list_files_except(dir.path(), &skip).unwrap(),
            ["a/b/c.txt", "a/z.txt", "b.txt"]
        );
        assert_eq!(
            list_files_under(dir.path(), "a").unwrap(),
            ["a/b/c.txt", "a/z.txt"]
        );
        assert!(list_files_under(dir.path(), "absent").unwrap().is_empty());
    }

    #[test]
    fn an_absent_file_reads_as_none_and_atomic_writes_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        assert_eq!(read_optional(&path).unwrap(), None);
        write_atomic(&path, b"one", None).unwrap();
        write_atomic(&path, b"two", None).unwrap();
        assert_eq!(read_optional_text(&path).unwrap().as_deref(), Some("two"));
        assert_eq!(list_files(dir.path()).unwrap(), ["f.txt"]);
    }

    #[test]
    fn an_unwritable_staging_parent_is_the_users_to_fix() {
        let missing = Path::new("/nonexistent/medforge-staging");
        assert!(matches!(
            staging_dir(".medforge-new-", missing),
            Err(Error::Unwritable { .. })
        ));
    }
}
