#include "config/node.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "transcode/input_file.hpp"

namespace fs = std::filesystem;

namespace transcode::config {

Node::Node() = default;
Node::Node(const Node&) = default;
Node::Node(Node&&) noexcept = default;
Node& Node::operator=(const Node&) = default;
Node& Node::operator=(Node&&) noexcept = default;
Node::~Node() = default;

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

// yaml-cpp gives a null mark (line and column -1) for an empty document and for some errors:
// those are located at the start of the text, never at line 0.
Location mark_location(const std::string& file, const YAML::Mark& m, int column_offset = 0) {
    if (m.is_null() || m.line < 0 || m.column < 0) return Location{file, 1, 1 + column_offset};
    return Location{file, m.line + 1, m.column + 1 + column_offset};
}

}  // namespace

std::size_t invalid_utf8_at(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        // Sequence length and the allowed range of its second byte (RFC 3629, table 3-7 of Unicode).
        const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        const unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
        const unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        if (c < 0xC2 || c > 0xF4) return i;
        if (s.size() - i < len) return i;
        const auto c1 = static_cast<unsigned char>(s[i + 1]);
        if (c1 < lo || c1 > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
        i += len;
    }
    return std::string_view::npos;
}

namespace {

// "" when `text` is valid UTF-8, else what is wrong with it; `what` names it ("this value").
std::string utf8_problem(std::string_view text, const char* what) {
    const auto bad = invalid_utf8_at(text);
    if (bad == std::string_view::npos) return "";
    return fmt::format("{} is not valid UTF-8 (byte {} is 0x{:02X}); YAML text must be UTF-8", what, bad + 1, static_cast<unsigned char>(text[bad]));
}

// The number of values (scalars, nulls, aliases, lists, maps) of `text`'s first document, counted
// from yaml-cpp's event stream, which builds no tree: past `limit` it throws TooManyValues at the
// value that crossed it. YAML::Load builds its whole tree before Loader's own budget can apply;
// this pre-pass keeps that tree within the budget (a 16 MiB file of `[1,1,1,...]` would otherwise
// take gigabytes).
struct TooManyValues {
    YAML::Mark mark;
};

class ValueCounter : public YAML::EventHandler {
public:
    explicit ValueCounter(std::size_t limit) : limit_(limit) {}
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m, false, false); }
    void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m, false, false); }
    void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { node(m, false, false); }
    void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { node(m, true, false); }
    void OnSequenceEnd() override { open_.pop_back(); }
    void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { node(m, true, true); }
    void OnMapEnd() override { open_.pop_back(); }

private:
    struct Open {
        bool map;
        bool expect_key;
    };
    // Counts every node except map keys, as Loader::convert does.
    void node(const YAML::Mark& m, bool opens, bool is_map) {
        bool is_key = false;
        if (!open_.empty() && open_.back().map) {
            is_key = open_.back().expect_key;
            open_.back().expect_key = !open_.back().expect_key;
        }
        if (!is_key && ++values_ > limit_) throw TooManyValues{m};
        if (opens) open_.push_back({is_map, true});
    }
    std::size_t limit_;
    std::size_t values_ = 0;
    std::vector<Open> open_;
};

// An istream over `text` without a copy (a 16 MiB file is not copied for each of the two passes).
class ViewBuf : public std::streambuf {
public:
    explicit ViewBuf(std::string_view text) {
        char* p = const_cast<char*>(text.data());  // only read: the get area of an input buffer
        setg(p, p, p + text.size());
    }
};

// Parses the first document of `text` into a yaml-cpp tree once the pre-pass has found it within
// `limit` values.
YAML::Node load_bounded(std::string_view text, std::size_t limit) {
    {
        ViewBuf buf(text);
        std::istream in(&buf);
        YAML::Parser parser(in);
        ValueCounter counter(limit);
        parser.HandleNextDocument(counter);
    }
    ViewBuf buf(text);
    std::istream in(&buf);
    return YAML::Load(in);
}

