#include "config/yaml_text.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace transcode::config {

std::string to_flow_text(const Node& n) {
    switch (n.kind) {
        case Node::Kind::null: return "null";
        case Node::Kind::scalar: {
            const bool plain = !n.scalar.empty() && !n.quoted && n.scalar.find_first_of(",:{}[]#&*!|>'\"%@`\n") == std::string::npos &&
                               n.scalar.front() != ' ' && n.scalar.back() != ' ' &&
                               !(n.scalar.front() == '-' && (n.scalar.size() == 1 || n.scalar[1] == ' '));
            return plain ? n.scalar : nlohmann::json(n.scalar).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
        case Node::Kind::sequence: {
            std::string out = "[";
            for (std::size_t i = 0; i < n.items.size(); ++i) out += (i ? ", " : "") + to_flow_text(n.items[i]);
            return out + "]";
        }
        case Node::Kind::map: {
            std::string out = "{";
            for (std::size_t i = 0; i < n.fields.size(); ++i) out += (i ? ", " : "") + n.fields[i].first + ": " + to_flow_text(n.fields[i].second);
            return out + "}";
        }
    }
    return "";
}

namespace {

// A node written on the line of its key: a scalar, null, an empty list or map, or a list of scalars.
bool inline_node(const Node& n) {
    if (n.kind == Node::Kind::map) return n.fields.empty();
    if (n.kind != Node::Kind::sequence) return true;
    return std::all_of(n.items.begin(), n.items.end(), [](const Node& i) { return i.kind == Node::Kind::scalar || i.kind == Node::Kind::null; });
}

void write_block(std::string& out, const Node& n, const std::string& indent);

// The fields of a map, the first one after `first` (already written: an indent, or "- ").
void write_fields(std::string& out, const Node& n, const std::string& indent, bool first_on_line) {
    for (std::size_t i = 0; i < n.fields.size(); ++i) {
        const auto& [key, value] = n.fields[i];
        if (i > 0 || !first_on_line) out += indent;
        out += key + ":";
        if (inline_node(value)) {
            out += " " + to_flow_text(value) + "\n";
        } else {
            out += "\n";
            write_block(out, value, indent + "  ");
        }
    }
}

void write_block(std::string& out, const Node& n, const std::string& indent) {
    if (n.kind == Node::Kind::map && !n.fields.empty()) {
        write_fields(out, n, indent, false);
    } else if (n.kind == Node::Kind::sequence && !inline_node(n)) {
        for (const Node& item : n.items) {
            out += indent + "- ";
            if (item.kind == Node::Kind::map && !item.fields.empty()) {
                write_fields(out, item, indent + "  ", true);
            } else if (inline_node(item)) {
                out += to_flow_text(item) + "\n";
            } else {
                out += "\n";
                write_block(out, item, indent + "  ");
            }
        }
    } else {
        out += indent + to_flow_text(n) + "\n";
    }
}

}  // namespace

std::string to_block_text(const Node& n) {
    std::string out;
    write_block(out, n, "");
    return out;
}

}  // namespace transcode::config
