#include "common/csv_table.hpp"

#include <stdexcept>

#include "common/atomic_file.hpp"

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

}  // namespace transcode::engine