struct Loader {
    // Limits on what one load (a file and its includes, or one --set value) may build. yaml-cpp
    // shares aliased nodes, but Node copies them: without a budget, a few lines of nested aliases
    // expand to billions of values, and an alias inside its own anchor to an endless recursion.
    static constexpr int max_depth = 100;
    static constexpr std::size_t max_values = 100000;
    // Files in one chain of includes (the top file counts): each level costs stack, so a chain of
    // thousands would overflow it. No shipped config goes past 3.
    static constexpr std::size_t max_include_depth = 32;

    Diagnostics& diags;
    std::vector<fs::path> include_stack;  // canonical paths of the files being loaded, for cycles
    // Files this load has parsed without a diagnostic, includes resolved, by path as spelled (so
    // that every location reads as it would have): a file included by several units (an
    // accelerator's component files) is parsed once per load.
    // `values` is what it cost the value budget, `height` the longest chain of includes from it
    // (itself included): a reuse is charged both, and a reuse that would break either limit loads
    // the file again, so that the limit's error names the place where it was crossed.
    struct Parsed {
        Node node;
        std::size_t values = 0;
        std::size_t height = 0;
    };
    std::unordered_map<std::string, Parsed> parsed = {};
    std::size_t deepest = 0;  // the longest include_stack of the current load
    std::vector<const YAML::Node*> ancestors = {};  // the collections being converted, for alias cycles
    std::size_t values = 0;
    bool over_budget = false;

    // Scalars and keys must be UTF-8: they are echoed in messages and written to results.json.
    bool check_utf8(const std::string& text, const Location& where, const std::string& path, const char* what) {
        const std::string problem = utf8_problem(text, what);
        if (problem.empty()) return true;
        diags.add(where, path, problem, "encoding");
        return false;
    }

