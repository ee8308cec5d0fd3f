//! Writing files so that an interrupted write never destroys what was there: the new
//! contents go to a temporary file in the same directory, are flushed to the disk, and then
//! take the old file's name in one rename, which a reader sees either before or after,
//! never half done. Killing a run, a full disk or an error halfway leaves the old file as
//! it was (and at worst a stray temporary file, named after the file with a leading dot
//! and the process id).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically: `path` ends up with either its old contents or all
/// of `bytes`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], with the contents written by `fill`; if `fill` fails, the
/// temporary file is removed and `path` is untouched.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    let tmp = temporary(path)?;
    let written = (|| {
        let mut file = File::create(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        // Best effort: the error to report is the write's, not the clean-up's.
        let _ = fs::remove_file(&tmp);
        Error::io(path, &e)
    })
}

/// Writes several files as one step, as far as a file system allows: each file's new
/// contents go to its temporary file and are flushed to the disk first, and only when all
/// of them are written do the renames follow, in order. An error while writing (a full
/// disk, a directory that cannot be written) leaves every file as it was and no temporary
/// file behind. Only a kill between two renames, microseconds apart, can replace some of
/// the files and not the others; a training run's record therefore also holds the
/// checksum of its weights (see [`crate::checkpoint::load_recorded`]).
pub fn write_atomic_all(files: &[(&Path, &[u8])]) -> Result<()> {
    let mut written: Vec<PathBuf> = Vec::new();
    let remove_all = |temporaries: &[PathBuf]| {
        for tmp in temporaries {
            // Best effort: the error to report is the write's.
            let _ = fs::remove_file(tmp);
        }
    };
    for (path, bytes) in files {
        let tmp = match temporary(path) {
            Ok(tmp) => tmp,
            Err(e) => {
                remove_all(&written);
                return Err(e);
            }
        };
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            remove_all(&written);
            return Err(Error::io(path, &e));
        }
        written.push(tmp);
    }
    for (i, (tmp, (path, _))) in written.iter().zip(files).enumerate() {
        if let Err(e) = fs::rename(tmp, path) {
            remove_all(&written[i..]);
            return Err(Error::io(path, &e));
        }
    }
    Ok(())
}

/// The temporary file for `path`: `.NAME.PID.tmp` in the same directory (a rename only
/// replaces a file atomically within one file system).
fn temporary(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::Invalid(format!("{}: not a file name to write", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    Ok(dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    )))
}
