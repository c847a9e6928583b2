//! Showing the coach's answer as it streams in.
//!
//! On a terminal the Markdown the model writes is rendered: headings and `**bold**` in bold,
//! `*italic*` in italics, `` `code` `` and fenced blocks in cyan, list bullets as `•`, tables with
//! aligned columns. Paragraphs and list items stream word by word (cut only where no inline
//! marker is open, so styles never straddle a cut); headings, quotes and fences appear a line at a
//! time, tables a table at a time, since their layout needs the whole line or block. When stdout is not a terminal (a pipe, a file, a test) the text
//! is written exactly as the model sent it, delta by delta.

/// ANSI styles used by the renderer (SGR on / off pairs, so nesting does not reset colour).
const BOLD: (&str, &str) = ("\x1b[1m", "\x1b[22m");
const ITALIC: (&str, &str) = ("\x1b[3m", "\x1b[23m");
const CODE: (&str, &str) = ("\x1b[36m", "\x1b[39m");
const DIM: (&str, &str) = ("\x1b[2m", "\x1b[22m");

/// Incremental renderer: feed deltas with [`Renderer::push`], end with [`Renderer::finish`];
/// each returns the text to write now.
#[derive(Debug)]
pub struct Renderer {
    markdown: bool,
    /// The current line, not yet complete (Markdown mode only).
    line: String,
    /// For a paragraph or list item already being streamed: the byte offset in `line` up to
    /// which it has been written.
    flowing: Option<usize>,
    /// Consecutive table rows waiting for the end of the table.
    table: Vec<String>,
    in_fence: bool,
    /// Whether the last character written ended a line (so tool lines and notes start cleanly).
    at_line_start: bool,
    /// Whether anything has been written since the last [`Renderer::reset`].
    wrote: bool,
}

impl Renderer {
    pub fn new(markdown: bool) -> Self {
        Self {
            markdown,
            line: String::new(),
            flowing: None,
            table: Vec::new(),
            in_fence: false,
            at_line_start: true,
            wrote: false,
        }
    }

    /// A piece of the answer; returns what to print now.
    pub fn push(&mut self, delta: &str) -> String {
        if delta.is_empty() {
            return String::new();
        }
        self.wrote = true;
        if !self.markdown {
            self.at_line_start = delta.ends_with('\n');
            return delta.to_string();
        }
        let mut out = String::new();
        for ch in delta.chars() {
            if ch == '\n' {
                let line = std::mem::take(&mut self.line);
                self.complete_line(&line, &mut out);
            } else {
                self.line.push(ch);
            }
        }
        self.stream_partial(&mut out);
        self.note_written(&out);
        out
    }

    /// Write what can be written of the incomplete line: for a paragraph or a list item, the
    /// words up to the last whitespace where every inline marker is closed.
    fn stream_partial(&mut self, out: &mut String) {
        if self.in_fence || self.line.is_empty() {
            return;
        }
        let mut emitted = match self.flowing {
            Some(at) => at,
            None => {
                let indent_len = self.line.len() - self.line.trim_start().len();
                let rest = &self.line[indent_len..];
                // Three characters tell a list item from a rule or bold text, and `##` from `#x`.
                if rest.chars().count() < 3 {
                    return;
                }
                let prefix = if ["- ", "* ", "+ "].iter().any(|b| rest.starts_with(b)) {
                    format!("{}  • ", &self.line[..indent_len])
                } else if rest.starts_with(['|', '#', '`', '>', '-', '*', '+', '_']) {
                    // Tables, headings, fences, quotes, rules, leading markup: whole lines.
                    return;
                } else {
                    self.line[..indent_len].to_string()
                };
                self.flush_table(out);
                out.push_str(&prefix);
                let start = indent_len
                    + if prefix.ends_with("• ") {
                        2 // the list marker
                    } else {
                        0
                    };
                self.flowing = Some(start);
                start
            }
        };
        let pending = &self.line[emitted..];
        let cut = pending
            .char_indices()
            .rev()
            .filter(|(_, c)| c.is_whitespace())
            .map(|(i, c)| i + c.len_utf8())
            .find(|&end| balanced(&pending[..end]));
        if let Some(end) = cut {
            out.push_str(&render_inline(&pending[..end]));
            emitted += end;
            self.flowing = Some(emitted);
        }
    }

