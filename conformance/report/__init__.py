"""The run record and its views: results, matrix, HTML, Markdown, JUnit, diff and console."""
