// transcode::DesignSpace (sdk/include/transcode/design_space.hpp): conditional knobs, canonical
// candidates, counting, the [0, 1]^d encoding and the random operators, checked against brute-force
// enumeration of the full mixed-radix grid.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "transcode/design_space.hpp"

namespace {

using transcode::Candidate;
using transcode::DesignSpace;
using transcode::Knob;
using transcode::Value;

/// "k0", "k1", ...: built with += (GCC 12 warns falsely about "literal" + std::string, PR 105329).
std::string numbered(const char* prefix, std::size_t i) {
    std::string name = prefix;
    name += std::to_string(i);
    return name;
}

Knob knob(std::string name, std::size_t choices, bool ordinal = true, std::ptrdiff_t parent = -1, std::size_t parent_min = 0) {
    Knob k;
    k.name = std::move(name);
    for (std::size_t i = 0; i < choices; ++i) k.values.emplace_back(static_cast<std::int64_t>(i));
    k.ordinal = ordinal;
    k.parent = parent;
    k.parent_min = parent_min;
    return k;
}

// A FlexiBERT-like space with two levels of conditions: a layer count; per-layer hidden sizes of
// layers 2 and 3, active from 2 and 3 layers; an unordered operation type per layer, with a
// per-head knob below layer 3's head count; and an accelerator knob of its own.
DesignSpace conditional_space() {
    return DesignSpace({
        knob("layers", 3),                                  // 0: 1, 2 or 3 layers
        knob("layer1.hidden", 3),                           // 1: always active
        knob("layer2.hidden", 2, true, 0, 1),               // 2: from 2 layers
        knob("layer3.heads", 3, true, 0, 2),                // 3: from 3 layers
        knob("layer3.head2.op", 3, false, 3, 1),            // 4: layer 3 with 2+ heads (unordered)
        knob("layer3.head3.op", 2, false, 3, 2),            // 5: layer 3 with 3 heads (unordered)
        knob("memory", 3, false),                           // 6: unordered, always active
        knob("pes", 1),                                     // 7: one choice
    });
}

// Every point of the mixed-radix grid of the space's choices (canonical or not).
std::vector<Candidate> full_grid(const DesignSpace& space) {
    std::vector<Candidate> out{Candidate{}};
    for (const Knob& k : space.knobs()) {
        std::vector<Candidate> next;
        for (const Candidate& prefix : out) {
            for (std::size_t i = 0; i < k.values.size(); ++i) {
                Candidate c = prefix;
                c.push_back(i);
                next.push_back(std::move(c));
            }
        }
        out = std::move(next);
    }
    return out;
}

std::set<Candidate> distinct_canonical(const DesignSpace& space) {
    std::set<Candidate> out;
    for (const Candidate& c : full_grid(space)) out.insert(space.canonical(c));
    return out;
}

}  // namespace

TEST_CASE("design space: count and log10_count match brute-force enumeration of a conditional space") {
    const DesignSpace space = conditional_space();
    const std::set<Candidate> distinct = distinct_canonical(space);
    // By hand: layers=1: 3 * 3 = 9; layers=2: 3 * 2 * 3 = 18; layers=3: 3 * 2 * (1 + 3 + 3 * 2) * 3 = 180.
    CHECK(distinct.size() == 207);
    REQUIRE(space.count().has_value());
    CHECK(*space.count() == distinct.size());
    CHECK(space.log10_count() == doctest::Approx(std::log10(207.0)).epsilon(1e-12));

    std::size_t canonical_points = 0;
    for (const Candidate& c : full_grid(space)) {
        const bool canonical = space.is_canonical(c);
        canonical_points += canonical ? 1 : 0;
        CHECK(canonical == (space.canonical(c) == c));
    }
    CHECK(canonical_points == distinct.size());

    // The product space multiplies the counts and renumbers the second space's parents.
    const DesignSpace both = DesignSpace::product(space, conditional_space());
    CHECK(*both.count() == 207u * 207u);
    CHECK(both.knobs()[8 + 2].parent == 8);
    CHECK(both.log10_count() == doctest::Approx(2 * std::log10(207.0)).epsilon(1e-12));

    CHECK(*DesignSpace().count() == 1);
    CHECK(DesignSpace().log10_count() == 0.0);
}

