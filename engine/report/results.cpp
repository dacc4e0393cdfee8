#include "report/results.hpp"

#include <fstream>

#include <fmt/format.h>

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

void prepare_output_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw ConfigError(fmt::format("output folder '{}': cannot create it: {}", dir.string(), ec ? ec.message() : "a file of that name exists"));
}

void write_json_file(const fs::path& file, const nlohmann::json& doc) {
    if (file.has_parent_path()) fs::create_directories(file.parent_path());
    const fs::path tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw ConfigError(fmt::format("{}: cannot write results (is the output folder writable?)", file.string()));
        out << doc.dump(2) << '\n';
        out.flush();
        if (!out) throw Error(fmt::format("{}: write failed (disk full?)", file.string()));
    }
    fs::rename(tmp, file);
}

}  // namespace transcode::engine
