// The built-in "search" plugin library (search.random, search.grid), loaded through the real plugin
// host and configured through the real schema validation.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/schema_validation.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/search.hpp"

namespace {

using transcode::Candidate;
using transcode::Knob;
using transcode::SearchAlgorithm;
using transcode::SearchSpace;
using transcode::engine::PluginHost;
using transcode::engine::PluginInfo;
using transcode::engine::PluginPtr;

const PluginHost& host() { return transcode::test::builtin_plugins(); }

const PluginInfo& search_info(std::string_view name) {
    const PluginInfo* info = host().find(name, transcode::PluginKind::search);
    REQUIRE_MESSAGE(info != nullptr, "search plugin '" << std::string(name) << "' is not loaded");
    return *info;
}

/// Creates a search algorithm from YAML parameters, validated against its schema like a config file.
PluginPtr<SearchAlgorithm> make_search(std::string_view name, std::string_view yaml = "") {
    const PluginInfo& info = search_info(name);
    return host().create<SearchAlgorithm>(info, transcode::config::parse_params(info.schema, yaml));
}

SearchSpace space_of(std::vector<std::size_t> choices) {
    SearchSpace space;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        std::string name = "k";
        name += std::to_string(i);
        space.knobs.push_back(Knob{std::move(name), choices[i]});
    }
    return space;
}

bool in_space(const Candidate& c, const SearchSpace& space) {
    if (c.size() != space.knobs.size()) return false;
    for (std::size_t i = 0; i < c.size(); ++i)
        if (c[i] >= space.knobs[i].choices) return false;
    return true;
}

/// Asks in batches of `batch` until `total` candidates were returned or an ask returns fewer.
std::vector<Candidate> ask_all(SearchAlgorithm& s, std::size_t batch, std::size_t total) {
    std::vector<Candidate> out;
    while (out.size() < total) {
        const std::vector<Candidate> got = s.ask(batch);
        out.insert(out.end(), got.begin(), got.end());
        if (got.size() < batch) break;
    }
    return out;
}

/// Every candidate of `space`, in mixed-radix order with the last knob fastest.
std::vector<Candidate> enumerate(const SearchSpace& space) {
    std::vector<Candidate> out{Candidate{}};
    for (const Knob& knob : space.knobs) {
        std::vector<Candidate> next;
        for (const Candidate& prefix : out) {
            for (std::size_t choice = 0; choice < knob.choices; ++choice) {
                Candidate c = prefix;
                c.push_back(choice);
                next.push_back(std::move(c));
            }
        }
        out = std::move(next);
    }
    return out;
}

}  // namespace

TEST_CASE("search plugins: the library registers random and grid with documented schemas") {
    for (const char* name : {"random", "grid"}) {
        CAPTURE(name);
        const PluginInfo& info = search_info(name);
        CHECK(info.kind == transcode::PluginKind::search);
        CHECK(info.name == std::string("search.") + name);
        CHECK(info.library == "search");
        CHECK(info.version == "0.1.0");
        CHECK_FALSE(info.doc.empty());
        for (const transcode::ParamSpec& spec : info.schema) {
            CAPTURE(spec.name());
            CHECK_FALSE(spec.doc().empty());
            CHECK(spec.default_value().has_value());
        }
    }
    CHECK(transcode::config::parse_params(search_info("random").schema, "").get_bool("dedupe") == true);
    CHECK(transcode::config::parse_params(search_info("grid").schema, "").get_int("max_candidates") == 1000000);
    CHECK_THROWS_AS(transcode::config::parse_params(search_info("grid").schema, "max_candidates: 0"), transcode::ConfigError);
}

TEST_CASE("search.random: the same seed gives the same candidates, other seeds other ones, all in range") {
    const SearchSpace space = space_of({10, 10, 10, 7});
    for (const char* yaml : {"", "dedupe: false"}) {
        CAPTURE(yaml);
        const auto run = [&](std::uint64_t seed) {
            const auto s = make_search("random", yaml);
            s->start(space, seed);
            std::vector<Candidate> out = s->ask(7);
            const std::vector<Candidate> more = s->ask(13);
            out.insert(out.end(), more.begin(), more.end());
            return out;
        };
        const std::vector<Candidate> a = run(42);
        CHECK(a.size() == 20);
        for (const Candidate& c : a) CHECK(in_space(c, space));
        CHECK(run(42) == a);
        CHECK(run(43) != a);
        CHECK(run(0) != a);
    }
}