TEST_CASE("design space: counts past 2^64 give nullopt and a log10, long chains of conditions count in linear time") {
    std::vector<Knob> wide;
    for (int i = 0; i < 20; ++i) wide.push_back(knob(numbered("k", i), 1000));
    const DesignSpace huge(wide);
    CHECK_FALSE(huge.count().has_value());
    CHECK(huge.log10_count() == doctest::Approx(60.0).epsilon(1e-12));

    // 2^64 exactly does not fit; 2^63 does.
    CHECK_FALSE(DesignSpace(std::vector<Knob>(64, knob("bit", 2))).count().has_value());
    CHECK(*DesignSpace(std::vector<Knob>(63, knob("bit", 2))).count() == (std::uint64_t{1} << 63));

    // A chain where each knob is active under every choice of the previous one: 2^60 candidates.
    // Counting it by visiting each child once per parent choice would take 2^60 steps.
    std::vector<Knob> chain{knob("c0", 2)};
    for (int i = 1; i < 60; ++i) chain.push_back(knob(numbered("c", i), 2, true, i - 1, 0));
    const DesignSpace deep(chain);
    CHECK(*deep.count() == (std::uint64_t{1} << 60));
    CHECK(deep.log10_count() == doctest::Approx(60 * std::log10(2.0)).epsilon(1e-12));

    // A chain active only from the previous knob's second choice: 1 + 1 + ... = 61 candidates.
    std::vector<Knob> narrow{knob("c0", 2)};
    for (int i = 1; i < 60; ++i) narrow.push_back(knob(numbered("c", i), 2, true, i - 1, 1));
    CHECK(*DesignSpace(narrow).count() == 61);
}

TEST_CASE("design space: encode and decode round-trip every canonical candidate") {
    const DesignSpace space = conditional_space();
    // Ordinal knobs take 1 coordinate, unordered ones 1 per choice: 1+1+1+1+3+2+3+1.
    CHECK(space.encoded_size() == 13);
    std::set<std::vector<double>> encodings;
    for (const Candidate& c : distinct_canonical(space)) {
        const std::vector<double> x = space.encode(c);
        REQUIRE(x.size() == space.encoded_size());
        for (double v : x) CHECK((v >= 0.0 && v <= 1.0));
        CHECK(space.decode(x) == c);
        encodings.insert(x);
    }
    CHECK(encodings.size() == 207);  // distinct designs, distinct encodings

    // Ordinal: index / (choices - 1); unordered: one-hot; inactive: zeros.
    CHECK(space.encode({2, 1, 1, 2, 2, 1, 2, 0}) == std::vector<double>{1.0, 0.5, 1.0, 1.0, 0, 0, 1, 0, 1, 0, 0, 1, 0.0});
    CHECK(space.encode({0, 0, 0, 0, 0, 0, 0, 0}) == std::vector<double>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0});
    CHECK_THROWS_AS(space.encode({0, 0}), transcode::InternalError);
}

TEST_CASE("design space: decode of arbitrary vectors gives the nearest canonical candidate") {
    const DesignSpace space = conditional_space();
    std::mt19937_64 rng(11);
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (int trial = 0; trial < 2000; ++trial) {
        std::vector<double> x(space.encoded_size());
        for (double& v : x) {
            const auto pick = transcode::draw_below(rng, 20);
            v = pick == 0 ? nan : pick == 1 ? inf : pick == 2 ? -inf : 2.0 * transcode::draw_unit(rng) - 0.5;
        }
        CHECK(space.is_canonical(space.decode(x)));
    }
    // Rounding to the nearest choice, clamping, and the largest one-hot entry (first on ties).
    CHECK(space.decode({0.74, 0.26, 0.6, 0.8, 0.2, 0.9, 0.9, 0.5, 0.5, -3.0, 0.1, 0.1, 0.3}) == Candidate{1, 1, 1, 0, 0, 0, 1, 0});
    CHECK(space.decode({1.4, 0.74, 0.6, 0.8, 0.2, 0.9, 0.9, 0.5, 0.5, -3.0, 0.1, 0.1, 0.3}) == Candidate{2, 1, 1, 2, 1, 0, 1, 0});
    CHECK(space.decode({nan, nan, 1, 1, nan, nan, nan, nan, nan, nan, nan, 2.0, nan}) == Candidate{0, 0, 0, 0, 0, 0, 2, 0});
    CHECK_THROWS_AS(space.decode({0.5}), transcode::InternalError);
}

TEST_CASE("design space: canonical() clamps, pads and zeroes inactive knobs") {
    const DesignSpace space = conditional_space();
    CHECK(space.canonical({0, 9, 1, 2, 2, 1, 7}) == Candidate{0, 2, 0, 0, 0, 0, 2, 0});
    CHECK(space.canonical({2, 0, 1, 1, 2, 1, 0, 5, 9}) == Candidate{2, 0, 1, 1, 2, 0, 0, 0});
    CHECK_FALSE(space.is_canonical({0, 0, 1, 0, 0, 0, 0, 0}));
    CHECK_FALSE(space.is_canonical({0, 0, 0, 0, 0, 0, 0}));
    CHECK(space.active({2, 0, 0, 2, 0, 0, 0, 0}, 5));
    CHECK_FALSE(space.active({2, 0, 0, 1, 0, 0, 0, 0}, 5));
    CHECK_FALSE(space.active({1, 0, 0, 2, 0, 0, 0, 0}, 5));  // its parent is inactive itself
    CHECK(space.describe({1, 2, 1, 0, 0, 0, 2, 0}) == "layers=1, layer1.hidden=2, layer2.hidden=1, memory=2, pes=0");
}

