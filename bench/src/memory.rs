//! Memory readings: this process's resident set, and the peak of a child process.

use crate::error::{BenchError, Result};

/// This process's resident set size in bytes (`VmRSS` of `/proc/self/status`), where the
/// system tells (Linux).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    kib_field(&status, "VmRSS:").map(|kib| kib * 1024)
}

fn kib_field(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Runs `command` to its end and returns its peak resident set size in bytes (`VmHWM`, read
/// every millisecond while it runs), failing if it does not exit successfully.
///
/// Not `ru_maxrss`: Linux carries the parent's high-water mark into a child forked from it,
/// so a small program started by a big one would report the big one's peak.
pub fn peak_resident_bytes_of(command: &mut std::process::Command) -> Result<u64> {
    let mut child = command
        .spawn()
        .map_err(|error| BenchError::Failed(format!("cannot start {command:?}: {error}")))?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| kib_field(&status, "VmHWM:"))
        {
            peak = peak.max(kib * 1024);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(1)),
            Err(error) => {
                return Err(BenchError::Failed(format!(
                    "waiting for {command:?} failed: {error}"
                )))
            }
        }
    };
    if !status.success() {
        return Err(BenchError::Failed(format!("{command:?} failed: {status}")));
    }
    if peak == 0 {
        return Err(BenchError::Failed(
            "this system does not report the peak memory of a process".into(),
        ));
    }
    Ok(peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields() {
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(kib_field(status, "VmRSS:"), Some(1024));
        assert_eq!(kib_field(status, "VmHWM:"), Some(2048));
        assert_eq!(kib_field(status, "VmSwap:"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_resident_set() {
        assert!(resident_bytes().is_some_and(|bytes| bytes > 0));
    }
}
