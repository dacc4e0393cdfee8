#include "training/checkpoint.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <system_error>

#include <fmt/format.h>

#include "common/atomic_file.hpp"
#include "training/trainer.hpp"
#include "transcode/errors.hpp"
#include "transcode/input_file.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

constexpr char magic[8] = {'T', 'C', 'C', 'K', 'P', 'T', '\r', '\n'};
// EpochReport fields stored per epoch, in this order (as doubles).
constexpr std::uint32_t epoch_fields = 15;
// Limits on what a header may declare, so a corrupt count cannot ask for absurd memory.
constexpr std::uint64_t max_name_bytes = 4096;
constexpr std::uint64_t max_rank = 8;
// The largest PruningPoint value (logits_gradient); a stored point above it is corrupt.
constexpr std::uint32_t max_point = static_cast<std::uint32_t>(PruningPoint::logits_gradient);

std::uint64_t fnv1a(const char* p, std::size_t n) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<unsigned char>(p[i]);
        h *= 0x100000001b3ull;
    }
    return h;
}

class Writer {
public:
    template <class T>
    void put(T v) {
        put_bytes(&v, sizeof v);
    }
    void put_bytes(const void* p, std::size_t n) { bytes.append(static_cast<const char*>(p), n); }
    std::string bytes;
};

class Reader {
public:
    Reader(const fs::path& file, const std::vector<char>& bytes, std::size_t end) : file_(file), bytes_(bytes), end_(end) {}
    [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }
    [[noreturn]] void fail_at(std::size_t offset, const std::string& what) const {
        throw ConfigError(fmt::format("{}: error: byte {}: {} (checkpoint)", file_.string(), offset, what));
    }
    void need(std::uint64_t n, const std::string& what) const {
        if (n > end_ - pos_) fail(fmt::format("truncated: {} needs {} bytes, {} are left", what, n, end_ - pos_));
    }
    template <class T>
    T get(const std::string& what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    void get_bytes(void* out, std::uint64_t n, const std::string& what) {
        need(n, what);
        if (n > 0) std::memcpy(out, bytes_.data() + pos_, n);
        pos_ += n;
    }
    std::size_t pos() const { return pos_; }

private:
    const fs::path& file_;
    const std::vector<char>& bytes_;
    std::size_t end_;
    std::size_t pos_ = 0;
};

std::vector<double> epoch_values(const EpochReport& e) {
    return {static_cast<double>(e.epoch), static_cast<double>(e.train_examples), e.train_loss, e.train_accuracy, e.learning_rate, e.grad_norm,
            static_cast<double>(e.clipped_steps), static_cast<double>(e.validation_examples), e.validation_loss, e.validation_accuracy,
            e.validation_precision, e.validation_recall, e.validation_f1, e.seconds, static_cast<double>(e.steps)};
}

EpochReport epoch_from(const double* v) {
    EpochReport e;
    e.epoch = static_cast<std::int64_t>(v[0]);
    e.train_examples = static_cast<std::int64_t>(v[1]);
    e.train_loss = v[2];
    e.train_accuracy = v[3];
    e.learning_rate = v[4];
    e.grad_norm = v[5];
    e.clipped_steps = static_cast<std::int64_t>(v[6]);
    e.validation_examples = static_cast<std::int64_t>(v[7]);
    e.validation_loss = v[8];
    e.validation_accuracy = v[9];
    e.validation_precision = v[10];
    e.validation_recall = v[11];
    e.validation_f1 = v[12];
    e.seconds = v[13];
    e.steps = static_cast<std::int64_t>(v[14]);
    return e;
}

}  // namespace

void write_checkpoint(const fs::path& file, const Checkpoint& c) {
    Writer w;
    w.put_bytes(magic, sizeof magic);
    w.put<std::uint32_t>(checkpoint_format_version);
    w.put<std::int64_t>(c.epoch);
    w.put<std::int64_t>(c.global_step);
    w.put<std::int64_t>(c.train_examples);
    w.put<std::int64_t>(c.steps_per_epoch);
    w.put<std::uint64_t>(c.shuffle_state);
    w.put<std::uint32_t>(epoch_fields);
    w.put<std::uint64_t>(c.epochs.size());
    for (const EpochReport& e : c.epochs)
        for (double v : epoch_values(e)) w.put<double>(v);
    // The header: every tensor's name and shape, then the data in the same order.
    w.put<std::uint64_t>(c.tensors.size());
    for (const auto& t : c.tensors) {
        w.put<std::uint64_t>(t.name.size());
        w.put_bytes(t.name.data(), t.name.size());
        w.put<std::uint64_t>(t.shape.size());
        for (std::int64_t d : t.shape) w.put<std::int64_t>(d);
    }
    for (const auto& t : c.tensors) w.put_bytes(t.data.data(), t.data.size() * sizeof(float));
    // Version 2: per epoch, the sparsity per pruning point (training, validation) and the
    // thresholds in effect; then the calibration in effect.
    const auto put_counts = [&](const std::map<PruningPoint, RoleCount>& counts) {
        w.put<std::uint64_t>(counts.size());
        for (const auto& [point, rc] : counts) {
            w.put<std::uint32_t>(static_cast<std::uint32_t>(point));
            w.put<std::int64_t>(rc.zeros);
            w.put<std::int64_t>(rc.elements);
        }
    };
    for (const EpochReport& e : c.epochs) {
        put_counts(e.point_sparsity);
        put_counts(e.validation_point_sparsity);
        w.put<std::uint64_t>(e.thresholds.size());
        for (const auto& [point, tau] : e.thresholds) {
            w.put<std::uint32_t>(static_cast<std::uint32_t>(point));
            w.put<double>(tau);
        }
    }
    w.put<std::uint8_t>(c.calibration ? 1 : 0);
    if (c.calibration) {
        w.put<std::int64_t>(c.calibration->batches);
        w.put<std::int64_t>(c.calibration->rounds);
        w.put<std::uint64_t>(c.calibration->points.size());
        for (const auto& [point, p] : c.calibration->points) {
            w.put<std::uint32_t>(static_cast<std::uint32_t>(point));
            w.put<double>(p.target);
            w.put<double>(p.threshold);
            w.put<double>(p.sparsity);
            w.put<std::int64_t>(p.values);
        }
    }
    w.put<std::uint64_t>(fnv1a(w.bytes.data(), w.bytes.size()));

    write_file_atomically(file, std::string_view(w.bytes.data(), w.bytes.size()), "the checkpoint");
}

