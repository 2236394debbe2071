//! A table of text, written as Markdown, HTML or a terminal table, so
//! every output shows the same rows.

use comfy_table::ContentArrangement;
use comfy_table::presets::UTF8_FULL_CONDENSED;

/// Rows of text under a header.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// One entry per column in each row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|&h| h.to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// A GitHub-flavored Markdown table.
    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|c| markdown_text(c)).collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut text = line(&self.header);
        text += &format!("|{}\n", "---|".repeat(self.header.len()));
        for row in &self.rows {
            text += &line(row);
        }
        text
    }

    /// An HTML `<table>`, every cell escaped.
    pub fn html(&self) -> String {
        let mut text = String::from("<table>\n");
        // A table of name-value pairs needs no header row.
        if self.header.iter().any(|name| !name.is_empty()) {
            text += "<thead><tr>";
            for name in &self.header {
                text += &format!("<th>{}</th>", escape(name));
            }
            text += "</tr></thead>\n";
        }
        text += "<tbody>\n";
        for row in &self.rows {
            text += "<tr>";
            for cell in row {
                text += &format!("<td>{}</td>", escape(cell));
            }
            text += "</tr>\n";
        }
        text + "</tbody>\n</table>\n"
    }

    /// A table for the terminal, its cells wrapped so every line fits in
    /// [`TERMINAL_WIDTH`] columns, on a terminal and in a pipe alike.
    pub fn terminal(&self) -> String {
        let mut table = comfy_table::Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(TERMINAL_WIDTH);
        table.set_header(&self.header);
        for row in &self.rows {
            table.add_row(row);
        }
        table.to_string()
    }
}

/// The columns every terminal table fits in.
pub const TERMINAL_WIDTH: u16 = 100;

/// `text` safe in a line or table cell of GitHub Markdown: HTML and the
/// characters that would start a table, a code span or a new line escaped.
pub fn markdown_text(text: &str) -> String {
    escape(text)
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace('\n', " ")
}

/// `text` with HTML's special characters escaped.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped_in_every_form() {
        let mut table = Table::new(&["name", "note"]);
        table.rows.push(vec!["a|b".into(), "<script>".into()]);
        assert!(table.markdown().contains("a\\|b"));
        assert!(table.markdown().contains("&lt;script&gt;"));
        assert!(table.html().contains("&lt;script&gt;"));
        assert!(!table.html().contains("<script>"));
    }
}