    Node convert(const YAML::Node& y, const std::string& file, const std::string& path, int column_offset = 0) {
        Node n;
        n.where = mark_location(file, y.Mark(), column_offset);
        if (over_budget) return n;
        if (++values > max_values) {
            over_budget = true;
            diags.add(n.where, path, fmt::format("the document holds more than {} values (each use of an alias counts in full)", max_values),
                      "limit");
            return n;
        }
        if (y.IsSequence() || y.IsMap()) {
            for (const YAML::Node* a : ancestors)
                if (a->is(y)) {
                    diags.add(n.where, path, "this alias refers to a node that contains it, so it would nest without end", "alias");
                    return n;
                }
            if (ancestors.size() >= static_cast<std::size_t>(max_depth)) {
                diags.add(n.where, path, fmt::format("nested more than {} levels deep", max_depth), "limit");
                return n;
            }
        }
        switch (y.Type()) {
            case YAML::NodeType::Undefined:
            case YAML::NodeType::Null:
                n.kind = Node::Kind::null;
                break;
            case YAML::NodeType::Scalar:
                n.kind = Node::Kind::scalar;
                n.scalar = y.Scalar();
                n.quoted = y.Tag() == "!";
                check_utf8(n.scalar, n.where, path, "this value");
                break;
            case YAML::NodeType::Sequence: {
                n.kind = Node::Kind::sequence;
                ancestors.push_back(&y);
                std::size_t i = 0;
                for (const auto& item : y) n.items.push_back(convert(item, file, fmt::format("{}[{}]", path, i++), column_offset));
                ancestors.pop_back();
                break;
            }
            case YAML::NodeType::Map:
                n.kind = Node::Kind::map;
                ancestors.push_back(&y);
                // Keys seen so far, hashed: Node::find is linear, so checking each key with it
                // made a map of 60,000 keys take 8 s.
                std::unordered_set<std::string> keys;
                for (auto it = y.begin(); it != y.end(); ++it) {
                    const Location key_loc = mark_location(file, it->first.Mark(), column_offset);
                    if (!it->first.IsScalar()) {
                        diags.add(key_loc, path, "map keys must be plain names", "syntax");
                        continue;
                    }
                    const std::string key = it->first.Scalar();
                    if (!check_utf8(key, key_loc, path, "this key")) continue;
                    const std::string child_path = path.empty() ? key : path + "." + key;
                    if (!keys.insert(key).second) {
                        diags.add(key_loc, child_path, fmt::format("duplicate key '{}'", key), "duplicate-key");
                        continue;
                    }
                    n.fields.emplace_back(key, convert(it->second, file, child_path, column_offset));
                    n.key_locations.push_back(key_loc);
                }
                ancestors.pop_back();
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
        if (include_stack.size() >= max_include_depth) {
            diags.add(inc.where, inc_path,
                      fmt::format("included file '{}' would be file {} of one chain of includes; a chain holds at most {} files", inc.scalar,
                                  include_stack.size() + 1, max_include_depth),
                      "limit");
            return;
        }
        // A name the file system rejects (too long, ...), a FIFO or a device is the user's mistake.
        if (const std::string problem = input_file_problem(target, max_config_file_bytes); !problem.empty()) {
            diags.add(inc.where, inc_path,
                      problem == "not found" ? fmt::format("included file '{}' not found (looked for {})", inc.scalar, target.string())
                                             : fmt::format("included file '{}' {}", inc.scalar, problem),
                      is_size_problem(problem) ? "limit" : "include");
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

    // Overlays `top` onto `base`: maps merge key by key, anything else replaces. The keys of
    // `base` are indexed once (looking each one up with Node::find made it quadratic).
    static void merge_into(Node& base, Node&& top) {
        std::unordered_map<std::string, std::size_t> index;
        index.reserve(base.fields.size() + top.fields.size());
        for (std::size_t j = 0; j < base.fields.size(); ++j) index.emplace(base.fields[j].first, j);
        for (std::size_t i = 0; i < top.fields.size(); ++i) {
            auto& [k, v] = top.fields[i];
            const auto found = index.find(k);
            if (found == index.end()) {
                index.emplace(k, base.fields.size());
                base.fields.emplace_back(k, std::move(v));
                base.key_locations.push_back(top.key_locations[i]);
                continue;
            }
            Node& existing = base.fields[found->second].second;
            if (existing.kind == Node::Kind::map && v.kind == Node::Kind::map) {
                merge_into(existing, std::move(v));
            } else {
                existing = std::move(v);
                base.key_locations[found->second] = top.key_locations[i];
            }
        }
    }

    Node parse(std::string_view text, const std::string& source, const fs::path& base_dir) {
        YAML::Node y;
        try {
            y = load_bounded(text, max_values);
        } catch (const TooManyValues& e) {
            diags.add(mark_location(source, e.mark), "", fmt::format("the document holds more than {} values", max_values), "limit");
            return Node{};
        } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own limit, deeper than ours
            diags.add(mark_location(source, e.mark), "", fmt::format("nested more than {} levels deep", max_depth), "limit");
            return Node{};
        } catch (const YAML::Exception& e) {
            diags.add(mark_location(source, e.mark), "", "malformed YAML: " + e.msg, "syntax");
            return Node{};
        }
        Node n = convert(y, source, "");
        resolve_includes(n, base_dir, "");
        return n;
    }

    Node load(const fs::path& file) {
        // A reuse is not read again: resolve_includes has just checked the path (found, a regular
        // file, within the size limit) for this use.
        const std::size_t outer = include_stack.size();
        if (const auto hit = parsed.find(file.string());
            hit != parsed.end() && values + hit->second.values <= max_values && outer + hit->second.height <= max_include_depth) {
            values += hit->second.values;
            deepest = std::max(deepest, outer + hit->second.height);
            return hit->second.node;
        }
        std::string text;
        if (const std::string problem = read_input_file(file, max_config_file_bytes, text); !problem.empty()) {
            if (problem == "not found") diags.add(Location{file.string(), 1, 1}, "", "cannot open file", "file");
            else if (problem == "is a directory, not a regular file") diags.add(Location{file.string(), 1, 1}, "", "is a directory, not a YAML file", "file");
            else if (is_size_problem(problem))
                diags.add(Location{file.string(), 1, 1}, "", fmt::format("the file {} for a configuration file", problem), "limit");
            else diags.add(Location{file.string(), 1, 1}, "", fmt::format("the file {}", problem), "file");
            return Node{};
        }
        std::error_code ec;
        const std::size_t values_before = values, diags_before = diags.size(), deepest_before = deepest;
        include_stack.push_back(fs::weakly_canonical(file, ec));
        deepest = include_stack.size();
        Node n = parse(text, file.string(), file.parent_path());
        include_stack.pop_back();
        const std::size_t height = deepest - outer;
        deepest = std::max(deepest, deepest_before);
        if (diags.size() == diags_before && !over_budget) parsed.insert_or_assign(file.string(), Parsed{n, values - values_before, height});
        return n;
    }
};

}  // namespace

namespace {

// The walk behind both find_path overloads (N is Node or const Node).
template <class N>
N* walk_path(N& root, std::string_view path) {
    N* cur = &root;
    std::size_t i = 0;
    while (i < path.size() && cur != nullptr) {
        if (path[i] == '.') {
            ++i;
            continue;
        }
        if (path[i] == '[') {
            const auto close = path.find(']', i);
            if (close == std::string_view::npos || cur->kind != Node::Kind::sequence) return nullptr;
            const std::string_view sel = path.substr(i + 1, close - i - 1);
            N* next = nullptr;
            if (!sel.empty() && std::all_of(sel.begin(), sel.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
                std::size_t index = 0;
                for (char ch : sel) {
                    index = index * 10 + static_cast<std::size_t>(ch - '0');
                    if (index >= cur->items.size()) break;  // also keeps a long number from overflowing
                }
                next = index < cur->items.size() ? &cur->items[index] : nullptr;
            } else {
                for (auto& item : cur->items) {
                    const Node* name = item.kind == Node::Kind::map ? item.find("name") : nullptr;
                    if (name != nullptr && name->scalar == sel) next = &item;
                }
            }
            cur = next;
            i = close + 1;
            continue;
        }
        const auto end = path.find_first_of(".[", i);
        const std::string_view key = path.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
        cur = cur->kind == Node::Kind::map ? cur->find(key) : nullptr;
        i = end == std::string_view::npos ? path.size() : end;
    }
    return cur;
}

}  // namespace

const Node* find_path(const Node& root, std::string_view path) { return walk_path(root, path); }
Node* find_path(Node& root, std::string_view path) { return walk_path(root, path); }

Node load_file(const fs::path& file, Diagnostics& diags) {
    Loader loader{diags, {}};
    return loader.load(file);
}

Node load_string(std::string_view text, const std::string& source, Diagnostics& diags, const fs::path& base_dir) {
    Loader loader{diags, {}};
    return loader.parse(text, source, base_dir);
}

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// The name of a list item that is a map with a scalar `name` field, or nullptr.
const std::string* item_name(const Node& item) {
    const Node* name = item.kind == Node::Kind::map ? item.find("name") : nullptr;
    return name != nullptr && name->kind == Node::Kind::scalar ? &name->scalar : nullptr;
}

bool all_named(const Node& list) {
    return std::all_of(list.items.begin(), list.items.end(), [](const Node& item) { return item_name(item) != nullptr; });
}

void merge_into(Node& target, Node value);

// `value` into `target`: a list of named items merges into a list of named items by name (an item
// of the same name merges the new item's fields in, below); a new name is appended. Anything else
// replaces the target.
void assign(Node& target, Node value) {
    if (target.kind == Node::Kind::sequence && value.kind == Node::Kind::sequence && !target.items.empty() && !value.items.empty() &&
        all_named(target) && all_named(value)) {
        for (Node& item : value.items) {
            const auto same = std::find_if(target.items.begin(), target.items.end(), [&](const Node& t) { return *item_name(t) == *item_name(item); });
            if (same == target.items.end()) target.items.push_back(std::move(item));
            else merge_into(*same, std::move(item));
        }
        return;
    }
    target = std::move(value);
}

// A named item's fields into the item of the same name: a map field merges field by field (so
// `params: {size_mb: 16}` keeps the other params), anything else is assigned.
void merge_into(Node& target, Node value) {
    if (target.kind != Node::Kind::map || value.kind != Node::Kind::map) return assign(target, std::move(value));
    for (std::size_t f = 0; f < value.fields.size(); ++f) {
        auto& [key, field] = value.fields[f];
        Node* old = target.find(key);
        if (old == nullptr) {
            target.fields.emplace_back(key, std::move(field));
            target.key_locations.push_back(value.key_locations[f]);
            continue;
        }
        for (std::size_t j = 0; j < target.fields.size(); ++j)
            if (target.fields[j].first == key) target.key_locations[j] = value.key_locations[f];
        merge_into(*old, std::move(field));
    }
}

}  // namespace

void apply_override(Node& root, std::string_view expr, Diagnostics& diags) {
    const auto eq = expr.find('=');
    const std::string text(expr);
    if (eq == std::string_view::npos) {
        diags.add(Location{"--set", 1, 1}, "", fmt::format("'{}' is not of the form PATH=VALUE", text), "override");
        return;
    }
    const std::string path_text(expr.substr(0, eq));
    // The path: keys separated by '.', each optionally followed by list selectors `[index]` or
    // `[name]` (the item whose `name` is that text).
    struct Step {
        std::string text;
        int column;     ///< 1-based
        bool selector;  ///< [..]
    };
    std::vector<Step> steps;
    std::size_t i = 0;
    const auto bad = [&](std::size_t at, const std::string& message) {
        diags.add(Location{"--set", 1, static_cast<int>(at) + 1}, path_text, message, "override");
    };
    while (true) {
        const auto end = path_text.find_first_of(".[", i);
        const std::string seg = path_text.substr(i, end == std::string::npos ? std::string::npos : end - i);
        if (seg.empty()) return bad(i, fmt::format("'{}' has an empty path segment", text));
        if (const std::string problem = utf8_problem(seg, "this key"); !problem.empty()) {
            diags.add(Location{"--set", 1, static_cast<int>(i) + 1}, path_text, problem, "encoding");
            return;
        }
        steps.push_back({seg, static_cast<int>(i) + 1, false});
        i = end == std::string::npos ? path_text.size() : end;
        while (i < path_text.size() && path_text[i] == '[') {
            const auto close = path_text.find(']', i);
            if (close == std::string::npos) return bad(i, fmt::format("'{}' has a '[' without its ']'", text));
            const std::string sel = path_text.substr(i + 1, close - i - 1);
            if (sel.empty()) return bad(i, fmt::format("'{}' has an empty []: give an item's index or name", text));
            steps.push_back({sel, static_cast<int>(i) + 1, true});
            i = close + 1;
        }
        if (i == path_text.size()) break;
        if (path_text[i] != '.') return bad(i, fmt::format("'{}': expected '.' or '[' after ']'", text));
        ++i;
    }

    const int value_column = static_cast<int>(eq) + 2;
    YAML::Node y;
    try {
        y = load_bounded(expr.substr(eq + 1), Loader::max_values);
    } catch (const TooManyValues& e) {
        diags.add(Location{"--set", 1, value_column + std::max(e.mark.column, 0)}, path_text,
                  fmt::format("the document holds more than {} values", Loader::max_values), "limit");
        return;
    } catch (const YAML::DeepRecursion& e) {
        diags.add(Location{"--set", 1, value_column}, path_text, fmt::format("nested more than {} levels deep", Loader::max_depth), "limit");
        return;
    } catch (const YAML::Exception& e) {
        diags.add(Location{"--set", 1, value_column + std::max(e.mark.column, 0)}, path_text, "malformed YAML value: " + e.msg, "override");
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
    for (std::size_t s = 0; s < steps.size(); ++s) {
        const Step& step = steps[s];
        const bool by_index = step.selector || (cur->kind == Node::Kind::sequence && all_digits(step.text));
        Node* next = nullptr;
        if (by_index || step.selector) {
            // A list item, by index (`[2]`, or `.2` on a list) or by name (`[mac_lane]`).
            if (cur->kind != Node::Kind::sequence) {
                diags.add(Location{"--set", 1, step.column}, walked,
                          fmt::format("cannot select '[{}]' in '{}': '{}' is a {}, not a list", step.text, path_text, walked, cur->kind_name()),
                          "override");
                return;
            }
            if (all_digits(step.text)) {
                std::size_t index = 0;
                for (char ch : step.text) {
                    index = index * 10 + static_cast<std::size_t>(ch - '0');
                    if (index >= cur->items.size()) break;  // also keeps a long number from overflowing
                }
                if (index >= cur->items.size()) {
                    diags.add(Location{"--set", 1, step.column}, walked,
                              fmt::format("'{}' has {} item(s); there is no item {} (indices start at 0)", walked, cur->items.size(), step.text),
                              "override");
                    return;
                }
                next = &cur->items[index];
            } else {
                std::vector<std::string> names;
                for (Node& item : cur->items) {
                    const std::string* name = item_name(item);
                    if (name == nullptr) continue;
                    names.push_back(*name);
                    if (*name == step.text) next = &item;
                }
                if (next == nullptr) {
                    diags.add(Location{"--set", 1, step.column}, walked,
                              names.empty() ? fmt::format("'{}' has no item named '{}': its items have no names; select one by index", walked, step.text)
                                            : fmt::format("'{}' has no item named '{}'; its items: {}", walked, step.text, fmt::join(names, ", ")),
                              "override");
                    return;
                }
            }
            walked += "[" + step.text + "]";
        } else {
            if (cur->kind != Node::Kind::map) {
                diags.add(Location{"--set", 1, step.column}, walked,
                          fmt::format("cannot set '{}': '{}' is a {}, not a map", path_text, walked, cur->kind_name()), "override");
                return;
            }
            walked = walked.empty() ? step.text : walked + "." + step.text;
            next = cur->find(step.text);
            if (next == nullptr) {
                Node fresh;
                fresh.kind = Node::Kind::map;
                fresh.where = Location{"--set", 1, step.column};
                cur->fields.emplace_back(step.text, std::move(fresh));
                cur->key_locations.push_back(Location{"--set", 1, step.column});
                next = &cur->fields.back().second;
            } else {
                for (std::size_t j = 0; j < cur->fields.size(); ++j)
                    if (cur->fields[j].first == step.text) cur->key_locations[j] = Location{"--set", 1, step.column};
            }
        }
        if (s + 1 == steps.size()) {
            // Swapping a plugin: the params the file gave the old plugin are that plugin's, not the
            // new one's, so they go (params set by an earlier --set stay).
            if (!step.selector && step.text == "plugin" && cur->kind == Node::Kind::map && next->kind == Node::Kind::scalar &&
                value.kind == Node::Kind::scalar && next->scalar != value.scalar) {
                for (std::size_t j = 0; j < cur->fields.size(); ++j)
                    if (cur->fields[j].first == "params" && cur->fields[j].second.where.file != "--set") {
                        cur->fields.erase(cur->fields.begin() + static_cast<std::ptrdiff_t>(j));
                        cur->key_locations.erase(cur->key_locations.begin() + static_cast<std::ptrdiff_t>(j));
                        next = cur->find(step.text);  // the erase moved the fields after it
                        break;
                    }
            }
            assign(*next, std::move(value));
            return;
        }
        cur = next;
    }
}

}  // namespace transcode::config