TEST_CASE("search.random: the stream for a seed is pinned, the same on every platform") {
    // Computed outside the engine by an independent implementation of std::mt19937_64 and the
    // documented draw (bitmask rejection); with dedupe, a Fisher-Yates shuffle of the mixed-radix
    // candidate indices. A change here changes every published random-search result.
    const SearchSpace space = space_of({10, 1000, 7});
    const auto plain = make_search("random", "dedupe: false");
    plain->start(space, 42);
    CHECK(plain->ask(5) == std::vector<Candidate>{{6, 680, 2}, {5, 892, 0}, {0, 182, 1}, {6, 472, 6}, {8, 54, 2}});

    const auto dedupe = make_search("random");
    dedupe->start(space, 42);
    CHECK(dedupe->ask(5) == std::vector<Candidate>{{9, 459, 3}, {4, 499, 6}, {7, 728, 0}, {0, 926, 6}, {1, 321, 5}});

    dedupe->start(space_of({3, 4}), 1);
    CHECK(dedupe->ask(100) == std::vector<Candidate>{{2, 0}, {2, 3}, {2, 2}, {1, 3}, {1, 1}, {1, 0},
                                                     {1, 2}, {0, 3}, {0, 1}, {0, 2}, {0, 0}, {2, 1}});
}

TEST_CASE("search.random: start() again restarts the sequence, and tell() does not steer it") {
    const SearchSpace space = space_of({5, 6, 7});
    const auto s = make_search("random");
    s->start(space, 9);
    const std::vector<Candidate> first = s->ask(10);
    s->tell({transcode::Observation{first[0], {1.0, 2.0}, true, ""}, transcode::Observation{first[1], {}, false, "infeasible"}});
    const std::vector<Candidate> after_tell = s->ask(10);

    s->start(space, 9);
    CHECK(s->ask(10) == first);
    CHECK(s->ask(10) == after_tell);
}

TEST_CASE("search.random: with dedupe, a tiny space is asked exactly once per candidate, then runs out") {
    const SearchSpace space = space_of({3, 4});
    const auto s2 = make_search("random");
    s2->start(space, 1);
    std::vector<Candidate> all;
    for (std::size_t expected : {5u, 5u, 2u, 0u, 0u}) {
        const std::vector<Candidate> got = s2->ask(5);
        CHECK(got.size() == expected);
        all.insert(all.end(), got.begin(), got.end());
    }
    const std::set<Candidate> distinct(all.begin(), all.end());
    CHECK(all.size() == 12);
    CHECK(distinct.size() == 12);
    const std::vector<Candidate> every = enumerate(space);
    CHECK(distinct == std::set<Candidate>(every.begin(), every.end()));
    CHECK(s2->ask(0).empty());
}

TEST_CASE("search.random: dedupe draws are not simply the grid order") {
    const SearchSpace space = space_of({4, 4, 4});
    const auto s = make_search("random");
    s->start(space, 5);
    const std::vector<Candidate> got = s->ask(64);
    REQUIRE(got.size() == 64);
    CHECK(got != enumerate(space));
    CHECK(std::set<Candidate>(got.begin(), got.end()).size() == 64);
}

TEST_CASE("search.random: without dedupe, draws repeat, never run out, and are close to uniform") {
    const SearchSpace space = space_of({4});
    const auto s = make_search("random", "dedupe: false");
    s->start(space, 2025);
    const std::vector<Candidate> got = s->ask(40000);
    REQUIRE(got.size() == 40000);
    std::map<std::size_t, int> counts;
    for (const Candidate& c : got) {
        REQUIRE(in_space(c, space));
        ++counts[c[0]];
    }
    REQUIRE(counts.size() == 4);
    for (auto [choice, count] : counts) {
        CAPTURE(choice);
        CHECK(count > 9500);
        CHECK(count < 10500);
    }
}

TEST_CASE("search.random: with dedupe, early draws are close to uniform per knob") {
    // 3 * 1000 candidates; the first 600 drawn without replacement: each value of the first knob
    // should get about 200.
    const SearchSpace space = space_of({3, 1000});
    const auto s = make_search("random");
    s->start(space, 77);
    std::map<std::size_t, int> counts;
    for (const Candidate& c : s->ask(600)) ++counts[c[0]];
    REQUIRE(counts.size() == 3);
    for (auto [choice, count] : counts) {
        CAPTURE(choice);
        CHECK(count > 150);
        CHECK(count < 250);
    }
}

TEST_CASE("search.random: spaces of 2^64 candidates or more still give distinct, reproducible candidates") {
    const SearchSpace space = space_of(std::vector<std::size_t>(20, 1000));  // 10^60 candidates
    const auto run = [&](std::uint64_t seed) {
        const auto s = make_search("random");
        s->start(space, seed);
        return ask_all(*s, 50, 200);
    };
    const std::vector<Candidate> a = run(3);
    REQUIRE(a.size() == 200);
    for (const Candidate& c : a) CHECK(in_space(c, space));
    CHECK(std::set<Candidate>(a.begin(), a.end()).size() == 200);
    CHECK(run(3) == a);
    CHECK(run(4) != a);

    const SearchSpace widest = space_of({std::numeric_limits<std::size_t>::max(), 2});
    const auto s = make_search("random");
    s->start(widest, 8);
    for (const Candidate& c : s->ask(100)) CHECK(in_space(c, widest));
}

