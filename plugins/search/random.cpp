#include "random.hpp"

#include <algorithm>
#include <memory>
#include <string>

namespace transcode::plugins::search {

namespace {

constexpr const char* algorithm = "random search";

ParamSchema random_schema() {
    return {
        ParamSpec::boolean("dedupe",
                           "never ask the same (canonical) candidate twice: repeats are rejected, so ask() returns "
                           "fewer candidates (then none) once the whole space was asked. false draws with replacement "
                           "and never runs out")
            .default_value(true),
        ParamSpec::boolean("stratified",
                           "Latin-hypercube-style draws: each knob deals its choices from a shuffled deck (a new shuffle "
                           "once all were dealt), so over any number of candidates the values of every knob are used as "
                           "evenly as possible (counts differ by at most 1 for an always-active knob such as layers). Still "
                           "deterministic for a seed, and only active knobs are drawn")
            .default_value(false),
        ParamSpec::enumeration("decks",
                               "stratified: per_knob, every knob its own deck, so the copies of a knob within one design "
                               "are independent; shared, the per-layer, per-head and per-stack copies of a knob share one "
                               "deck, which balances the pooled values but deals consecutive copies different values "
                               "(a 2-valued per-layer width then alternates within every design, and its mean is the "
                               "same for all). shared reproduces the tables made before per_knob existed",
                               {"per_knob", "shared"})
            .default_value("per_knob"),
    };
}

// The deck key of a knob: its name without index brackets ("layer[3].head[1].op" -> "layer.head.op"),
// so that the copies of a knob over layers, heads and stacks share a deck.
std::string deck_name(const std::string& name) {
    std::string out;
    bool in_brackets = false;
    for (char ch : name) {
        if (ch == '[') in_brackets = true;
        else if (ch == ']') in_brackets = false;
        else if (!in_brackets) out += ch;
    }
    return out;
}

}  // namespace

RandomSearch::RandomSearch(const Params& params)
    : dedupe_(params.get_bool("dedupe")), stratified_(params.get_bool("stratified")), shared_decks_(params.get_string("decks") == "shared") {}

void RandomSearch::start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& /*budget*/) {
    space_ = &space;
    rng_.seed(seed);
    asked_.reset(space);
    observations_ = 0;
    decks_.clear();
    deck_of_knob_.clear();
    if (!stratified_) return;
    // One deck per knob (per_knob), or per knob name without indices and choice list (shared; copies
    // with other lists get their own).
    std::vector<std::pair<std::string, const std::vector<Value>*>> keys;
    for (const Knob& k : space.knobs()) {
        const std::string name = shared_decks_ ? deck_name(k.name) : k.name;
        std::size_t d = 0;
        while (d < keys.size() && !(keys[d].first == name && *keys[d].second == k.values)) ++d;
        if (d == keys.size()) {
            keys.emplace_back(name, &k.values);
            decks_.push_back(Deck{k.values.size(), {}, 0});
        }
        deck_of_knob_.push_back(d);
    }
}

std::size_t RandomSearch::deal(Deck& deck) {
    if (deck.next == deck.cards.size()) {
        deck.cards.resize(deck.choices);
        for (std::size_t i = 0; i < deck.choices; ++i) deck.cards[i] = i;
        // Fisher-Yates through draw_below: the same shuffle on every platform.
        for (std::size_t i = deck.choices; i > 1; --i) std::swap(deck.cards[i - 1], deck.cards[static_cast<std::size_t>(draw_below(rng_, i))]);
        deck.next = 0;
    }
    return deck.cards[deck.next++];
}

Candidate RandomSearch::stratified_sample() {
    Candidate c(space_->size(), 0);
    for (std::size_t k = 0; k < c.size(); ++k)
        if (space_->active(c, k)) c[k] = deal(decks_[deck_of_knob_[k]]);
    return c;
}

std::vector<Candidate> RandomSearch::ask(std::size_t n) {
    if (space_ == nullptr) throw InternalError(std::string(algorithm) + ": ask() called before start()");
    std::vector<Candidate> out;
    out.reserve(std::min<std::size_t>(n, 4096));
    while (out.size() < n) {
        if (stratified_) {
            // A repeat (with dedupe) is dealt again; the cards it used stay dealt, so in a space small
            // enough to repeat, the counts can drift apart by the repeats. After 64 repeats in a row
            // (a nearly exhausted space) the plain draw of unasked candidates takes over.
            std::optional<Candidate> c;
            for (int attempt = 0; attempt < ClaimedCandidates::rejections_before_enumerating && !c; ++attempt) {
                Candidate d = stratified_sample();
                if (!dedupe_ || asked_.claim(d)) c = std::move(d);
            }
            if (!c) c = asked_.draw(rng_);
            if (!c) break;
            out.push_back(std::move(*c));
            continue;
        }
        if (!dedupe_) {
            out.push_back(space_->sample(rng_));
            continue;
        }
        std::optional<Candidate> c = asked_.draw(rng_);
        if (!c) break;  // every candidate of the space was asked
        out.push_back(std::move(*c));
    }
    return out;
}

void RandomSearch::tell(const std::vector<Observation>& results) { observations_ += results.size(); }

Factory random_factory() {
    return Factory{
        PluginKind::search,
        "search.random",
        "Random: random candidates, each active knob uniform over its choices, reproducible for a seed on every platform\n"
        "Draws come from std::mt19937_64 seeded by start() through the SDK's draw_below (bitmask rejection), whose\n"
        "output is the same with every standard library. A knob that another knob switches off is not drawn, so with\n"
        "conditional knobs candidates are not equally likely (a 2-layer design is as likely as all 12-layer designs\n"
        "together). With dedupe (the default) no canonical candidate is asked twice: repeats are rejected, and ask()\n"
        "returns fewer than n, then none, once the space is exhausted. Observations are accepted and counted but do\n"
        "not steer the draws. Calling start() again starts over. With stratified, each knob deals its choices from a\n"
        "shuffled deck shared by its per-layer/per-head/per-stack copies (Latin-hypercube style): over N candidates\n"
        "every value of an always-active knob is used floor(N/k) or ceil(N/k) times.",
        random_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<RandomSearch>(params); },
    };
}

}  // namespace transcode::plugins::search
