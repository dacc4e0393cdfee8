#include "report/html_report.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

#include "report/results.hpp"
#include "report/vega_bundle.hpp"
#include "transcode/errors.hpp"

using nlohmann::json;

namespace transcode::engine {

namespace {

constexpr int chart_width = 340;
constexpr int chart_height = 200;

json quantitative(const std::string& field, const std::string& title) {
    return {{"field", field}, {"type", "quantitative"}, {"title", title}};
}
json nominal(const std::string& field, const std::string& title) { return {{"field", field}, {"type", "nominal"}, {"title", title}}; }

json base_spec(const json& rows) {
    return {{"width", chart_width},
            {"height", chart_height},
            {"data", {{"values", rows}}},
            {"config", {{"axisX", {{"labelAngle", -35}, {"labelLimit", 160}}}, {"axis", {{"titleFontSize", 12}}}}}};
}

// The phases in step order (results.json's object keys come sorted by name).
json phase_axis(const std::string& channel_title) {
    json e = nominal("phase", channel_title);
    e["sort"] = {"forward", "backward", "update"};
    return e;
}

// Bars of `y` per `x`, with `color` stacked (or side by side when `grouped`); tooltips show every field.
json bar_chart(const json& rows, const json& x, const json& y, const json& color, bool grouped = false) {
    json s = base_spec(rows);
    s["mark"] = {{"type", "bar"}, {"tooltip", true}};
    s["encoding"] = {{"x", x}, {"y", y}};
    if (!color.is_null()) {
        s["encoding"]["color"] = color;
        if (grouped) s["encoding"]["xOffset"] = {{"field", color["field"]}};
    }
    return s;
}

json line_chart(const json& rows, const json& x, const json& y, const json& color) {
    json s = base_spec(rows);
    s["mark"] = {{"type", "line"}, {"point", true}, {"tooltip", true}};
    s["encoding"] = {{"x", x}, {"y", y}};
    if (!color.is_null()) s["encoding"]["color"] = color;
    return s;
}

double num(const json& j, const char* key, double fallback = 0.0) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

void add(std::vector<ReportChart>& charts, const std::string& section, const std::string& title, json spec) {
    charts.push_back({section, title, std::move(spec)});
}

// --- a simulated step (simulate, train_and_simulate) ---------------------------------------------
void simulation_charts(const ResultsFolder& r, std::vector<ReportChart>& charts) {
    const json& d = r.results;
    const std::string section = d["experiment"]["kind"] == "simulate" ? "Simulated step" : "Simulated training step (measured sparsity)";
    const double clock_hz = d["accelerator"]["clock_hz"].get<double>();
    const double ms_per_cycle = clock_hz > 0 ? 1e3 / clock_hz : 0.0;

    json latency = json::array(), energy = json::array(), timeline = json::array();
    for (const auto& [phase, p] : d["phases"].items()) {
        latency.push_back({{"phase", phase}, {"measure", "span (start to end)"}, {"ms", num(p, "seconds") * 1e3}});
        latency.push_back({{"phase", phase}, {"measure", "only this phase"}, {"ms", num(p, "exclusive_cycles") * ms_per_cycle}});
        energy.push_back({{"phase", phase}, {"energy", "dynamic"}, {"mJ", num(p, "dynamic_j") * 1e3}});
        energy.push_back({{"phase", phase}, {"energy", "leakage"}, {"mJ", num(p, "leakage_j") * 1e3}});
        timeline.push_back({{"phase", phase},
                            {"start_ms", num(p, "start_cycle") * ms_per_cycle},
                            {"end_ms", num(p, "end_cycle") * ms_per_cycle},
                            {"binding", p.value("binding", "")}});
    }
    add(charts, section, "Latency by phase",
        bar_chart(latency, phase_axis("phase"), quantitative("ms", "latency (ms)"), nominal("measure", "cycles counted"), true));
    add(charts, section, "Energy by phase",
        bar_chart(energy, phase_axis("phase"), quantitative("mJ", "energy (mJ)"), nominal("energy", "energy")));
    {
        json s = base_spec(timeline);
        s["mark"] = {{"type", "bar"}, {"tooltip", true}};
        s["encoding"] = {{"y", phase_axis("phase")},
                         {"x", quantitative("start_ms", "time (ms)")},
                         {"x2", {{"field", "end_ms"}}},
                         {"color", nominal("binding", "binding resource")}};
        s["height"] = 120;
        add(charts, section, "Phase timeline (spans overlap: an update starts once its gradient exists)", s);
    }

    json level_time = json::array(), level_bytes = json::array(), level_energy = json::array();
    for (const auto& [level, l] : d["memory"]["levels"].items()) {
        level_time.push_back({{"level", level}, {"ms", num(l, "busy_cycles") * ms_per_cycle}});
        level_bytes.push_back({{"level", level}, {"direction", "read"}, {"MB", num(l, "read_bytes") / 1e6}});
        level_bytes.push_back({{"level", level}, {"direction", "written"}, {"MB", num(l, "write_bytes") / 1e6}});
        level_energy.push_back({{"level", level}, {"mJ", num(l, "dynamic_j") * 1e3}});
    }
    add(charts, section, "Busy time by memory level",
        bar_chart(level_time, nominal("level", "memory level"), quantitative("ms", "busy time (ms)"), nullptr));
    add(charts, section, "Traffic by memory level",
        bar_chart(level_bytes, nominal("level", "memory level"), quantitative("MB", "traffic (MB)"), nominal("direction", "direction"),
                  true));
    add(charts, section, "Dynamic energy by memory level",
        bar_chart(level_energy, nominal("level", "memory level"), quantitative("mJ", "dynamic energy (mJ)"), nullptr));

    json critical = json::array();
    for (const auto& [resource, cycles] : d["critical_path"].items())
        critical.push_back({{"resource", resource}, {"ms", cycles.get<double>() * ms_per_cycle}});
    add(charts, section, "Latency by resource on the critical path",
        bar_chart(critical, nominal("resource", "resource"), quantitative("ms", "critical-path time (ms)"), nullptr));

    json unit_energy = json::array(), area = json::array(), utilisation = json::array();
    for (const auto& [unit, e] : d["energy"]["breakdown"].items()) {
        unit_energy.push_back({{"unit", unit}, {"energy", "dynamic"}, {"mJ", num(e, "dynamic_j") * 1e3}});
        unit_energy.push_back({{"unit", unit}, {"energy", "leakage"}, {"mJ", num(e, "leakage_j") * 1e3}});
    }
    for (const auto& [unit, a] : d["accelerator"]["breakdown"].items()) area.push_back({{"unit", unit}, {"mm2", num(a, "area_mm2")}});
    for (const auto& [unit, u] : d["utilisation"].items()) utilisation.push_back({{"unit", unit}, {"percent", u.get<double>() * 100}});
    add(charts, section, "Energy by unit",
        bar_chart(unit_energy, nominal("unit", "unit group"), quantitative("mJ", "energy (mJ)"), nominal("energy", "energy")));
    if (r.ops) {
        // Op time per unit group and phase: the sum of the op spans (ops overlap, so it can exceed the step).
        const CsvFile& t = *r.ops;
        const std::size_t unit = t.column("unit"), phase = t.column("phase"), cycles = t.column("cycles");
        json op_time = json::array();
        for (const auto& row : t.rows)
            op_time.push_back(
                {{"unit", row[unit]}, {"phase", row[phase]}, {"ms", std::strtod(row[cycles].c_str(), nullptr) * ms_per_cycle}});
        json s = bar_chart(op_time, nominal("unit", "unit group"),
                           {{"aggregate", "sum"}, {"field", "ms"}, {"type", "quantitative"}, {"title", "op time, summed (ms)"}},
                           phase_axis("phase"));
        add(charts, section, "Latency by unit: op time per unit group and phase (ops.csv; ops overlap)", s);
    }
    add(charts, section, "Utilisation by unit kind",
        bar_chart(utilisation, nominal("unit", "unit kind"), quantitative("percent", "utilisation (%)"), nullptr));
    add(charts, section, "Area by unit group", bar_chart(area, nominal("unit", "unit group"), quantitative("mm2", "area (mm²)"), nullptr));
}

// --- training curves (accuracy.epochs) ----------------------------------------------------------
void training_charts(const json& accuracy, const json* baselines, std::vector<ReportChart>& charts) {
    const std::string section = "Training";
    json loss = json::array(), acc = json::array(), lr = json::array();
    for (const auto& e : accuracy["epochs"]) {
        const double epoch = num(e, "epoch");
        loss.push_back({{"epoch", epoch}, {"split", "train"}, {"nats", num(e, "train_loss")}});
        loss.push_back({{"epoch", epoch}, {"split", "validation"}, {"nats", num(e, "validation_loss")}});
        acc.push_back({{"epoch", epoch}, {"split", "train"}, {"percent", 100 * num(e, "train_accuracy")}});
        acc.push_back({{"epoch", epoch}, {"split", "validation"}, {"percent", 100 * num(e, "validation_accuracy")}});
        if (e.contains("learning_rate"))
            lr.push_back({{"epoch", epoch}, {"lr", num(e, "learning_rate")}, {"grad_norm", num(e, "grad_norm")}});
    }
    const json epoch_axis = {{"field", "epoch"}, {"type", "quantitative"}, {"title", "epoch (count)"}, {"axis", {{"tickMinStep", 1}}}};
    add(charts, section, "Loss per epoch",
        line_chart(loss, epoch_axis, quantitative("nats", "mean cross-entropy loss (nats)"), nominal("split", "split")));
    json accuracy_spec = line_chart(acc, epoch_axis, quantitative("percent", "accuracy (%)"), nominal("split", "split"));
    if (baselines != nullptr && baselines->is_object()) {
        json rules = json::array();
        for (const auto& [name, b] : baselines->items())
            if (b.is_object() && b.contains("validation_accuracy") && b["validation_accuracy"].is_number())
                rules.push_back({{"baseline", name}, {"percent", 100 * b["validation_accuracy"].get<double>()}});
        if (!rules.empty()) {
            json lines = accuracy_spec;
            accuracy_spec = {{"width", chart_width}, {"height", chart_height}, {"config", lines["config"]}, {"layer", json::array()}};
            for (const char* top : {"width", "height", "config"}) lines.erase(top);  // top-level only in a layered spec
            accuracy_spec["layer"].push_back(lines);
            accuracy_spec["layer"].push_back(
                {{"data", {{"values", rules}}},
                 {"mark", {{"type", "rule"}, {"strokeDash", {4, 4}}, {"tooltip", true}}},
                 {"encoding",
                  {{"y", quantitative("percent", "accuracy (%)")}, {"strokeDash", nominal("baseline", "validation baseline")}}}});
        }
    }
    add(charts, section, "Accuracy per epoch (dashed: baselines on the validation set)", accuracy_spec);
    if (!lr.empty())
        add(charts, section, "Learning rate at the end of each epoch",
            line_chart(lr, epoch_axis,
                       {{"field", "lr"}, {"type", "quantitative"}, {"title", "learning rate (1/step)"}, {"axis", {{"format", ".1e"}}}},
                       nullptr));
}

// --- sweeps (dynaprop_sweep) ---------------------------------------------------------------------
std::string sweep_label(const json& row) {
    if (row.contains("run") && row["run"].is_string()) return row["run"].get<std::string>();
    static const std::vector<std::string> measured{
        "sparsity", "calibration", "validation_accuracy", "training_latency_s", "training_latency_cycles", "training_energy_j"};
    std::string label;
    for (const auto& [k, v] : row.items())
        if (std::find(measured.begin(), measured.end(), k) == measured.end())
            label += (label.empty() ? "" : ", ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    return label.empty() ? "setting" : label;
}

void sweep_charts(const json& sweep, std::vector<ReportChart>& charts) {
    const std::string section = "Sweep";
    json points = json::array(), sparsity = json::array(), matched = json::array(), curves = json::array();
    for (const auto& row : sweep) {
        const std::string label = sweep_label(row);
        points.push_back({{"setting", label},
                          {"accuracy_percent", 100 * num(row, "validation_accuracy")},
                          {"latency_ms", 1e3 * num(row, "training_latency_s")},
                          {"energy_mJ", 1e3 * num(row, "training_energy_j")}});
        if (row.contains("sparsity") && row["sparsity"].is_object())
            for (const char* role : {"activation", "activation_gradient", "weight_gradient"})
                if (const auto it = row["sparsity"].find(role); it != row["sparsity"].end() && it->is_object() && it->contains("sparsity"))
                    sparsity.push_back({{"setting", label}, {"role", role}, {"percent", 100 * num(*it, "sparsity")}});
        if (row.contains("target") && row["target"].is_number() && row.contains("strategy"))
            matched.push_back({{"strategy", row["strategy"]},
                               {"target_percent", 100 * row["target"].get<double>()},
                               {"accuracy_percent", 100 * num(row, "validation_accuracy")}});
        if (row.contains("accuracy") && row["accuracy"].is_object() && row["accuracy"].contains("epochs") &&
            row["accuracy"]["epochs"].is_array())
            for (const auto& e : row["accuracy"]["epochs"])
                curves.push_back({{"setting", label}, {"epoch", num(e, "epoch")}, {"percent", 100 * num(e, "validation_accuracy")}});
    }
    auto scatter = [&](const std::string& x, const std::string& title) {
        json s = base_spec(points);
        s["mark"] = {{"type", "point"}, {"filled", true}, {"size", 80}, {"tooltip", true}};
        s["encoding"] = {
            {"x", quantitative(x, title)},
            {"y",
             {{"field", "accuracy_percent"}, {"type", "quantitative"}, {"title", "validation accuracy (%)"}, {"scale", {{"zero", false}}}}},
            {"color", nominal("setting", "setting")}};
        return s;
    };
    add(charts, section, "Validation accuracy against the simulated training step's energy",
        scatter("energy_mJ", "training-step energy (mJ)"));
    add(charts, section, "Validation accuracy against the simulated training step's latency",
        scatter("latency_ms", "training-step latency (ms)"));
    if (!sparsity.empty())
        add(charts, section, "Measured sparsity per setting (last epoch's training steps)",
            bar_chart(sparsity, nominal("setting", "setting"), quantitative("percent", "fraction of zeros (%)"),
                      nominal("role", "tensor role"), true));
    if (!matched.empty())
        add(charts, section, "Validation accuracy against target sparsity, per strategy",
            line_chart(matched, quantitative("target_percent", "target sparsity (%)"),
                       {{"field", "accuracy_percent"},
                        {"type", "quantitative"},
                        {"title", "validation accuracy (%)"},
                        {"scale", {{"zero", false}}}},
                       nominal("strategy", "strategy")));
    if (!curves.empty())
        add(charts, section, "Validation accuracy per epoch, per run",
            line_chart(curves, {{"field", "epoch"}, {"type", "quantitative"}, {"title", "epoch (count)"}, {"axis", {{"tickMinStep", 1}}}},
                       {{"field", "percent"}, {"type", "quantitative"}, {"title", "validation accuracy (%)"}, {"scale", {{"zero", false}}}},
                       nominal("setting", "run")));
}

// --- co-design ----------------------------------------------------------------------------------
void codesign_charts(const ResultsFolder& r, std::vector<ReportChart>& charts) {
    const std::string section = "Co-design";
    const json& cd = r.results["codesign"];
    json rows = json::array();
    auto design_row = [](const json& d, const std::string& role) {
        return json{{"role", role},
                    {"accuracy_percent", 100 * num(d, "accuracy")},
                    {"latency_ms", 1e3 * num(d, "latency_s")},
                    {"energy_mJ", 1e3 * num(d, "energy_j")},
                    {"area_mm2", num(d, "area_mm2")},
                    {"design", d.value("design", "")}};
    };
    const std::string best_design = cd["best"].value("design", "");
    for (const auto& d : cd["pareto"]["set"])
        if (d.value("design", "") != best_design) rows.push_back(design_row(d, "Pareto front"));
    if (cd["best"].value("status", "") == "ok") rows.push_back(design_row(cd["best"], "best pair (highest score)"));
    if (cd.contains("baseline") && cd["baseline"].value("status", "") == "ok") rows.push_back(design_row(cd["baseline"], "baseline pair"));
    const json color = {
        {"field", "role"},
        {"type", "nominal"},
        {"title", "design"},
        {"scale",
         {{"domain", {"Pareto front", "best pair (highest score)", "baseline pair"}}, {"range", {"#4c78a8", "#e45756", "#72b7b2"}}}}};
    const json shape = {
        {"field", "role"},
        {"type", "nominal"},
        {"scale",
         {{"domain", {"Pareto front", "best pair (highest score)", "baseline pair"}}, {"range", {"circle", "diamond", "square"}}}}};
    for (const auto& [field, title, name] :
         {std::tuple{"latency_ms", "training-step latency (ms)", "latency"}, std::tuple{"energy_mJ", "training-step energy (mJ)", "energy"},
          std::tuple{"area_mm2", "chip area (mm²)", "area"}}) {
        json s = base_spec(rows);
        s["mark"] = {{"type", "point"}, {"filled", true}, {"tooltip", {{"content", "data"}}}};
        s["encoding"] = {
            {"x", {{"field", field}, {"type", "quantitative"}, {"title", title}, {"scale", {{"zero", false}}}}},
            {"y", {{"field", "accuracy_percent"}, {"type", "quantitative"}, {"title", "accuracy (%)"}, {"scale", {{"zero", false}}}}},
            {"color", color},
            {"shape", shape},
            {"size", {{"condition", {{"test", "datum.role != 'Pareto front'"}, {"value", 180}}}, {"value", 60}}}};
        add(charts, section, fmt::format("Pareto front: accuracy against {}", name), s);
    }
    if (r.convergence) {
        const CsvFile& t = *r.convergence;
        const std::size_t evaluations = t.column("evaluations"), hv = t.column("hypervolume");
        json points = json::array();
        for (const auto& row : t.rows)
            if (!row[hv].empty())
                points.push_back({{"evaluations", std::strtod(row[evaluations].c_str(), nullptr)},
                                  {"hypervolume", std::strtod(row[hv].c_str(), nullptr)}});
        json s = line_chart(points, quantitative("evaluations", "evaluations (count)"),
                            quantitative("hypervolume", "hypervolume (normalised objectives, unitless)"), nullptr);
        s["mark"] = {{"type", "line"}, {"point", false}, {"interpolate", "step-after"}, {"tooltip", true}};
        add(charts, section, "Hypervolume of the feasible Pareto front against evaluations (convergence.csv)", s);
    }
}

std::string escape_html(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// JSON inside <script type="application/json">: '<' would let "</script>" end the element early.
std::string script_json(const json& j) {
    const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
    std::string out;
    out.reserve(text.size());
    for (const char c : text) out += c == '<' ? std::string("\\u003c") : std::string(1, c);
    return out;
}

std::string inline_script(std::string_view code, const char* name) {
    // A bundle that held "</script" would end its element early; the vendored ones do not (checked here, not assumed).
    for (std::size_t p = code.find("</"); p != std::string_view::npos; p = code.find("</", p + 2)) {
        std::string next(code.substr(p + 2, 6));
        for (char& c : next) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (next == "script") throw InternalError(fmt::format("the embedded {} holds '</script' and cannot be inlined", name));
    }
    return fmt::format("<script>/* {} (third_party/vega) */\n{}\n</script>\n", name, code);
}

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

std::vector<ReportChart> report_charts(const ResultsFolder& r) {
    std::vector<ReportChart> charts;
    const json& d = r.results;
    const std::string kind = d["experiment"]["kind"];
    if (kind == "simulate" || kind == "train_and_simulate") simulation_charts(r, charts);
    if (kind == "train" || kind == "train_and_simulate")
        training_charts(d["accuracy"], d.contains("baselines") ? &d["baselines"] : nullptr, charts);
    if (kind == "dynaprop_sweep") sweep_charts(d["sweep"], charts);
    if (kind == "codesign") codesign_charts(r, charts);
    return charts;
}

std::string render_html_report(const ResultsFolder& r) {
    const json& d = r.results;
    const json& ex = d["experiment"];
    const std::string name = ex["name"], kind = ex["kind"];
    const std::vector<ReportChart> charts = report_charts(r);

    std::string html;
    html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    html += fmt::format("<title>transcode report: {}</title>\n", escape_html(name));
    html +=
        "<style>\n"
        "body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}\n"
        "h1{margin-bottom:4px}h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}\n"
        ".sub{color:#555;margin-top:0}.grid{display:flex;flex-wrap:wrap;gap:24px}\n"
        ".card{border:1px solid #e3e3e3;border-radius:6px;padding:8px 12px}.card h3{font-size:14px;margin:4px 0 8px;max-width:560px}\n"
        "table.prov{border-collapse:collapse;font-size:13px}table.prov td{padding:2px 12px 2px 0;vertical-align:top}\n"
        "table.prov "
        "td:first-child{color:#555;white-space:nowrap}pre{font-size:12px;background:#f6f6f6;padding:8px;overflow:auto;max-height:480px}\n"
        ".note{color:#8a5a00}\n"
        "</style>\n";
    html += inline_script(embedded::vega(), "vega 5.33.1 (BSD-3-Clause)");
    html += inline_script(embedded::vega_lite(), "vega-lite 5.23.0 (BSD-3-Clause)");
    html += inline_script(embedded::vega_embed(), "vega-embed 6.29.0 (BSD-3-Clause)");
    html += "</head>\n";
    html += fmt::format("<body data-charts-expected=\"{}\">\n", charts.size());
    html += fmt::format("<h1>transcode report: {}</h1>\n", escape_html(name));
    std::string sub = fmt::format("kind {}, status {}", kind, value_text(d["status"]));
    if (ex.contains("mode") && ex["mode"].is_string()) sub += ", mode " + ex["mode"].get<std::string>();
    html += fmt::format("<p class=\"sub\">{}</p>\n", escape_html(sub));
    if (ex.contains("description") && ex["description"].is_string() && !ex["description"].get<std::string>().empty())
        html += fmt::format("<p>{}</p>\n", escape_html(ex["description"].get<std::string>()));
    if (d.contains("reason") && d["reason"].is_string())
        html += fmt::format("<p class=\"note\">reason: {}</p>\n", escape_html(d["reason"].get<std::string>()));

    // Provenance: where the results came from.
    html += "<h2>Provenance</h2>\n<table class=\"prov\">\n";
    auto row = [&](const std::string& key, const std::string& value) {
        html += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", escape_html(key), escape_html(value));
    };
    row("results folder", r.folder.string());
    if (ex.contains("file")) row("experiment file", value_text(ex["file"]));
    if (ex.contains("seed")) row("seed", value_text(ex["seed"]));
    row("engine version", value_text(d["engine_version"]));
    if (d.contains("sdk_abi_version")) row("SDK ABI version", value_text(d["sdk_abi_version"]));
    if (d.contains("plugins") && d["plugins"].is_object()) {
        std::string plugins;
        for (const auto& [lib, version] : d["plugins"].items()) plugins += (plugins.empty() ? "" : ", ") + lib + " " + value_text(version);
        row("plugin libraries", plugins);
    }
    if (d.contains("model") && d["model"].is_object() && d["model"].contains("name"))
        row("model", value_text(d["model"]["name"]) +
                         (d["model"].contains("parameters") ? fmt::format(" ({} parameters)", value_text(d["model"]["parameters"])) : ""));
    if (d.contains("accelerator") && d["accelerator"].is_object() && d["accelerator"].contains("name"))
        row("accelerator",
            value_text(d["accelerator"]["name"]) +
                (d["accelerator"].contains("area_mm2") ? fmt::format(" ({:.4g} mm²)", num(d["accelerator"], "area_mm2")) : ""));
    if (d.contains("latency") && d["latency"].is_object())
        row("latency",
            fmt::format("{:.4g} ms ({} cycles)", 1e3 * num(d["latency"], "seconds"), value_text(d["latency"].value("cycles", json(0)))));
    if (d.contains("energy") && d["energy"].is_object()) row("energy", fmt::format("{:.4g} mJ", 1e3 * num(d["energy"], "total_j")));
    if (kind == "codesign") {
        const json& cd = d["codesign"];
        if (cd.contains("evaluations") && cd["evaluations"].is_object())
            row("evaluations", fmt::format("{} ({} feasible)", value_text(cd["evaluations"].value("total", json(0))),
                                           value_text(cd["evaluations"].value("feasible", json(0)))));
        if (cd["pareto"].contains("hypervolume")) row("hypervolume", value_text(cd["pareto"]["hypervolume"]));
        if (cd["best"].contains("design")) row("best pair", value_text(cd["best"]["design"]));
    }
    html += "</table>\n";
    if (d.contains("config"))
        html += fmt::format(
            "<details><summary>Resolved experiment config (results.json <code>config</code>)</summary><pre>{}</pre></details>\n",
            escape_html(d["config"].dump(2, ' ', false, json::error_handler_t::replace)));
    if (kind == "codesign" && !r.convergence)
        html +=
            "<p class=\"note\">No convergence.csv in this folder (a run older than that file): the hypervolume curve is left out.</p>\n";

    // The charts, grouped by section.
    std::string section;
    json specs = json::array();
    for (std::size_t i = 0; i < charts.size(); ++i) {
        if (charts[i].section != section) {
            if (!section.empty()) html += "</div>\n";
            section = charts[i].section;
            html += fmt::format("<h2>{}</h2>\n<div class=\"grid\">\n", escape_html(section));
        }
        html += fmt::format("<div class=\"card\"><h3>{}</h3><div class=\"chart\" id=\"chart-{}\"></div></div>\n",
                            escape_html(charts[i].title), i);
        specs.push_back(charts[i].spec);
    }
    if (!section.empty()) html += "</div>\n";
    html += fmt::format("<script type=\"application/json\" id=\"chart-specs\">{}</script>\n", script_json(specs));
    html +=
        "<script>\n"
        "(function () {\n"
        "  var specs = JSON.parse(document.getElementById('chart-specs').textContent);\n"
        "  var options = {actions: false, renderer: 'svg', mode: 'vega-lite'};\n"
        "  Promise.all(specs.map(function (spec, i) { return vegaEmbed('#chart-' + i, spec, options); }))\n"
        "    .then(function () { document.body.setAttribute('data-charts-rendered', String(specs.length)); })\n"
        "    .catch(function (e) { document.body.setAttribute('data-chart-error', String(e)); console.error('transcode report: a chart "
        "failed: ' + e); });\n"
        "})();\n"
        "</script>\n</body>\n</html>\n";
    return html;
}

}  // namespace transcode::engine
