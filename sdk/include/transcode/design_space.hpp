// DesignSpace: a generic discrete design space, which search plugins use without knowing what they
// search (a transformer, an accelerator, or both).
//
// A space is an ordered list of knobs. Each knob has a list of choices. A knob may be conditional:
// it is active only while its parent knob (an earlier knob) is active and has a choice index of at
// least `parent_min`. That expresses per-layer and per-head knobs: "layer 5's hidden size" is
// active only when the layer-count knob says 6 layers or more. A candidate is one choice index per
// knob; in its canonical form every inactive knob is 0, so two candidates that build the same
// design compare equal.
//
// Every random draw comes from std::mt19937_64 (its output is fixed by the C++ standard) through
// the draws below (bitmask rejection; 53-bit doubles), so a seed gives the same search everywhere.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "transcode/errors.hpp"
#include "transcode/value.hpp"

namespace transcode {

/// A uniform integer in [0, bound), bound >= 1, reproducible on every platform.
inline std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t bound) {
    if (bound <= 1) return 0;
    std::uint64_t mask = bound - 1;
    mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32;
    for (;;) {
        const std::uint64_t v = rng() & mask;
        if (v < bound) return v;
    }
}

/// A uniform double in [0, 1), reproducible on every platform (53 random bits).
inline double draw_unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// One knob of a design space.
struct Knob {
    std::string name;           ///< e.g. "model.layer[3].hidden" or "accelerator.pes"
    std::vector<Value> values;  ///< the choices (at least one), as they appear in the design
    /// Ordered choices (sizes, counts) are encoded as one coordinate; unordered ones (operation
    /// types, memory kinds) one-hot, one coordinate per choice.
    bool ordinal = true;
    /// Index of the parent knob (earlier in the list), or -1 for an always-active knob.
    std::ptrdiff_t parent = -1;
    /// The knob is active while the parent is active and its choice index is >= parent_min.
    std::size_t parent_min = 0;
};

/// One choice index per knob.
using Candidate = std::vector<std::size_t>;

class DesignSpace {
public:
    DesignSpace() = default;
    /// Throws ConfigError for a knob without choices or a parent that is not an earlier knob or
    /// whose parent_min is not one of the parent's indices.
    explicit DesignSpace(std::vector<Knob> knobs) : knobs_(std::move(knobs)) {
        for (std::size_t k = 0; k < knobs_.size(); ++k) {
            const Knob& knob = knobs_[k];
            if (knob.values.empty()) throw ConfigError("design space: knob '" + knob.name + "' has no choices; every knob needs at least one");
            if (knob.parent >= static_cast<std::ptrdiff_t>(k))
                throw ConfigError("design space: knob '" + knob.name + "' names a parent that is not an earlier knob");
            if (knob.parent >= 0 && knob.parent_min >= knobs_[static_cast<std::size_t>(knob.parent)].values.size())
                throw ConfigError("design space: knob '" + knob.name + "' is active from parent index " + std::to_string(knob.parent_min) +
                                  ", which its parent does not have");
            encoded_size_ += knob.ordinal ? 1 : knob.values.size();
        }
    }

    /// The product space: the knobs of `a`, then those of `b` (parents renumbered).
    static DesignSpace product(const DesignSpace& a, const DesignSpace& b) {
        std::vector<Knob> knobs = a.knobs_;
        for (Knob k : b.knobs_) {
            if (k.parent >= 0) k.parent += static_cast<std::ptrdiff_t>(a.knobs_.size());
            knobs.push_back(std::move(k));
        }
        return DesignSpace(std::move(knobs));
    }

    const std::vector<Knob>& knobs() const { return knobs_; }
    std::size_t size() const { return knobs_.size(); }
    /// The length of encode()'s vectors.
    std::size_t encoded_size() const { return encoded_size_; }

    /// Whether knob k is active in `c` (c must have size() entries).
    bool active(const Candidate& c, std::size_t k) const {
        for (;;) {
            const Knob& knob = knobs_[k];
            if (knob.parent < 0) return true;
            const auto p = static_cast<std::size_t>(knob.parent);
            if (c[p] < knob.parent_min) return false;
            k = p;
        }
    }

    /// True when `c` has one in-range index per knob and every inactive knob is 0.
    bool is_canonical(const Candidate& c) const {
        if (c.size() != knobs_.size()) return false;
        for (std::size_t k = 0; k < c.size(); ++k) {
            if (c[k] >= knobs_[k].values.size()) return false;
            if (c[k] != 0 && !active(c, k)) return false;
        }
        return true;
    }

