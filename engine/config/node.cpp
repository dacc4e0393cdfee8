#include "config/node.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace fs = std::filesystem;

namespace transcode::config {

const Node* Node::find(std::string_view key) const {
    for (const auto& [k, v] : fields)
        if (k == key) return &v;
    return nullptr;
}

Node* Node::find(std::string_view key) {
    for (auto& [k, v] : fields)
        if (k == key) return &v;
    return nullptr;
}

const char* Node::kind_name() const {
    switch (kind) {
        case Kind::null: return "null";
        case Kind::scalar: return "scalar";
        case Kind::sequence: return "list";
        case Kind::map: return "map";
    }
    return "?";
}

namespace {

Location mark_location(const std::string& file, const YAML::Mark& m, int column_offset = 0) {
    return Location{file, m.line + 1, m.column + 1 + column_offset};
}

struct Loader {
    Diagnostics& diags;
    std::vector<fs::path> include_stack;  // canonical paths of the files being loaded, for cycles

    Node convert(const YAML::Node& y, const std::string& file, const std::string& path, int column_offset = 0) {
        Node n;
        n.where = mark_location(file, y.Mark(), column_offset);
        switch (y.Type()) {
            case YAML::NodeType::Undefined:
            case YAML::NodeType::Null:
                n.kind = Node::Kind::null;
                break;
            case YAML::NodeType::Scalar:
                n.kind = Node::Kind::scalar;
                n.scalar = y.Scalar();
                n.quoted = y.Tag() == "!";
                break;
            case YAML::NodeType::Sequence: {
                n.kind = Node::Kind::sequence;
                std::size_t i = 0;
                for (const auto& item : y) n.items.push_back(convert(item, file, fmt::format("{}[{}]", path, i++), column_offset));
                break;
            }
            case YAML::NodeType::Map:
                n.kind = Node::Kind::map;
                for (auto it = y.begin(); it != y.end(); ++it) {
                    const Location key_loc = mark_location(file, it->first.Mark(), column_offset);
                    if (!it->first.IsScalar()) {
                        diags.add(key_loc, path, "map keys must be plain names", "syntax");
                        continue;
                    }
                    const std::string key = it->first.Scalar();
                    const std::string child_path = path.empty() ? key : path + "." + key;
                    if (n.find(key) != nullptr) {
                        diags.add(key_loc, child_path, fmt::format("duplicate key '{}'", key), "duplicate-key");
                        continue;
                    }
                    n.fields.emplace_back(key, convert(it->second, file, child_path, column_offset));
                    n.key_locations.push_back(key_loc);
                }
                break;
        }
        return n;
    }

    // Resolves `include:` keys depth-first: the included map is the base, local keys override.
    void resolve_includes(Node& n, const fs::path& base_dir, const std::string& path) {
        if (n.kind == Node::Kind::sequence) {
            for (std::size_t i = 0; i < n.items.size(); ++i) resolve_includes(n.items[i], base_dir, fmt::format("{}[{}]", path, i));
            return;
        }
        if (n.kind != Node::Kind::map) return;
        for (auto& [k, v] : n.fields) resolve_includes(v, base_dir, path.empty() ? k : path + "." + k);

        auto it = std::find_if(n.fields.begin(), n.fields.end(), [](const auto& f) { return f.first == "include"; });
        if (it == n.fields.end()) return;
        const std::string inc_path = path.empty() ? "include" : path + ".include";
        const Node inc = it->second;
        const auto idx = static_cast<std::size_t>(it - n.fields.begin());
        n.fields.erase(it);
        n.key_locations.erase(n.key_locations.begin() + static_cast<std::ptrdiff_t>(idx));
        if (inc.kind != Node::Kind::scalar || inc.scalar.empty()) {
            diags.add(inc.where, inc_path, fmt::format("expected a relative file path, got a {}", inc.kind_name()), "include");
            return;
        }
        const fs::path target = base_dir / inc.scalar;
        std::error_code ec;
        const fs::path canon = fs::weakly_canonical(target, ec);
        if (std::find(include_stack.begin(), include_stack.end(), canon) != include_stack.end()) {
            diags.add(inc.where, inc_path, fmt::format("include cycle: '{}' includes itself", inc.scalar), "include");
            return;
        }
        if (!fs::is_regular_file(target)) {
            diags.add(inc.where, inc_path, fmt::format("included file '{}' not found (looked for {})", inc.scalar, target.string()), "include");
            return;
        }
        Node base = load(target);
        if (base.kind == Node::Kind::null) return;  // errors already reported
        if (base.kind != Node::Kind::map) {
            diags.add(inc.where, inc_path, fmt::format("included file '{}' must hold a map, not a {}", inc.scalar, base.kind_name()), "include");
            return;
        }
        const Location where = n.where;
        merge_into(base, std::move(n));
        base.where = where;
        n = std::move(base);
    }

