// Node: a YAML document tree in which every value remembers its file, line and column.
//
// Loading resolves `include:` keys (a map may say `include: other.yaml`, relative to its own file,
// and override any of the included fields beside it) and applies `--set a.b.c=value` overrides.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostics.hpp"

namespace transcode::config {

class Node {
public:
    enum class Kind { null, scalar, sequence, map };

    Kind kind = Kind::null;
    Location where;
    std::string scalar;  ///< the scalar's text, for Kind::scalar
    bool quoted = false; ///< a quoted scalar is always a string
    std::vector<Node> items;                                 ///< Kind::sequence
    std::vector<std::pair<std::string, Node>> fields;        ///< Kind::map, in file order
    std::vector<Location> key_locations;                     ///< Kind::map: where each key is

    // Declared here and defaulted in node.cpp: Node is incomplete inside its own definition, and
    // clang (with libstdc++, C++20) rejects the implicit members of vector<pair<string, Node>>.
    Node();
    Node(const Node&);
    Node(Node&&) noexcept;
    Node& operator=(const Node&);
    Node& operator=(Node&&) noexcept;
    ~Node();

    const Node* find(std::string_view key) const;
    Node* find(std::string_view key);
    /// "scalar", "list", "map" or "null", for messages.
    const char* kind_name() const;
};

/// The node at a dotted path below `root` ("hidden", "heads[2]", "a.b[0].c"); null if absent. A
/// bracket that is not a number selects the list item whose `name` is that text ("units[dma]").
const Node* find_path(const Node& root, std::string_view path);
Node* find_path(Node& root, std::string_view path);

/// The offset of the first byte of `s` that does not belong to valid UTF-8 (overlong forms,
/// surrogates and code points above U+10FFFF are invalid), or npos when all of `s` is valid. Also
/// used by the data readers (engine/tokenizer, engine/training/glue.cpp).
std::size_t invalid_utf8_at(std::string_view s);

/// Parses a YAML file and resolves its includes. Problems (unreadable file, malformed YAML, a
/// missing or cyclic include) are added to `diags`; the returned node is then partial.
Node load_file(const std::filesystem::path& file, Diagnostics& diags);

/// Parses YAML text; `source` names it in diagnostics. Includes resolve relative to `base_dir`.
Node load_string(std::string_view text, const std::string& source, Diagnostics& diags,
                 const std::filesystem::path& base_dir = {});

/// Applies one `PATH=VALUE` override (VALUE is parsed as YAML). PATH is keys separated by '.',
/// each optionally followed by list selectors: `[2]` (the item at index 2; `.2` on a list too) or
/// `[mac_lane]` (the item whose `name` is mac_lane), e.g.
/// `processing_elements.units[mac_lane].count=32`. Intermediate maps are created as needed; list
/// items must exist. A list of named items set onto a list of named items merges by name: an item
/// of the same name merges the new item's fields in (maps field by field, recursively), a new name
/// is appended. Anything else replaces the value. Whether the path is a valid key is checked later, by validation, like any other key.
/// A malformed override (or a selector with no such item) is added to `diags` with file "--set".
void apply_override(Node& root, std::string_view expr, Diagnostics& diags);

}  // namespace transcode::config
