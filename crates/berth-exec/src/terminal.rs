//! The local terminal of `berth exec -it`: raw mode while a session runs (restored on drop,
//! also when the session fails) and the window size the remote TTY should have.
//!
//! Invariant: a [`RawMode`] guard restores exactly the settings it found.

use rustix::termios::{self, OptionalActions, Termios};

/// Whether standard input is a terminal.
pub fn stdin_is_terminal() -> bool {
    termios::isatty(rustix::stdio::stdin())
}

/// The terminal's (rows, columns), or `None` when standard output is not a terminal.
pub fn window_size() -> Option<(u16, u16)> {
    let size = termios::tcgetwinsize(rustix::stdio::stdout())
        .or_else(|_| termios::tcgetwinsize(rustix::stdio::stdin()))
        .ok()?;
    (size.ws_row > 0 && size.ws_col > 0).then_some((size.ws_row, size.ws_col))
}

/// Standard input in raw mode: keystrokes (Ctrl-C included) go to the remote TTY as typed.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enter() -> std::io::Result<RawMode> {
        let stdin = rustix::stdio::stdin();
        let saved = termios::tcgetattr(stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(stdin, OptionalActions::Now, &raw)?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &self.saved);
    }
}