    // Overlays `top` onto `base`: maps merge key by key, anything else replaces.
    static void merge_into(Node& base, Node&& top) {
        for (std::size_t i = 0; i < top.fields.size(); ++i) {
            auto& [k, v] = top.fields[i];
            Node* existing = base.find(k);
            if (existing != nullptr && existing->kind == Node::Kind::map && v.kind == Node::Kind::map) {
                merge_into(*existing, std::move(v));
            } else if (existing != nullptr) {
                *existing = std::move(v);
                for (std::size_t j = 0; j < base.fields.size(); ++j)
                    if (base.fields[j].first == k) base.key_locations[j] = top.key_locations[i];
            } else {
                base.fields.emplace_back(k, std::move(v));
                base.key_locations.push_back(top.key_locations[i]);
            }
        }
    }

    Node parse(std::string_view text, const std::string& source, const fs::path& base_dir) {
        YAML::Node y;
        try {
            y = YAML::Load(std::string(text));
        } catch (const YAML::Exception& e) {
            diags.add(mark_location(source, e.mark), "", "malformed YAML: " + e.msg, "syntax");
            return Node{};
        }
        Node n = convert(y, source, "");
        resolve_includes(n, base_dir, "");
        return n;
    }

    Node load(const fs::path& file) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            diags.add(Location{file.string(), 1, 1}, "", "cannot open file", "file");
            return Node{};
        }
        std::stringstream ss;
        ss << in.rdbuf();
        std::error_code ec;
        include_stack.push_back(fs::weakly_canonical(file, ec));
        Node n = parse(ss.str(), file.string(), file.parent_path());
        include_stack.pop_back();
        return n;
    }
};

}  // namespace

Node load_file(const fs::path& file, Diagnostics& diags) {
    Loader loader{diags, {}};
    if (fs::is_directory(file)) {
        diags.add(Location{file.string(), 1, 1}, "", "is a directory, not a YAML file", "file");
        return Node{};
    }
    return loader.load(file);
}

Node load_string(std::string_view text, const std::string& source, Diagnostics& diags, const fs::path& base_dir) {
    Loader loader{diags, {}};
    return loader.parse(text, source, base_dir);
}

void apply_override(Node& root, std::string_view expr, Diagnostics& diags) {
    const auto eq = expr.find('=');
    const std::string text(expr);
    if (eq == std::string_view::npos) {
        diags.add(Location{"--set", 1, 1}, "", fmt::format("'{}' is not of the form PATH=VALUE", text), "override");
        return;
    }
    const std::string path_text(expr.substr(0, eq));
    std::vector<std::pair<std::string, int>> segments;  // name, 1-based column
    std::size_t start = 0;
    while (true) {
        const auto dot = path_text.find('.', start);
        const std::string seg = path_text.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (seg.empty()) {
            diags.add(Location{"--set", 1, static_cast<int>(start) + 1}, path_text,
                      fmt::format("'{}' has an empty path segment", text), "override");
            return;
        }
        segments.emplace_back(seg, static_cast<int>(start) + 1);
        if (dot == std::string::npos) break;
        start = dot + 1;
    }

    const int value_column = static_cast<int>(eq) + 2;
    YAML::Node y;
    try {
        y = YAML::Load(std::string(expr.substr(eq + 1)));
    } catch (const YAML::Exception& e) {
        diags.add(Location{"--set", 1, value_column + e.mark.column}, path_text, "malformed YAML value: " + e.msg, "override");
        return;
    }
    Diagnostics local;
    Loader loader{local, {}};
    Node value = loader.convert(y, "--set", path_text, value_column - 1);
    for (auto& d : local.items()) diags.add(d.where, d.path, d.message, d.rule);
    if (value.kind == Node::Kind::null) value.where = Location{"--set", 1, value_column};

    if (root.kind == Node::Kind::null) {
        root.kind = Node::Kind::map;
        root.where = Location{"--set", 1, 1};
    }
    Node* cur = &root;
    std::string walked;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const auto& [name, col] = segments[i];
        if (cur->kind != Node::Kind::map) {
            diags.add(Location{"--set", 1, col}, walked, fmt::format("cannot set '{}': '{}' is a {}, not a map", path_text, walked, cur->kind_name()),
                      "override");
            return;
        }
        walked = walked.empty() ? name : walked + "." + name;
        Node* next = cur->find(name);
        if (next == nullptr) {
            Node fresh;
            fresh.kind = Node::Kind::map;
            fresh.where = Location{"--set", 1, col};
            cur->fields.emplace_back(name, std::move(fresh));
            cur->key_locations.push_back(Location{"--set", 1, col});
            next = &cur->fields.back().second;
        } else {
            for (std::size_t j = 0; j < cur->fields.size(); ++j)
                if (cur->fields[j].first == name) cur->key_locations[j] = Location{"--set", 1, col};
        }
        if (i + 1 == segments.size()) {
            *next = std::move(value);
            return;
        }
        cur = next;
    }
}

}  // namespace transcode::config
