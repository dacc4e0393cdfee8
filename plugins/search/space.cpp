#include "space.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "transcode/errors.hpp"

namespace transcode::plugins::search {

void check_space(const SearchSpace& space, std::string_view algorithm) {
    for (const Knob& knob : space.knobs) {
        if (knob.choices == 0)
            throw ConfigError(std::string(algorithm) + ": knob '" + knob.name + "' has 0 choices; every knob needs at least one");
    }
}

std::optional<std::uint64_t> candidate_count(const SearchSpace& space) {
    std::uint64_t count = 1;
    for (const Knob& knob : space.knobs) {
        const auto choices = static_cast<std::uint64_t>(knob.choices);
        if (choices == 0) return 0;
        if (count > std::numeric_limits<std::uint64_t>::max() / choices) return std::nullopt;
        count *= choices;
    }
    return count;
}

std::string candidate_count_decimal(const SearchSpace& space) {
    // Little-endian limbs of base 10^9: a limb times a limb plus carries stays below 2^64.
    constexpr std::uint64_t base = 1'000'000'000;
    std::vector<std::uint64_t> product{1};
    for (const Knob& knob : space.knobs) {
        std::vector<std::uint64_t> factor;
        for (auto c = static_cast<std::uint64_t>(knob.choices); c != 0; c /= base) factor.push_back(c % base);
        if (factor.empty()) return "0";
        std::vector<std::uint64_t> next(product.size() + factor.size(), 0);
        for (std::size_t i = 0; i < product.size(); ++i) {
            std::uint64_t carry = 0;
            for (std::size_t j = 0; j < factor.size(); ++j) {
                const std::uint64_t t = next[i + j] + product[i] * factor[j] + carry;
                next[i + j] = t % base;
                carry = t / base;
            }
            for (std::size_t k = i + factor.size(); carry != 0; ++k) {
                const std::uint64_t t = next[k] + carry;
                next[k] = t % base;
                carry = t / base;
            }
        }
        while (next.size() > 1 && next.back() == 0) next.pop_back();
        product = std::move(next);
    }
    std::string text = std::to_string(product.back());
    for (std::size_t i = product.size() - 1; i-- > 0;) {
        const std::string limb = std::to_string(product[i]);
        text += std::string(9 - limb.size(), '0') + limb;
    }
    return text;
}

Candidate candidate_at(const SearchSpace& space, std::uint64_t index) {
    Candidate candidate(space.knobs.size());
    for (std::size_t i = space.knobs.size(); i-- > 0;) {
        const auto choices = static_cast<std::uint64_t>(space.knobs[i].choices);
        candidate[i] = static_cast<std::size_t>(index % choices);
        index /= choices;
    }
    return candidate;
}

}  // namespace transcode::plugins::search
