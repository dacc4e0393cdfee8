#include "importers/acceltran_model.hpp"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/node.hpp"

namespace transcode::engine {

namespace {

using config::Node;

struct Importer {
    config::Diagnostics& diags;

    void error(const Node& n, const std::string& path, const std::string& msg) { diags.add(n.where, path, msg, "import"); }

    const Node* key(const Node& root, const char* k) {
        const Node* n = root.find(k);
        if (n == nullptr) error(root, k, fmt::format("required key '{}' is missing", k));
        return n;
    }

    std::optional<std::int64_t> positive(const Node& n, const std::string& path) {
        std::int64_t v = 0;
        const auto& s = n.scalar;
        if (n.kind == Node::Kind::scalar) {
            auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (ec == std::errc() && p == s.data() + s.size() && v > 0) return v;
        }
        error(n, path, fmt::format("expected a positive integer, got {}", n.kind == Node::Kind::scalar ? "'" + s + "'" : std::string("a ") + n.kind_name()));
        return std::nullopt;
    }

    // A list with one entry per layer.
    bool per_layer(const Node* n, const char* name, std::int64_t layers) {
        if (n == nullptr) return false;
        if (n->kind != Node::Kind::sequence) {
            error(*n, name, fmt::format("expected a list with one entry per layer, got a {}", n->kind_name()));
            return false;
        }
        if (static_cast<std::int64_t>(n->items.size()) != layers) {
            error(*n, name, fmt::format("has {} entries but l is {}", n->items.size(), layers));
            return false;
        }
        return true;
    }

    // "sa_sdp_64" -> ("sa-sdp", 64); "c_9_64" -> ("c-9", 64).
    std::optional<std::pair<std::string, std::int64_t>> head(const Node& n, const std::string& path) {
        static const char* known[] = {"sa_sdp", "sa_wma", "l_dft", "l_dct", "c_5", "c_9", "c_13"};
        if (n.kind == Node::Kind::scalar) {
            const auto last = n.scalar.rfind('_');
            if (last != std::string::npos) {
                const std::string op = n.scalar.substr(0, last), dim = n.scalar.substr(last + 1);
                std::int64_t d = 0;
                auto [p, ec] = std::from_chars(dim.data(), dim.data() + dim.size(), d);
                for (const char* k : known)
                    if (op == k && ec == std::errc() && p == dim.data() + dim.size() && d > 0) {
                        std::string ours = op;
                        ours[ours.find('_')] = '-';
                        return std::make_pair(ours, d);
                    }
            }
        }
        error(n, path,
              fmt::format("unknown head op {}; expected type_variant_headdim with type_variant one of sa_sdp, sa_wma, l_dft, l_dct, c_5, c_9, c_13 "
                          "(e.g. sa_sdp_64)",
                          n.kind == Node::Kind::scalar ? "'" + n.scalar + "'" : std::string("(a ") + n.kind_name() + ")"));
        return std::nullopt;
    }
};

std::string yaml_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
    return out + "]";
}

}  // namespace

std::string import_acceltran_model(const std::filesystem::path& file) {
    config::Diagnostics diags;
    const Node root = config::load_file(file, diags);
    diags.throw_if_any();
    Importer im{diags};
    if (root.kind != Node::Kind::map) {
        im.error(root, "", fmt::format("expected a JSON object with keys l, o, h, f; got a {}", root.kind_name()));
        diags.throw_if_any();
    }
    for (const auto& [k, v] : root.fields)
        if (k != "l" && k != "o" && k != "h" && k != "f") im.error(v, k, fmt::format("unknown key '{}'; a model dictionary has l, o, h and f", k));
    const Node* l = im.key(root, "l");
    const Node* o = im.key(root, "o");
    const Node* h = im.key(root, "h");
    const Node* f = im.key(root, "f");
    if (l == nullptr || o == nullptr || h == nullptr || f == nullptr) diags.throw_if_any();
    const auto layers = im.positive(*l, "l");
    if (!layers) diags.throw_if_any();
    const bool ok_o = im.per_layer(o, "o", *layers), ok_h = im.per_layer(h, "h", *layers), ok_f = im.per_layer(f, "f", *layers);
    diags.throw_if_any();
    (void)ok_o, (void)ok_h, (void)ok_f;

    std::vector<std::string> hidden, heads, dims, ff;
    for (std::int64_t i = 0; i < *layers; ++i) {
        const auto ui = static_cast<std::size_t>(i);
        if (auto v = im.positive(h->items[ui], fmt::format("h[{}]", i))) hidden.push_back(std::to_string(*v));
        const Node& ops = o->items[ui];
        std::vector<std::string> layer_heads, layer_dims, layer_ff;
        if (ops.kind != Node::Kind::sequence || ops.items.empty())
            im.error(ops, fmt::format("o[{}]", i), "expected a non-empty list of head ops");
        else
            for (std::size_t j = 0; j < ops.items.size(); ++j)
                if (auto hd = im.head(ops.items[j], fmt::format("o[{}][{}]", i, j))) {
                    layer_heads.push_back(hd->first);
                    layer_dims.push_back(std::to_string(hd->second));
                }
        const Node& sizes = f->items[ui];
        if (sizes.kind != Node::Kind::sequence || sizes.items.empty())
            im.error(sizes, fmt::format("f[{}]", i), "expected a non-empty list of feed-forward sizes");
        else
            for (std::size_t j = 0; j < sizes.items.size(); ++j)
                if (auto v = im.positive(sizes.items[j], fmt::format("f[{}][{}]", i, j))) layer_ff.push_back(std::to_string(*v));
        heads.push_back("    - " + yaml_list(layer_heads));
        dims.push_back("    - " + yaml_list(layer_dims));
        ff.push_back("    - " + yaml_list(layer_ff));
    }
    diags.throw_if_any();

    std::string out = fmt::format("# Imported from {} by `transcode import acceltran-model`.\nname: {}\nfamily: flexibert\nparams:\n  layers: {}\n  hidden: {}\n",
                                  file.filename().string(), nlohmann::json(file.stem().string()).dump(), *layers, yaml_list(hidden));
    auto block = [&](const char* key, const std::vector<std::string>& rows) {
        out += fmt::format("  {}:\n", key);
        for (const auto& r : rows) out += r + "\n";
    };
    block("heads", heads);
    block("head_dim", dims);
    block("ff", ff);
    return out;
}

}  // namespace transcode::engine