Checkpoint read_checkpoint(const fs::path& file) {
    // A FIFO or a device would block or never end: regular files only. A checkpoint's size follows
    // its model, so the limit is only what a file can hold.
    if (const std::string problem = input_file_problem(file, std::numeric_limits<std::uintmax_t>::max());
        !problem.empty() && problem != "not found" && problem != "is a directory, not a regular file")
        throw ConfigError(fmt::format("{}: error: the file {} (checkpoint)", file.string(), problem));
    std::ifstream in(file, std::ios::binary);
    if (!in || fs::is_directory(file)) throw ConfigError(fmt::format("{}: error: cannot open the file (checkpoint)", file.string()));
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Reader head(file, bytes, bytes.size());
    char m[sizeof magic];
    head.get_bytes(m, sizeof m, "the magic");
    if (std::memcmp(m, magic, sizeof magic) != 0) head.fail_at(0, "not a transcode checkpoint (the file does not start with the checkpoint magic)");
    const auto version = head.get<std::uint32_t>("the format version");
    if (version != checkpoint_format_version)
        head.fail_at(sizeof magic, fmt::format("format version {}; this engine reads version {}", version, checkpoint_format_version));
    if (bytes.size() < head.pos() + sizeof(std::uint64_t)) head.fail("truncated: the file ends before its checksum");
    const std::size_t body = bytes.size() - sizeof(std::uint64_t);
    std::uint64_t stored = 0;
    std::memcpy(&stored, bytes.data() + body, sizeof stored);
    if (stored != fnv1a(bytes.data(), body)) {
        throw ConfigError(fmt::format("{}: error: byte {}: the checksum does not match the contents: the file is truncated or corrupt (checkpoint)",
                                      file.string(), body));
    }

    Reader r(file, bytes, body);
    r.get_bytes(m, sizeof m, "the magic");
    r.get<std::uint32_t>("the format version");
    Checkpoint c;
    c.epoch = r.get<std::int64_t>("the epoch");
    c.global_step = r.get<std::int64_t>("the step count");
    c.train_examples = r.get<std::int64_t>("the training example count");
    c.steps_per_epoch = r.get<std::int64_t>("the steps per epoch");
    c.shuffle_state = r.get<std::uint64_t>("the shuffle state");
    if (c.epoch < 0 || c.global_step < 0 || c.train_examples < 0 || c.steps_per_epoch < 0) r.fail("negative epoch or step counts");
    const auto fields = r.get<std::uint32_t>("the epoch field count");
    if (fields != epoch_fields) r.fail(fmt::format("{} fields per epoch; version {} has {}", fields, checkpoint_format_version, epoch_fields));
    const auto n_epochs = r.get<std::uint64_t>("the epoch count");
    const std::uint64_t epoch_bytes = std::uint64_t{epoch_fields} * sizeof(double);
    if (n_epochs > (body - r.pos()) / epoch_bytes)
        r.fail(fmt::format("truncated: the curves of {} epochs cannot fit in the {} bytes left", n_epochs, body - r.pos()));
    for (std::uint64_t e = 0; e < n_epochs; ++e) {
        double v[epoch_fields];
        for (double& x : v) x = r.get<double>("the epoch curves");
        c.epochs.push_back(epoch_from(v));
    }
    const auto n_tensors = r.get<std::uint64_t>("the tensor count");
    // Each tensor's header takes at least 16 bytes: a corrupt count fails here, before allocating.
    if (n_tensors > (body - r.pos()) / 16)
        r.fail(fmt::format("truncated: the headers of {} tensors cannot fit in the {} bytes left", n_tensors, body - r.pos()));
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
        CheckpointTensor t;
        const auto len = r.get<std::uint64_t>(fmt::format("the name length of tensor {}", i));
        if (len == 0 || len > max_name_bytes) r.fail(fmt::format("tensor {} has a name of {} bytes", i, len));
        t.name.resize(len);
        r.get_bytes(t.name.data(), len, fmt::format("the name of tensor {}", i));
        const auto rank = r.get<std::uint64_t>(fmt::format("the rank of tensor '{}'", t.name));
        if (rank > max_rank) r.fail(fmt::format("tensor '{}' has rank {}", t.name, rank));
        for (std::uint64_t d = 0; d < rank; ++d) {
            const auto dim = r.get<std::int64_t>(fmt::format("the shape of tensor '{}'", t.name));
            if (dim < 1 || dim > (std::int64_t{1} << 40)) r.fail(fmt::format("tensor '{}' has a dimension of {}", t.name, dim));
            t.shape.push_back(dim);
        }
        c.tensors.push_back(std::move(t));
    }
    for (auto& t : c.tensors) {
        std::uint64_t n = 1;
        for (std::int64_t d : t.shape) {
            if (n > (std::uint64_t{1} << 40) / static_cast<std::uint64_t>(d)) r.fail(fmt::format("tensor '{}' is too large", t.name));
            n *= static_cast<std::uint64_t>(d);
        }
        const std::string what = fmt::format("the data of tensor '{}'", t.name);
        r.need(n * sizeof(float), what);
        t.data.resize(n);
        r.get_bytes(t.data.data(), n * sizeof(float), what);
    }
    // Per epoch: the per-point counts and thresholds; then the calibration in effect.
    const auto get_point = [&](const std::string& what) {
        const auto p = r.get<std::uint32_t>(what);
        if (p > max_point) r.fail(fmt::format("{} is {}; pruning points are 0 to {}", what, p, max_point));
        return static_cast<PruningPoint>(p);
    };
    const auto get_count = [&](const std::string& what, std::uint64_t entry_bytes) {
        const auto n = r.get<std::uint64_t>(what);
        if (n > max_point + 1 || n * entry_bytes > body - r.pos())
            r.fail(fmt::format("{} is {}: at most {} points, and the entries must fit in the {} bytes left", what, n, max_point + 1, body - r.pos()));
        return n;
    };
    const auto get_counts = [&](std::map<PruningPoint, RoleCount>& out, const std::string& what) {
        const std::uint64_t n = get_count(fmt::format("the point count of {}", what), 4 + 8 + 8);
        for (std::uint64_t i = 0; i < n; ++i) {
            const PruningPoint p = get_point(fmt::format("a point of {}", what));
            RoleCount rc;
            rc.zeros = r.get<std::int64_t>(what);
            rc.elements = r.get<std::int64_t>(what);
            if (rc.zeros < 0 || rc.elements < rc.zeros) r.fail(fmt::format("{}: {} zeros of {} elements at point {}", what, rc.zeros, rc.elements, to_string(p)));
            out[p] = rc;
        }
    };
    for (std::size_t e = 0; e < c.epochs.size(); ++e) {
        get_counts(c.epochs[e].point_sparsity, fmt::format("the training sparsity of epoch {}", e + 1));
        get_counts(c.epochs[e].validation_point_sparsity, fmt::format("the validation sparsity of epoch {}", e + 1));
        const std::uint64_t n = get_count(fmt::format("the threshold count of epoch {}", e + 1), 4 + 8);
        for (std::uint64_t i = 0; i < n; ++i) {
            const PruningPoint p = get_point(fmt::format("a threshold's point in epoch {}", e + 1));
            c.epochs[e].thresholds[p] = r.get<double>(fmt::format("the thresholds of epoch {}", e + 1));
        }
    }
    const auto has_calibration = r.get<std::uint8_t>("the calibration flag");
    if (has_calibration > 1) r.fail(fmt::format("the calibration flag is {}; 0 or 1 expected", has_calibration));
    if (has_calibration == 1) {
        CalibrationReport cal;
        cal.batches = r.get<std::int64_t>("the calibration's batch count");
        cal.rounds = r.get<std::int64_t>("the calibration's round count");
        const std::uint64_t n = get_count("the calibration's point count", 4 + 3 * 8 + 8);
        for (std::uint64_t i = 0; i < n; ++i) {
            const PruningPoint p = get_point("a calibrated point");
            CalibratedPoint cp;
            cp.target = r.get<double>("a calibration target");
            cp.threshold = r.get<double>("a calibrated threshold");
            cp.sparsity = r.get<double>("a calibrated sparsity");
            cp.values = r.get<std::int64_t>("a calibrated value count");
            if (!(cp.target >= 0 && cp.target <= 1) || !(cp.threshold >= 0) || !std::isfinite(cp.threshold))
                r.fail(fmt::format("calibrated point {} has target {} and threshold {}", to_string(p), cp.target, cp.threshold));
            cal.points[p] = cp;
        }
        c.calibration = cal;
    }
    if (r.pos() != body) r.fail(fmt::format("{} bytes follow the calibration", body - r.pos()));
    return c;
}

}  // namespace transcode::engine
