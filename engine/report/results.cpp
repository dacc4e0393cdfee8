#include "report/results.hpp"

#include <fmt/format.h>

#include "common/atomic_file.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

const char* engine_version() { return TRANSCODE_ENGINE_VERSION; }

nlohmann::json to_json(const Value& v) {
    struct Visitor {
        nlohmann::json operator()(std::monostate) const { return nullptr; }
        nlohmann::json operator()(bool b) const { return b; }
        nlohmann::json operator()(std::int64_t i) const { return i; }
        nlohmann::json operator()(double d) const { return d; }
        nlohmann::json operator()(const std::string& s) const { return s; }
        nlohmann::json operator()(const ValueList& l) const {
            nlohmann::json a = nlohmann::json::array();
            for (const auto& x : l) a.push_back(to_json(x));
            return a;
        }
        nlohmann::json operator()(const ValueMap& m) const {
            nlohmann::json o = nlohmann::json::object();
            for (const auto& [k, x] : m) o[k] = to_json(x);
            return o;
        }
    };
    return std::visit(Visitor{}, v.storage());
}

void write_json_file(const fs::path& file, const nlohmann::json& doc) {
    if (file.has_parent_path()) fs::create_directories(file.parent_path());
    write_file_atomically(file, doc.dump(2) + "\n", "results");
}

}  // namespace transcode::engine