    /// End of a model call's text: flush the pending line and table, and end the line so the
    /// next output (a tool line, the next call's text, the prompt) starts on its own line.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        if self.markdown {
            if !self.line.is_empty() {
                let line = std::mem::take(&mut self.line);
                self.complete_line(&line, &mut out);
            }
            self.flush_table(&mut out);
        }
        if !out.is_empty() {
            self.note_written(&out);
        }
        if self.wrote && !self.at_line_start {
            out.push('\n');
            self.at_line_start = true;
        }
        self.wrote = false;
        out
    }

    fn note_written(&mut self, out: &str) {
        if !out.is_empty() {
            self.at_line_start = out.ends_with('\n');
        }
    }

    fn complete_line(&mut self, line: &str, out: &mut String) {
        if let Some(at) = self.flowing.take() {
            out.push_str(&render_inline(&line[at..]));
            out.push('\n');
            return;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            self.flush_table(out);
            self.in_fence = !self.in_fence;
            // The fence line itself carries no content worth showing (the language tag aside).
            let lang = trimmed.trim_start_matches('`').trim();
            if self.in_fence && !lang.is_empty() {
                out.push_str(&format!("{}{lang}{}\n", DIM.0, DIM.1));
            }
            return;
        }
        if self.in_fence {
            out.push_str(&format!("    {}{line}{}\n", CODE.0, CODE.1));
            return;
        }
        if is_table_row(trimmed) {
            self.table.push(trimmed.to_string());
            return;
        }
        self.flush_table(out);
        out.push_str(&render_line(line));
        out.push('\n');
    }

    fn flush_table(&mut self, out: &mut String) {
        if self.table.is_empty() {
            return;
        }
        let rows = std::mem::take(&mut self.table);
        out.push_str(&render_table(&rows));
    }
}

/// Whether every inline marker in `text` is closed: an even number of backticks, of `**`, of
/// `__`, and of single `*` and `_`. (Conservative: a lone `_` in `snake_case` holds the rest of
/// the line back until it ends, which costs only smoothness.)
fn balanced(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let (mut ticks, mut double_star, mut double_under, mut star, mut under) = (0, 0, 0, 0, 0);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let doubled = chars.get(i + 1) == Some(&c);
        match c {
            '`' => ticks += 1,
            '*' if doubled => {
                double_star += 1;
                i += 1;
            }
            '_' if doubled => {
                double_under += 1;
                i += 1;
            }
            '*' => star += 1,
            '_' => under += 1,
            _ => {}
        }
        i += 1;
    }
    [ticks, double_star, double_under, star, under]
        .iter()
        .all(|n| n % 2 == 0)
}

fn is_table_row(line: &str) -> bool {
    line.starts_with('|') && line.len() > 1
}

/// One line of Markdown outside tables and code blocks.
pub fn render_line(line: &str) -> String {
    let indent_len = line.len() - line.trim_start().len();
    let (indent, rest) = line.split_at(indent_len);
    // Headings: `#` to `######` then a space.
    let hashes = rest.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) && rest[hashes..].starts_with(' ') {
        let text = rest[hashes..].trim();
        // Inline markup inside a heading is shown without its markers, all in bold.
        return format!("{}{}{}", BOLD.0, strip_inline(text), BOLD.1);
    }
    if rest == "---" || rest == "***" || rest == "___" {
        return format!("{}{}{}", DIM.0, "─".repeat(40), DIM.1);
    }
    for bullet in ["- ", "* ", "+ "] {
        if let Some(item) = rest.strip_prefix(bullet) {
            return format!("{indent}  • {}", render_inline(item));
        }
    }
    if let Some(quote) = rest.strip_prefix("> ") {
        return format!("{indent}{}│{} {}", DIM.0, DIM.1, render_inline(quote));
    }
    format!("{indent}{}", render_inline(rest))
}

/// `**bold**`, `__bold__`, `*italic*`, `_italic_` (not inside words) and `` `code` ``.
pub fn render_inline(text: &str) -> String {
    inline(text, true)
}

/// The text of inline markup without its markers or styles.
pub fn strip_inline(text: &str) -> String {
    inline(text, false)
}

