#include "common/csv_table.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "common/atomic_file.hpp"
#include "transcode/errors.hpp"

namespace transcode::engine {

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + '"';
}

CsvTable::CsvTable(std::vector<std::string> columns) : columns_(std::move(columns)) {
    if (columns_.empty()) throw std::logic_error("CsvTable: a table needs at least one column");
    append_record(columns_);
}

void CsvTable::add_row(const std::vector<std::string>& fields) {
    if (fields.size() != columns_.size())
        throw std::logic_error("CsvTable: a row of " + std::to_string(fields.size()) + " fields in a table of " + std::to_string(columns_.size()) +
                               " columns (first column '" + columns_.front() + "')");
    append_record(fields);
    ++rows_;
}

void CsvTable::append_record(const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) text_ += ',';
        text_ += csv_field(fields[i]);
    }
    text_ += "\r\n";
}

void CsvTable::write(const std::filesystem::path& file) const { write_file_atomically(file, text_); }

std::size_t CsvFile::column(const std::string& name) const {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? std::string::npos : static_cast<std::size_t>(it - header.begin());
}

CsvFile parse_csv(const std::string& text, const std::string& file) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string cell;
    bool quoted = false, any = false;
    int line = 1, row_line = 1;
    auto end_row = [&] {
        row.push_back(std::move(cell));
        cell.clear();
        if (!(row.size() == 1 && row[0].empty() && !any)) rows.push_back(std::move(row));
        row.clear();
        any = false;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (quoted) {
            if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                cell.push_back('"');
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                if (ch == '\n') ++line;
                cell.push_back(ch);
            }
        } else if (ch == '"') {
            quoted = any = true;
        } else if (ch == ',') {
            row.push_back(std::move(cell));
            cell.clear();
            any = true;
        } else if (ch == '\n') {
            end_row();
            row_line = ++line;
        } else if (ch != '\r') {
            cell.push_back(ch);
            any = true;
        }
    }
    if (quoted)
        throw ConfigError(fmt::format("{}:{}:1: error: row {}: a quoted cell is not closed (csv)", file, row_line, rows.size() + 1));
    if (any || !cell.empty()) end_row();
    if (rows.empty())
        throw ConfigError(fmt::format("{}:1:1: error: (document): the file is empty; a CSV file starts with its header (csv)", file));
    CsvFile t;
    t.header = std::move(rows.front());
    for (std::size_t r = 1; r < rows.size(); ++r) {
        if (rows[r].size() != t.header.size())
            throw ConfigError(fmt::format("{}:{}:1: error: row {}: {} cells, the header has {} (csv)", file, r + 1, r + 1, rows[r].size(),
                                          t.header.size()));
        t.rows.push_back(std::move(rows[r]));
    }
    return t;
}

}  // namespace transcode::engine
