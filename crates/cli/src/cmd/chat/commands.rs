//! Slash commands: what a line starting with `/` means.

/// A parsed input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Nothing to do (a blank line).
    Empty,
    /// A message for the coach.
    Message(String),
    Command(Command),
    /// A `/word` we do not know, or a command with bad arguments: the text says what is wrong.
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Quit,
    Clear,
    History,
    Session,
    Sessions,
    Cost,
    /// `/model` alone shows the current model; `/model ID` switches.
    Model(Option<String>),
    Tools,
}

/// Every command with its one-line help, in the order `/help` lists them.
pub const HELP: &[(&str, &str)] = &[
    ("/help", "this list"),
    ("/quit", "leave (Ctrl-D too); the session is already saved"),
    (
        "/clear",
        "start a new, empty session with the same provider and model (the current one stays resumable with --session ID)",
    ),
    (
        "/history",
        "the conversation so far (questions, answers and the tools called)",
    ),
    ("/session", "this session: id, provider, model, turns"),
    (
        "/sessions",
        "the most recent sessions, to resume with --session ID",
    ),
    (
        "/cost",
        "tokens and cost of this session by model: calls, input, output, cached",
    ),
    (
        "/model [ID]",
        "show the model, or switch to ID for the next turns",
    ),
    ("/tools", "the tools the coach can call"),
];

/// Parse one input line. Text not starting with `/` is a message (a leading `//` sends a
/// message that starts with `/`).
pub fn parse(line: &str) -> Line {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Line::Empty;
    }
    if let Some(escaped) = trimmed.strip_prefix("//") {
        return Line::Message(format!("/{escaped}"));
    }
    let Some(rest) = trimmed.strip_prefix('/') else {
        return Line::Message(trimmed.to_string());
    };
    let mut words = rest.split_whitespace();
    let name = words.next().unwrap_or("").to_ascii_lowercase();
    let args: Vec<&str> = words.collect();
    let no_args = |c: Command| {
        if args.is_empty() {
            Line::Command(c)
        } else {
            Line::Invalid(format!("/{name} takes no arguments"))
        }
    };
    match name.as_str() {
        "help" | "h" | "?" => no_args(Command::Help),
        "quit" | "exit" | "q" => no_args(Command::Quit),
        "clear" | "new" => no_args(Command::Clear),
        "history" => no_args(Command::History),
        "session" => no_args(Command::Session),
        "sessions" => no_args(Command::Sessions),
        "cost" | "usage" => no_args(Command::Cost),
        "tools" => no_args(Command::Tools),
        "model" => match args.as_slice() {
            [] => Line::Command(Command::Model(None)),
            [id] => Line::Command(Command::Model(Some((*id).to_string()))),
            _ => Line::Invalid("/model takes one model id, e.g. /model claude-haiku-4.5".into()),
        },
        "" => Line::Invalid("a lone `/`: type /help for the commands".into()),
        other => Line::Invalid(format!(
            "unknown command /{other}; type /help for the commands (start a message with // to send a leading /)"
        )),
    }
}

/// The `/help` text.
pub fn help_text() -> String {
    let width = HELP.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (cmd, what) in HELP {
        out.push_str(&format!("  {cmd:<width$}  {what}\n"));
    }
    out.push_str(
        "  Anything else is a question for the coach. Ctrl-C cancels the answer being written; \
         Ctrl-D leaves.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_commands_and_errors() {
        assert_eq!(parse("   "), Line::Empty);
        assert_eq!(
            parse("  How was my week? "),
            Line::Message("How was my week?".into())
        );
        assert_eq!(parse("/cost"), Line::Command(Command::Cost));
        assert_eq!(parse("/COST"), Line::Command(Command::Cost));
        assert_eq!(parse("/exit"), Line::Command(Command::Quit));
        assert_eq!(parse("/model"), Line::Command(Command::Model(None)));
        assert_eq!(
            parse("/model  claude-haiku-4.5 "),
            Line::Command(Command::Model(Some("claude-haiku-4.5".into())))
        );
        assert!(matches!(parse("/model a b"), Line::Invalid(m) if m.contains("one model id")));
        assert!(
            matches!(parse("/cost now"), Line::Invalid(m) if m.contains("/cost takes no arguments"))
        );
        assert!(
            matches!(parse("/frobnicate"), Line::Invalid(m) if m.contains("/frobnicate") && m.contains("/help"))
        );
        assert_eq!(
            parse("//etc is a path"),
            Line::Message("/etc is a path".into())
        );
    }

    #[test]
    fn help_lists_every_command_of_the_issue() {
        let help = help_text();
        for cmd in [
            "/help",
            "/quit",
            "/clear",
            "/history",
            "/session ",
            "/sessions",
            "/cost",
            "/model",
            "/tools",
        ] {
            assert!(help.contains(cmd), "{cmd} missing from:\n{help}");
        }
        // Every listed command parses to a command (the help never advertises a typo).
        for (cmd, _) in HELP {
            let name = cmd.split_whitespace().next().unwrap();
            assert!(matches!(parse(name), Line::Command(_)), "{name}");
        }
    }
}
