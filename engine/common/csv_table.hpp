// CsvTable: the one way the engine writes CSV files (ops.csv, curves.csv, sweep.csv, pareto.csv,
// evaluations.csv, convergence.csv, accuracy.csv).
//
// The text is RFC 4180: a header record, then one record per row, every record ended by CRLF, and
// a field quoted ("...", with each '"' doubled) exactly when it holds a comma, a double quote, a
// CR or an LF. Every record has as many fields as the header; a row of another length is a bug in
// the writer and throws std::logic_error rather than writing a ragged file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace transcode::engine {

/// One field as RFC 4180 writes it: unchanged, or quoted when it holds ',', '"', CR or LF.
std::string csv_field(std::string_view text);

class CsvTable {
public:
    explicit CsvTable(std::vector<std::string> columns);

    /// Appends one record. Throws std::logic_error when `fields` has not one field per column.
    void add_row(const std::vector<std::string>& fields);

    const std::vector<std::string>& columns() const { return columns_; }
    std::size_t rows() const { return rows_; }
    /// The whole file: the header record, then the rows, each ended by CRLF.
    const std::string& text() const { return text_; }
    /// Writes text() to `file` atomically (common/atomic_file.hpp).
    void write(const std::filesystem::path& file) const;

private:
    std::vector<std::string> columns_;
    std::size_t rows_ = 0;
    std::string text_;
    void append_record(const std::vector<std::string>& fields);
};

/// A CSV file read back (`transcode report` reads ops.csv and convergence.csv): its header and its
/// rows of cells, each row as wide as the header.
struct CsvFile {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    /// The index of column `name`, or npos.
    std::size_t column(const std::string& name) const;
};

/// Parses CSV text (RFC 4180 quoting; records ended by CRLF or LF; empty lines skipped); `file`
/// names it in errors. A row of another width than the header, an unclosed quote or an empty file
/// is a ConfigError `FILE:LINE:1: error: row N: ... (csv)`.
CsvFile parse_csv(const std::string& text, const std::string& file);

}  // namespace transcode::engine
