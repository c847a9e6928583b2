//! Terminal conventions: colour only on a terminal and never with `NO_COLOR` set
//! (https://no-color.org), progress bars only on a terminal.

use std::io::IsTerminal;

/// Whether stderr may carry ANSI colour.
pub fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Whether stdout may carry ANSI colour.
pub fn color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

pub fn error_label() -> &'static str {
    if color_stderr() {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    }
}

pub fn warning_label() -> &'static str {
    if color_stderr() {
        "\x1b[33mwarning:\x1b[0m"
    } else {
        "warning:"
    }
}

/// A notice that is neither a problem nor output (how a model id was resolved).
pub fn note_label() -> &'static str {
    if color_stderr() {
        "\x1b[36mnote:\x1b[0m"
    } else {
        "note:"
    }
}

/// Bold heading on stdout when colour is allowed.
pub fn heading(text: &str) -> String {
    if color_stdout() {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