TEST_CASE("design space: sample is canonical, reaches every candidate and draws each active knob uniformly") {
    const DesignSpace space = conditional_space();
    std::mt19937_64 rng(5);
    std::set<Candidate> seen;
    std::map<std::size_t, int> layers;
    std::map<std::size_t, int> head3_op;  // only drawn when active
    for (int i = 0; i < 30000; ++i) {
        const Candidate c = space.sample(rng);
        REQUIRE(space.is_canonical(c));
        seen.insert(c);
        ++layers[c[0]];
        if (space.active(c, 5)) ++head3_op[c[5]];
    }
    CHECK(seen.size() == 207);
    for (const auto& [choice, n] : layers) CHECK(std::abs(n - 10000) < 500);
    REQUIRE(head3_op.size() == 2);
    CHECK(std::abs(head3_op[0] - head3_op[1]) < 400);  // about 3333 draws with 3 heads
}

TEST_CASE("design space: mutate always changes the candidate and stays canonical") {
    const DesignSpace space = conditional_space();
    std::mt19937_64 rng(3);
    std::set<Candidate> reached;
    for (const Candidate& c : distinct_canonical(space)) {
        for (double rate : {0.0, 0.3, 1.0}) {
            const Candidate m = space.mutate(c, rate, rng);
            CHECK(space.is_canonical(m));
            CHECK(m != c);
            if (rate == 0.0) {
                // Exactly one active knob moved, plus the knobs its move switched on or off.
                std::size_t moved_active = 0;
                for (std::size_t k = 0; k < c.size(); ++k)
                    if (space.active(c, k) && space.active(m, k) && c[k] != m[k]) ++moved_active;
                CHECK(moved_active <= 1);
            }
            reached.insert(m);
        }
    }
    CHECK(reached.size() > 150);
    // Nothing to move: a space of one-choice knobs gives the candidate back.
    const DesignSpace fixed({knob("a", 1), knob("b", 1)});
    CHECK(fixed.mutate({0, 0}, 1.0, rng) == Candidate{0, 0});
}

TEST_CASE("design space: crossover gives canonical children built from the parents' choices") {
    const DesignSpace space = conditional_space();
    const std::set<Candidate> all = distinct_canonical(space);
    const std::vector<Candidate> list(all.begin(), all.end());
    std::mt19937_64 rng(8);
    for (int trial = 0; trial < 3000; ++trial) {
        const Candidate& a = list[transcode::draw_below(rng, list.size())];
        const Candidate& b = list[transcode::draw_below(rng, list.size())];
        const Candidate child = space.crossover(a, b, rng);
        REQUIRE(space.is_canonical(child));
        // Every knob active in the child and in both parents comes from one of them.
        for (std::size_t k = 0; k < child.size(); ++k)
            if (space.active(child, k) && space.active(a, k) && space.active(b, k)) CHECK((child[k] == a[k] || child[k] == b[k]));
    }
    CHECK(space.crossover(list[40], list[40], rng) == list[40]);
}

TEST_CASE("design space: invalid knobs are ConfigErrors naming the knob and the rule") {
    CHECK_THROWS_WITH_AS(DesignSpace({knob("layers", 4), knob("heads", 0), knob("ff", 3)}),
                         "design space: knob 'heads' has no choices; every knob needs at least one", transcode::ConfigError);
    CHECK_THROWS_WITH_AS(DesignSpace({knob("layers", 4), knob("hidden", 3, true, 1)}),
                         "design space: knob 'hidden' names a parent that is not an earlier knob", transcode::ConfigError);
    CHECK_THROWS_WITH_AS(DesignSpace({knob("layers", 4), knob("hidden", 3, true, 2)}),
                         "design space: knob 'hidden' names a parent that is not an earlier knob", transcode::ConfigError);
    CHECK_THROWS_WITH_AS(DesignSpace({knob("layers", 4), knob("hidden", 3, true, 0, 4)}),
                         "design space: knob 'hidden' is active from parent index 4, which its parent does not have",
                         transcode::ConfigError);
    CHECK_NOTHROW(DesignSpace({knob("layers", 4), knob("hidden", 3, true, 0, 3)}));
}

TEST_CASE("design space: the shared draws are pinned, the same with every standard library") {
    // Computed outside the engine by an independent implementation of std::mt19937_64 and the
    // documented bitmask rejection.
    std::mt19937_64 rng(42);
    std::vector<std::uint64_t> draws;
    for (std::uint64_t bound : {10u, 1000u, 7u, 1u, 10u}) draws.push_back(transcode::draw_below(rng, bound));
    CHECK(draws == std::vector<std::uint64_t>{6, 680, 2, 0, 5});
    std::mt19937_64 unit(42);
    CHECK(transcode::draw_unit(unit) == 13930160852258120406ull / 2048 * 0x1.0p-53);
}