    /// Clamps out-of-range indices, pads or cuts to size() and zeroes inactive knobs.
    Candidate canonical(Candidate c) const {
        c.resize(knobs_.size(), 0);
        for (std::size_t k = 0; k < c.size(); ++k) {
            if (c[k] >= knobs_[k].values.size()) c[k] = knobs_[k].values.size() - 1;
            if (!active(c, k)) c[k] = 0;
        }
        return c;
    }

    /// A random candidate: every active knob uniform over its choices.
    Candidate sample(std::mt19937_64& rng) const {
        Candidate c(knobs_.size(), 0);
        for (std::size_t k = 0; k < c.size(); ++k)
            if (active(c, k)) c[k] = static_cast<std::size_t>(draw_below(rng, knobs_[k].values.size()));
        return c;
    }

    /// A fixed-length vector in [0, 1]: an ordinal knob gives index / (choices - 1) (0 with one
    /// choice), an unordered knob a one-hot block; an inactive knob gives zeros.
    std::vector<double> encode(const Candidate& c) const {
        if (c.size() != knobs_.size())
            throw InternalError("design space: encode() got a candidate of " + std::to_string(c.size()) + " choices, the space has " +
                                std::to_string(knobs_.size()) + " knobs");
        std::vector<double> x;
        x.reserve(encoded_size_);
        for (std::size_t k = 0; k < knobs_.size(); ++k) {
            const Knob& knob = knobs_[k];
            const bool on = active(c, k);
            if (knob.ordinal) {
                const std::size_t n = knob.values.size();
                x.push_back(on && n > 1 ? static_cast<double>(c[k]) / static_cast<double>(n - 1) : 0.0);
            } else {
                for (std::size_t i = 0; i < knob.values.size(); ++i) x.push_back(on && c[k] == i ? 1.0 : 0.0);
            }
        }
        return x;
    }

    /// The valid candidate nearest to any vector: each ordinal coordinate rounds to the nearest
    /// choice (clamped to [0, 1]), each one-hot block takes its largest entry (the first on ties,
    /// and NaN counts as smallest), then inactive knobs are zeroed. Throws InternalError when the
    /// vector does not have encoded_size() entries.
    Candidate decode(const std::vector<double>& x) const {
        if (x.size() != encoded_size_)
            throw InternalError("design space: decode() got " + std::to_string(x.size()) + " values, the encoding has " + std::to_string(encoded_size_));
        Candidate c(knobs_.size(), 0);
        std::size_t at = 0;
        for (std::size_t k = 0; k < knobs_.size(); ++k) {
            const Knob& knob = knobs_[k];
            const std::size_t n = knob.values.size();
            if (knob.ordinal) {
                double v = x[at++];
                if (!(v >= 0)) v = 0;  // also NaN
                if (v > 1) v = 1;
                c[k] = n > 1 ? static_cast<std::size_t>(std::lround(v * static_cast<double>(n - 1))) : 0;
            } else {
                std::size_t best = 0;
                double best_v = -std::numeric_limits<double>::infinity();
                for (std::size_t i = 0; i < n; ++i) {
                    const double v = x[at + i];
                    if (v > best_v) { best_v = v; best = i; }
                }
                c[k] = best;
                at += n;
            }
        }
        return canonical(std::move(c));
    }

    /// Each active knob with more than one choice moves, with probability `rate`, to another
    /// choice drawn uniformly; when none moved, one such knob (drawn uniformly) does. Knobs that
    /// the change activates get uniform choices. A space of single-choice knobs returns `c`.
    Candidate mutate(const Candidate& c, double rate, std::mt19937_64& rng) const {
        Candidate m = canonical(c);
        std::vector<std::size_t> movable;
        for (std::size_t k = 0; k < m.size(); ++k)
            if (knobs_[k].values.size() > 1 && active(m, k)) movable.push_back(k);
        if (movable.empty()) return m;
        const Candidate before = m;
        bool moved = false;
        for (std::size_t k : movable) {
            if (draw_unit(rng) < rate) { move_knob(m, k, rng); moved = true; }
        }
        if (!moved) move_knob(m, movable[static_cast<std::size_t>(draw_below(rng, movable.size()))], rng);
        return fill_activated(before, std::move(m), rng);
    }

    /// Uniform crossover: each knob from `a` or `b` with equal chance; a knob active in the child
    /// but not in the parent it came from is taken from the other parent when active there, else
    /// drawn uniformly.
    Candidate crossover(const Candidate& a, const Candidate& b, std::mt19937_64& rng) const {
        const Candidate ca = canonical(a), cb = canonical(b);
        Candidate child(knobs_.size(), 0);
        std::vector<bool> from_a(knobs_.size());
        for (std::size_t k = 0; k < child.size(); ++k) {
            from_a[k] = (rng() >> 63) != 0;
            child[k] = from_a[k] ? ca[k] : cb[k];
        }
        for (std::size_t k = 0; k < child.size(); ++k) {
            if (!active(child, k)) { child[k] = 0; continue; }
            const Candidate& src = from_a[k] ? ca : cb;
            const Candidate& other = from_a[k] ? cb : ca;
            if (active(src, k)) continue;
            child[k] = active(other, k) ? other[k] : static_cast<std::size_t>(draw_below(rng, knobs_[k].values.size()));
        }
        return canonical(std::move(child));
    }