TEST_CASE("search.random: knobs of one choice and spaces without knobs") {
    const auto s = make_search("random");
    s->start(space_of({1, 1}), 1);
    CHECK(s->ask(3) == std::vector<Candidate>{{0, 0}});
    CHECK(s->ask(3).empty());

    s->start(SearchSpace{}, 1);
    CHECK(s->ask(3) == std::vector<Candidate>{Candidate{}});
    CHECK(s->ask(3).empty());
}

TEST_CASE("search.grid: enumerates every candidate exactly once, last knob fastest, then nothing") {
    const SearchSpace space = space_of({2, 3, 2});
    const auto g = make_search("grid");
    g->start(space, 123);
    CHECK(g->ask(0).empty());
    std::vector<Candidate> all = g->ask(5);
    CHECK(all.size() == 5);
    const std::vector<Candidate> rest = g->ask(100);
    CHECK(rest.size() == 7);
    all.insert(all.end(), rest.begin(), rest.end());
    CHECK(g->ask(1).empty());

    const std::vector<Candidate> expected{
        {0, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0, 1, 1}, {0, 2, 0}, {0, 2, 1},
        {1, 0, 0}, {1, 0, 1}, {1, 1, 0}, {1, 1, 1}, {1, 2, 0}, {1, 2, 1},
    };
    CHECK(all == expected);
    CHECK(all == enumerate(space));
}

TEST_CASE("search.grid: ignores the seed and tell(), and start() again starts over") {
    const SearchSpace space = space_of({3, 5});
    const auto g = make_search("grid");
    g->start(space, 1);
    const std::vector<Candidate> first = g->ask(4);
    g->tell({transcode::Observation{first[0], {0.5}, true, ""}});
    const std::vector<Candidate> rest = ask_all(*g, 4, 100);
    CHECK(first.size() + rest.size() == 15);

    g->start(space, 999);
    CHECK(g->ask(4) == first);
    CHECK(ask_all(*g, 4, 100) == rest);
}

TEST_CASE("search.grid: a space without knobs has one candidate, the empty one") {
    const auto g = make_search("grid");
    g->start(SearchSpace{}, 0);
    CHECK(g->ask(10) == std::vector<Candidate>{Candidate{}});
    CHECK(g->ask(10).empty());
}

TEST_CASE("search plugins: a knob with no choices is refused by start(), naming the knob") {
    const SearchSpace space{{Knob{"layers", 4}, Knob{"heads", 0}, Knob{"ffn", 3}}};
    CHECK_THROWS_WITH_AS(make_search("grid")->start(space, 1), "grid search: knob 'heads' has 0 choices; every knob needs at least one",
                         transcode::ConfigError);
    CHECK_THROWS_WITH_AS(make_search("random")->start(space, 1),
                         "random search: knob 'heads' has 0 choices; every knob needs at least one", transcode::ConfigError);
    CHECK_THROWS_WITH_AS(make_search("random", "dedupe: false")->start(space, 1),
                         "random search: knob 'heads' has 0 choices; every knob needs at least one", transcode::ConfigError);
}

TEST_CASE("search.grid: max_candidates bounds the space, with the exact count in the message") {
    const SearchSpace twelve = space_of({3, 4});
    CHECK_THROWS_WITH_AS(make_search("grid", "max_candidates: 11")->start(twelve, 1),
                         "grid search: the space has 12 candidates, more than max_candidates 11", transcode::ConfigError);
    const auto exact = make_search("grid", "max_candidates: 12");
    CHECK_NOTHROW(exact->start(twelve, 1));
    CHECK(ask_all(*exact, 5, 100).size() == 12);

    // 10^40 and (2^64 - 1)^2 candidates do not fit 64 bits; the count is still exact.
    CHECK_THROWS_WITH_AS(make_search("grid")->start(space_of(std::vector<std::size_t>(10, 10000)), 1),
                         "grid search: the space has 10000000000000000000000000000000000000000 candidates, more than "
                         "max_candidates 1000000",
                         transcode::ConfigError);
    const std::size_t max = std::numeric_limits<std::size_t>::max();
    CHECK_THROWS_WITH_AS(make_search("grid")->start(space_of({max, max}), 1),
                         "grid search: the space has 340282366920938463426481119284349108225 candidates, more than "
                         "max_candidates 1000000",
                         transcode::ConfigError);
    CHECK_THROWS_WITH_AS(make_search("grid")->start(space_of({1000, 1001}), 1),
                         "grid search: the space has 1001000 candidates, more than max_candidates 1000000",
                         transcode::ConfigError);
}

TEST_CASE("search plugins: ask() before start() is an engine bug") {
    for (const char* name : {"random", "grid"}) {
        CAPTURE(name);
        CHECK_THROWS_AS(make_search(name)->ask(1), transcode::InternalError);
    }
}
