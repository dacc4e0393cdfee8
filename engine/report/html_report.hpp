// `transcode report`: one self-contained HTML page of a run's results, with Vega-Lite charts. The
// Vega, Vega-Lite and vega-embed bundles (third_party/vega, embedded in the binary at build time)
// are inlined, so the page opens offline. Includes nothing from experiment/ or codesign/: it draws
// what results_folder.hpp read.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/results_folder.hpp"

namespace transcode::engine {

/// One chart: its section, its title and its Vega-Lite spec (data inline).
struct ReportChart {
    std::string section;
    std::string title;
    nlohmann::json spec;
};

/// The charts a results folder gets, in page order: per simulated step latency and energy by
/// phase, a phase timeline, memory levels, the critical path, units (energy, area, utilisation,
/// op time from ops.csv); training curves; sweep curves; the co-design Pareto front against
/// latency, energy and area with the best and baseline pairs marked, and hypervolume against
/// evaluations (convergence.csv). Every quantitative axis names its unit.
std::vector<ReportChart> report_charts(const ResultsFolder& r);

/// The whole page: title, experiment, provenance (experiment file, seed, engine and SDK ABI
/// versions, plugin versions, the resolved config), notes on what is missing, the charts, and the
/// inlined scripts. When every chart has rendered, the page sets `data-charts-rendered` on <body>
/// to the chart count (`data-charts-expected`); a failed chart sets `data-chart-error`.
std::string render_html_report(const ResultsFolder& r);

}  // namespace transcode::engine