fn inline(text: &str, styled: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let style = |out: &mut String, s: &str| {
        if styled {
            out.push_str(s);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '`'
            && let Some(end) = find(&chars, i + 1, &['`'])
        {
            style(&mut out, CODE.0);
            out.extend(&chars[i + 1..end]);
            style(&mut out, CODE.1);
            i = end + 1;
            continue;
        }
        if (c == '*' || c == '_') && chars.get(i + 1) == Some(&c) {
            let marker = [c, c];
            if let Some(end) = find(&chars, i + 2, &marker)
                && end > i + 2
            {
                style(&mut out, BOLD.0);
                out.push_str(&inline(
                    &chars[i + 2..end].iter().collect::<String>(),
                    styled,
                ));
                style(&mut out, BOLD.1);
                i = end + 2;
                continue;
            }
        }
        // Single markers only open at a word start and close at a word end, so `5*3` or
        // `snake_case` stay as written.
        if (c == '*' || c == '_')
            && chars
                .get(i + 1)
                .is_some_and(|n| !n.is_whitespace() && *n != c)
            && (i == 0 || !chars[i - 1].is_alphanumeric())
            && let Some(end) = find_closing_single(&chars, i + 1, c)
        {
            style(&mut out, ITALIC.0);
            out.push_str(&inline(
                &chars[i + 1..end].iter().collect::<String>(),
                styled,
            ));
            style(&mut out, ITALIC.1);
            i = end + 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Index of the first occurrence of `pat` at or after `from`.
fn find(chars: &[char], from: usize, pat: &[char]) -> Option<usize> {
    (from..chars.len().saturating_sub(pat.len() - 1)).find(|&j| chars[j..j + pat.len()] == *pat)
}

fn find_closing_single(chars: &[char], from: usize, marker: char) -> Option<usize> {
    (from + 1..chars.len()).find(|&j| {
        chars[j] == marker
            && !chars[j - 1].is_whitespace()
            && chars
                .get(j + 1)
                .is_none_or(|n| !n.is_alphanumeric() && *n != marker)
    })
}

/// A Markdown table with aligned columns; the `|---|` separator row becomes a rule and
/// `:--:`/`--:` alignments are honoured. Header cells are bold.
pub fn render_table(rows: &[String]) -> String {
    let split = |row: &str| -> Vec<String> {
        let inner = row.trim().trim_start_matches('|');
        let inner = inner.strip_suffix('|').unwrap_or(inner);
        inner.split('|').map(|c| strip_inline(c.trim())).collect()
    };
    let is_separator = |row: &str| {
        let cells = split(row);
        !cells.is_empty()
            && cells.iter().all(|c| {
                !c.is_empty()
                    && c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))
                    && c.contains('-')
            })
    };
    #[derive(Clone, Copy, PartialEq)]
    enum Align {
        Left,
        Right,
        Center,
    }
    let mut aligns: Vec<Align> = Vec::new();
    let mut body: Vec<Vec<String>> = Vec::new();
    let mut header_rows = 0;
    for (i, row) in rows.iter().enumerate() {
        if i == 1 && is_separator(row) {
            header_rows = 1;
            aligns = split(row)
                .iter()
                .map(|c| match (c.starts_with(':'), c.ends_with(':')) {
                    (true, true) => Align::Center,
                    (false, true) => Align::Right,
                    _ => Align::Left,
                })
                .collect();
            continue;
        }
        body.push(split(row));
    }
    let columns = body.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in &body {
        for (j, cell) in row.iter().enumerate() {
            widths[j] = widths[j].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in body.iter().enumerate() {
        let mut line = String::new();
        for (j, width) in widths.iter().enumerate() {
            let cell = row.get(j).map_or("", String::as_str);
            let pad = width - cell.chars().count();
            let align = aligns.get(j).copied().unwrap_or(Align::Left);
            let (left, right) = match align {
                Align::Left => (0, pad),
                Align::Right => (pad, 0),
                Align::Center => (pad / 2, pad - pad / 2),
            };
            if j > 0 {
                line.push_str("  ");
            }
            line.push_str(&" ".repeat(left));
            if i < header_rows {
                line.push_str(&format!("{}{cell}{}", BOLD.0, BOLD.1));
            } else {
                line.push_str(cell);
            }
            line.push_str(&" ".repeat(right));
        }
        out.push_str("  ");
        out.push_str(line.trim_end());
        out.push('\n');
        if i + 1 == header_rows {
            let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
            out.push_str(&format!("  {}{}{}\n", DIM.0, "─".repeat(total), DIM.1));
        }
    }
    out
}

/// Remove ANSI escape sequences (tests and width checks).
#[cfg(test)]
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for n in chars.by_ref() {
                if n.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_all(md: &str, pieces: usize) -> String {
        let mut r = Renderer::new(true);
        let chars: Vec<char> = md.chars().collect();
        let mut out = String::new();
        for chunk in chars.chunks(pieces) {
            out.push_str(&r.push(&chunk.iter().collect::<String>()));
        }
        out.push_str(&r.finish());
        out
    }

    #[test]
    fn paragraphs_and_list_items_stream_before_the_line_ends() {
        let mut r = Renderer::new(true);
        assert_eq!(r.push("Yo"), "", "too short to know what the line is");
        assert_eq!(r.push("ur FTP is **250"), "Your FTP is ");
        assert_eq!(r.push(" W** and"), "\x1b[1m250 W\x1b[22m ");
        assert_eq!(
            r.push(" rising.\n- `Z2` "),
            "and rising.\n  • \x1b[36mZ2\x1b[39m "
        );
        assert_eq!(r.push("rides"), "");
        assert_eq!(r.finish(), "rides\n");
        // A heading is held to the end of its line; a table to the end of the table.
        assert_eq!(r.push("## Your we"), "");
        assert_eq!(r.push("ek\n| a |\n"), "\x1b[1mYour week\x1b[22m\n");
        assert_eq!(
            strip_ansi(&r.push("Next paragraph ")),
            "  a\nNext paragraph "
        );
    }

    #[test]
    fn streamed_output_equals_the_whole_rendering() {
        let md = "Intro with **bold words here** and `code here` then *italic text* end.\n\
                  - item one with snake_case_name and more words\n\
                  1. numbered **step** done\n\
                  > quoted line\n\
                  ---\n\
                  tail 5*3 = 15 words";
        let whole = {
            let mut r = Renderer::new(true);
            let mut s = String::new();
            for line in md.lines() {
                s.push_str(&r.push(&format!("{line}\n")));
            }
            s + &r.finish()
        };
        for size in [1, 2, 3, 5, 11] {
            assert_eq!(render_all(md, size), whole, "chunks of {size}");
        }
        assert!(strip_ansi(&whole).contains("  • item one with snake_case_name and more words\n"));
    }

    #[test]
    fn balanced_markers() {
        assert!(balanced("plain words "));
        assert!(balanced("**a** `b` *c* _d_ "));
        assert!(!balanced("**open "));
        assert!(!balanced("`open "));
        assert!(!balanced("snake_case "));
    }

    #[test]
    fn plain_mode_passes_text_through_verbatim() {
        let mut r = Renderer::new(false);
        assert_eq!(r.push("**Your FTP** is "), "**Your FTP** is ");
        assert_eq!(r.push("250 W."), "250 W.");
        // The answer did not end its line: finish ends it so the prompt starts cleanly.
        assert_eq!(r.finish(), "\n");
        assert_eq!(r.finish(), "", "nothing written since: nothing to end");
        assert_eq!(r.push("done\n"), "done\n");
        assert_eq!(r.finish(), "");
    }

    #[test]
    fn headings_bold_lists_bullets_inline_styles() {
        let out = render_all(
            "## Your week\n- **3** rides, `TSS 412`\n* one *easy* day\nplain 5*3 snake_case\n",
            3,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "\x1b[1mYour week\x1b[22m");
        assert_eq!(
            lines[1],
            "  • \x1b[1m3\x1b[22m rides, \x1b[36mTSS 412\x1b[39m"
        );
        assert_eq!(lines[2], "  • one \x1b[3measy\x1b[23m day");
        assert_eq!(lines[3], "plain 5*3 snake_case");
    }

    #[test]
    fn table_columns_are_aligned_whatever_the_chunking() {
        let md = "Weekly volume:\n| Week | Hours | TSS |\n|:--|--:|--:|\n| 2026-10-05 | 7.5 | 412 |\n| 2026-10-12 | 10.25 | 98 |\nDone.";
        let one = render_all(md, 1);
        let many = render_all(md, 7);
        assert_eq!(
            one, many,
            "rendering does not depend on how the text was split"
        );
        let plain = strip_ansi(&one);
        let lines: Vec<&str> = plain.lines().collect();
        assert_eq!(lines[0], "Weekly volume:");
        assert_eq!(lines[1], "  Week        Hours  TSS");
        assert!(lines[2].trim_start().starts_with("───"), "{plain}");
        // Numbers right-aligned in their columns.
        assert_eq!(lines[3], "  2026-10-05    7.5  412");
        assert_eq!(lines[4], "  2026-10-12  10.25   98");
        assert_eq!(lines[5], "Done.");
        assert!(plain.ends_with("Done.\n"));
    }

    #[test]
    fn fenced_code_is_kept_verbatim_and_indented() {
        let out = strip_ansi(&render_all("```json\n{\"a\": **1**}\n```\nafter\n", 5));
        assert_eq!(out, "json\n    {\"a\": **1**}\nafter\n");
    }

    #[test]
    fn heading_markup_is_stripped_and_rules_drawn() {
        assert_eq!(
            strip_ansi(&render_line("# **Plan** for `week 3`")),
            "Plan for week 3"
        );
        assert_eq!(strip_ansi(&render_line("---")), "─".repeat(40));
        assert_eq!(strip_ansi(&render_line("#hashtag")), "#hashtag");
        assert_eq!(strip_ansi(&render_line("> quoted")), "│ quoted");
        assert_eq!(strip_ansi(&render_line("   - nested")), "     • nested");
    }

    #[test]
    fn unclosed_markers_stay_literal() {
        assert_eq!(render_inline("a **b and `c"), "a **b and `c");
        assert_eq!(render_inline("x * y * z"), "x * y * z");
    }
}