    /// log10 of the number of distinct canonical candidates.
    double log10_count() const {
        double total = 0;
        for (std::size_t k = 0; k < knobs_.size(); ++k)
            if (knobs_[k].parent < 0) total += log10_subtree(k);
        return total;
    }

    /// The exact number of distinct candidates, or nullopt when it is 2^64 or more.
    std::optional<std::uint64_t> count() const {
        std::uint64_t total = 1;
        for (std::size_t k = 0; k < knobs_.size(); ++k) {
            if (knobs_[k].parent >= 0) continue;
            const auto n = count_subtree(k);
            if (!n || !mul(total, *n)) return std::nullopt;
        }
        return total;
    }

    /// "name=value, ..." over the active knobs (values in YAML flow style).
    std::string describe(const Candidate& c) const {
        std::string out;
        for (std::size_t k = 0; k < knobs_.size() && k < c.size(); ++k) {
            if (!active(c, k)) continue;
            if (!out.empty()) out += ", ";
            out += knobs_[k].name + "=" + to_text(knobs_[k].values[c[k]]);
        }
        return out;
    }

private:
    void move_knob(Candidate& m, std::size_t k, std::mt19937_64& rng) const {
        const std::size_t n = knobs_[k].values.size();
        const auto shift = 1 + static_cast<std::size_t>(draw_below(rng, n - 1));
        m[k] = (m[k] + shift) % n;
    }

    Candidate fill_activated(const Candidate& before, Candidate m, std::mt19937_64& rng) const {
        for (std::size_t k = 0; k < m.size(); ++k) {
            if (!active(m, k)) { m[k] = 0; continue; }
            if (!active(before, k)) m[k] = static_cast<std::size_t>(draw_below(rng, knobs_[k].values.size()));
        }
        return m;
    }

    static bool mul(std::uint64_t& acc, std::uint64_t v) {
        if (v != 0 && acc > std::numeric_limits<std::uint64_t>::max() / v) return false;
        acc *= v;
        return true;
    }

    std::vector<std::size_t> children(std::size_t k) const {
        std::vector<std::size_t> out;
        for (std::size_t j = k + 1; j < knobs_.size(); ++j)
            if (knobs_[j].parent == static_cast<std::ptrdiff_t>(k)) out.push_back(j);
        return out;
    }

    // log10 of the distinct settings of knob k and everything below it, with k active. Each child's
    // subtree is counted once, not once per choice of k, so that chains of conditional knobs cost
    // linear time rather than exponential.
    double log10_subtree(std::size_t k) const {
        const std::vector<std::size_t> kids = children(k);
        std::vector<double> kid_terms;
        for (std::size_t c : kids) kid_terms.push_back(log10_subtree(c));
        std::vector<double> terms;
        for (std::size_t i = 0; i < knobs_[k].values.size(); ++i) {
            double t = 0;
            for (std::size_t j = 0; j < kids.size(); ++j)
                if (i >= knobs_[kids[j]].parent_min) t += kid_terms[j];
            terms.push_back(t);
        }
        double hi = -std::numeric_limits<double>::infinity();
        for (double t : terms) hi = std::max(hi, t);
        double sum = 0;
        for (double t : terms) sum += std::pow(10.0, t - hi);
        return hi + std::log10(sum);
    }

    std::optional<std::uint64_t> count_subtree(std::size_t k) const {
        const std::vector<std::size_t> kids = children(k);
        // nullopt entries overflow; they matter only for choices of k that activate the child.
        std::vector<std::optional<std::uint64_t>> kid_counts;
        for (std::size_t c : kids) kid_counts.push_back(count_subtree(c));
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < knobs_[k].values.size(); ++i) {
            std::uint64_t t = 1;
            for (std::size_t j = 0; j < kids.size(); ++j) {
                if (i < knobs_[kids[j]].parent_min) continue;
                if (!kid_counts[j] || !mul(t, *kid_counts[j])) return std::nullopt;
            }
            if (total > std::numeric_limits<std::uint64_t>::max() - t) return std::nullopt;
            total += t;
        }
        return total;
    }

    std::vector<Knob> knobs_;
    std::size_t encoded_size_ = 0;
};

}  // namespace transcode
