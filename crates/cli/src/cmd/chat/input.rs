//! Where the user's lines come from. On a terminal: line editing with in-memory history
//! (rustyline), one line read only when the REPL asks, so the editor never holds the terminal in
//! raw mode while an answer streams (then Ctrl-C is a signal that cancels the answer). Otherwise
//! (a pipe, a file, a test): plain lines from stdin, read ahead on a thread.
//!
//! Both readers run on their own thread and hand lines over a channel, so the async REPL can race
//! a pending read against Ctrl-C.

use std::io::BufRead;
use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;

/// One read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Line(String),
    /// Ctrl-D or end of input.
    Eof,
    /// Ctrl-C at the prompt (terminal only).
    Interrupted,
    /// Reading failed (the message says why); treated like the end of input.
    Failed(String),
}

pub enum Reader {
    /// Terminal: the thread reads one line per request (the prompt to show).
    Terminal {
        requests: std_mpsc::Sender<String>,
        lines: mpsc::UnboundedReceiver<Input>,
    },
    /// Pipe: the thread reads every line as it comes.
    Pipe {
        lines: mpsc::UnboundedReceiver<Input>,
    },
}

impl Reader {
    pub fn terminal() -> Self {
        let (req_tx, req_rx) = std_mpsc::channel::<String>();
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut editor = match rustyline::DefaultEditor::new() {
                Ok(e) => e,
                Err(e) => {
                    let _ = tx.send(Input::Failed(format!("starting line editing: {e}")));
                    return;
                }
            };
            while let Ok(prompt) = req_rx.recv() {
                let input = match editor.readline(&prompt) {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            let _ = editor.add_history_entry(line.as_str());
                        }
                        Input::Line(line)
                    }
                    Err(rustyline::error::ReadlineError::Interrupted) => Input::Interrupted,
                    Err(rustyline::error::ReadlineError::Eof) => Input::Eof,
                    Err(e) => Input::Failed(format!("reading the terminal: {e}")),
                };
                let last = matches!(input, Input::Eof | Input::Failed(_));
                if tx.send(input).is_err() || last {
                    return;
                }
            }
        });
        Reader::Terminal {
            requests: req_tx,
            lines: rx,
        }
    }

    pub fn pipe() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            let mut buf = String::new();
            loop {
                buf.clear();
                let input = match lock.read_line(&mut buf) {
                    Ok(0) => Input::Eof,
                    Ok(_) => Input::Line(buf.trim_end_matches(['\n', '\r']).to_string()),
                    Err(e) => Input::Failed(format!("reading stdin: {e}")),
                };
                let last = matches!(input, Input::Eof | Input::Failed(_));
                if tx.send(input).is_err() || last {
                    return;
                }
            }
        });
        Reader::Pipe { lines: rx }
    }

    /// The next line; `prompt` is shown on a terminal only.
    pub async fn next(&mut self, prompt: &str) -> Input {
        match self {
            Reader::Terminal { requests, lines } => {
                if requests.send(prompt.to_string()).is_err() {
                    return Input::Eof;
                }
                lines.recv().await.unwrap_or(Input::Eof)
            }
            Reader::Pipe { lines } => lines.recv().await.unwrap_or(Input::Eof),
        }
    }
}
