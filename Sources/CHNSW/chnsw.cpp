// CHNSW: the C API of chnsw.h over hnswlib::HierarchicalNSW<float>. hnswlib's loadIndex trusts its header
// (sizes it multiplies and mallocs, neighbour ids it follows), so chnsw_load checks the header and the file's
// length first, and the loaded graph before it is searched.
#include "chnsw.h"

#include <hnswlib/hnswlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

struct chnsw_index {
    int space;
    size_t dim;
    std::unique_ptr<hnswlib::SpaceInterface<float>> metric;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
};

namespace {

constexpr size_t kHeaderBytes = 96;  // saveIndex: 6 size_t, int, unsigned, 3 size_t, double, size_t

int fail(char *err, size_t errlen, int status, const std::string &message) {
    if (err && errlen) std::snprintf(err, errlen, "%s", message.c_str());
    return status;
}

/// Runs `body`, turning every exception into a status and a message.
template <typename F> int guarded(char *err, size_t errlen, const char *what, F body) {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return fail(err, errlen, CHNSW_NO_MEMORY, std::string(what) + ": out of memory");
    } catch (const std::exception &e) {
        return fail(err, errlen, CHNSW_FAILED, std::string(what) + ": hnswlib: " + e.what());
    } catch (...) {
        return fail(err, errlen, CHNSW_FAILED, std::string(what) + ": hnswlib threw an unknown exception");
    }
}

std::unique_ptr<hnswlib::SpaceInterface<float>> makeSpace(int space, size_t dim) {
    if (space == CHNSW_L2) return std::make_unique<hnswlib::L2Space>(dim);
    return std::make_unique<hnswlib::InnerProductSpace>(dim);
}

/// hnswlib's Python bindings' normalize_vector, in the same order and precision.
void normalize(const float *x, float *out, size_t dim) {
    float norm = 0.0f;
    for (size_t i = 0; i < dim; i++) norm += x[i] * x[i];
    norm = 1.0f / (std::sqrt(norm) + 1e-30f);
    for (size_t i = 0; i < dim; i++) out[i] = x[i] * norm;
}

bool readAt(int fd, void *buf, size_t n, off_t at) {
    auto *p = static_cast<char *>(buf);
    while (n > 0) {
        ssize_t r = pread(fd, p, n, at);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r; n -= size_t(r); at += r;
    }
    return true;
}

template <typename T> T field(const unsigned char *h, size_t at) {
    T v;
    std::memcpy(&v, h + at, sizeof v);
    return v;
}

/// Header and link-list sizes of an hnswlib file, checked against each other and the file's length.
int readHeader(const char *path, chnsw_header *h, char *err, size_t errlen) {
    std::string p(path);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return fail(err, errlen, CHNSW_IO, "cannot open '" + p + "': " + std::strerror(errno));
    struct Closer { int fd; ~Closer() { close(fd); } } closer{fd};
    struct stat st;
    if (fstat(fd, &st) != 0) return fail(err, errlen, CHNSW_IO, "cannot stat '" + p + "': " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(err, errlen, CHNSW_BAD_FILE, "'" + p + "' is not a regular file");
    const uint64_t size = uint64_t(st.st_size);
    auto bad = [&](const std::string &why) {
        return fail(err, errlen, CHNSW_BAD_FILE, "'" + p + "' is not an hnswlib index (" + why + ")");
    };
    if (size < kHeaderBytes) return bad(std::to_string(size) + " bytes, shorter than the 96-byte header");
    unsigned char hd[kHeaderBytes];
    if (!readAt(fd, hd, kHeaderBytes, 0)) return fail(err, errlen, CHNSW_IO, "cannot read '" + p + "'");
    const uint64_t offsetLevel0 = field<uint64_t>(hd, 0), maxElements = field<uint64_t>(hd, 8);
    const uint64_t count = field<uint64_t>(hd, 16), perElement = field<uint64_t>(hd, 24);
    const uint64_t labelOffset = field<uint64_t>(hd, 32), offsetData = field<uint64_t>(hd, 40);
    const int32_t maxLevel = field<int32_t>(hd, 48);
    const uint32_t entry = field<uint32_t>(hd, 52);
    const uint64_t maxM = field<uint64_t>(hd, 56), maxM0 = field<uint64_t>(hd, 64), m = field<uint64_t>(hd, 72);
    const double mult = field<double>(hd, 80);
    const uint64_t efc = field<uint64_t>(hd, 88);

    if (offsetLevel0 != 0) return bad("level-0 offset " + std::to_string(offsetLevel0) + ", not 0");
    if (m < 2 || m > 32767 || maxM != m || maxM0 != 2 * m)
        return bad("M " + std::to_string(m) + ", maxM " + std::to_string(maxM) + ", maxM0 " + std::to_string(maxM0) +
                   ": hnswlib writes 2 <= M, maxM = M, maxM0 = 2M");
    if (!(std::isfinite(mult) && std::fabs(mult * std::log(double(m)) - 1) < 1e-9))
        return bad("level multiplier " + std::to_string(mult) + " is not 1/ln(M)");
    if (offsetData != maxM0 * 4 + 4) return bad("data offset " + std::to_string(offsetData) + " does not follow from M");
    if (labelOffset <= offsetData || (labelOffset - offsetData) % 4 != 0 || perElement != labelOffset + 8)
        return bad("element layout (data " + std::to_string(offsetData) + ", label " + std::to_string(labelOffset) +
                   ", size " + std::to_string(perElement) + ") is not links + float vector + 8-byte label");
    if (count > maxElements) return bad(std::to_string(count) + " elements, more than its capacity " + std::to_string(maxElements));
    if (count > std::numeric_limits<uint32_t>::max()) return bad("more elements than 32-bit internal ids can name");
    if (count > (size - kHeaderBytes) / perElement)
        return bad(std::to_string(count) + " elements of " + std::to_string(perElement) + " bytes do not fit in " +
                   std::to_string(size) + " bytes");
    if (efc < 1) return bad("ef_construction 0");
    if (count == 0 && !(maxLevel == -1 && entry == std::numeric_limits<uint32_t>::max()))
        return bad("an empty index with an entry point");
    if (count > 0 && (maxLevel < 0 || entry >= count))
        return bad("entry point " + std::to_string(entry) + " / top level " + std::to_string(maxLevel) + " out of range");

    // The link lists of levels ≥ 1: one 4-byte size per element, then that many bytes, to the end of the file.
    const uint64_t listsAt = kHeaderBytes + count * perElement, perLevel = maxM * 4 + 4;
    std::vector<unsigned char> tail(size - listsAt);
    if (!tail.empty() && !readAt(fd, tail.data(), tail.size(), off_t(listsAt)))
        return fail(err, errlen, CHNSW_IO, "cannot read '" + p + "'");
    uint64_t at = 0;
    int32_t entryLevel = -1;
    for (uint64_t i = 0; i < count; i++) {
        if (tail.size() - at < 4) return bad("its link lists end early, at element " + std::to_string(i));
        const uint32_t bytes = field<uint32_t>(tail.data(), at);
        at += 4;
        if (bytes % perLevel != 0 || bytes / perLevel > uint64_t(maxLevel) || bytes > tail.size() - at)
            return bad("element " + std::to_string(i) + " has a " + std::to_string(bytes) + "-byte upper-level link list");
        if (i == entry) entryLevel = int32_t(bytes / perLevel);
        at += bytes;
    }
    if (at != tail.size()) return bad(std::to_string(tail.size() - at) + " bytes after the last link list");
    if (count > 0 && entryLevel != maxLevel) return bad("the entry point is not on the top level");

    *h = chnsw_header{maxElements, count, m, maxM0, efc, (labelOffset - offsetData) / 4, maxLevel, entry, mult, size};
    return CHNSW_OK;
}

/// The loaded graph: ids in range, lists within M, every upper-level neighbour present on that level.
std::string checkGraph(const hnswlib::HierarchicalNSW<float> &g, const chnsw_header &h) {
    if (g.cur_element_count != h.count || g.maxM0_ != h.max_m0 || g.maxM_ != h.m || g.maxlevel_ != h.max_level ||
        g.enterpoint_node_ != h.entry_point || g.size_data_per_element_ != (h.max_m0 * 4 + 4) + h.dimension * 4 + 8)
        return "the file changed while it was loaded";
    const size_t n = g.cur_element_count;
    for (size_t i = 0; i < n; i++) {
        auto *l0 = g.get_linklist0(hnswlib::tableint(i));
        const size_t c0 = g.getListCount(l0);
        if (c0 > g.maxM0_) return "element " + std::to_string(i) + " has " + std::to_string(c0) + " level-0 links";
        for (size_t j = 0; j < c0; j++)
            if (l0[1 + j] >= n) return "element " + std::to_string(i) + " links to element " + std::to_string(l0[1 + j]);
        const int level = g.element_levels_[i];
        if (level > g.maxlevel_) return "element " + std::to_string(i) + " is above the top level";
        for (int l = 1; l <= level; l++) {
            auto *ll = g.get_linklist(hnswlib::tableint(i), l);
            const size_t c = g.getListCount(ll);
            if (c > g.maxM_) return "element " + std::to_string(i) + " has " + std::to_string(c) + " links on level " + std::to_string(l);
            for (size_t j = 0; j < c; j++) {
                const auto t = ll[1 + j];
                if (t >= n || g.element_levels_[t] < l)
                    return "element " + std::to_string(i) + " links to element " + std::to_string(t) + " on level " + std::to_string(l) + ", where it is absent";
            }
        }
    }
    return "";
}

}  // namespace

extern "C" {

int chnsw_create(int space, size_t dim, size_t max_elements, size_t m, size_t ef_construction, size_t seed,
                 chnsw_index **out, char *err, size_t errlen) {
    *out = nullptr;
    if (space < CHNSW_L2 || space > CHNSW_COSINE) return fail(err, errlen, CHNSW_BAD_ARGUMENT, "unknown space " + std::to_string(space));
    if (dim == 0 || dim > (1u << 24)) return fail(err, errlen, CHNSW_BAD_ARGUMENT, "dimension must be in 1...16777216");
    if (m < 2 || m > 32767) return fail(err, errlen, CHNSW_BAD_ARGUMENT, "M must be in 2...32767 (got " + std::to_string(m) + ")");
    if (ef_construction < 1) return fail(err, errlen, CHNSW_BAD_ARGUMENT, "ef_construction must be at least 1");
    if (max_elements > std::numeric_limits<uint32_t>::max())
        return fail(err, errlen, CHNSW_BAD_ARGUMENT, "at most 2^32 - 1 elements (hnswlib's ids are 32-bit)");
    return guarded(err, errlen, "create", [&] {
        auto ix = std::make_unique<chnsw_index>();
        ix->space = space;
        ix->dim = dim;
        ix->metric = makeSpace(space, dim);
        ix->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(ix->metric.get(), max_elements, m, ef_construction, seed);
        *out = ix.release();
        return int(CHNSW_OK);
    });
}

int chnsw_add(chnsw_index *ix, const float *rows, const uint64_t *ids, size_t count, char *err, size_t errlen) {
    return guarded(err, errlen, "add", [&] {
        std::vector<float> unit(ix->space == CHNSW_COSINE ? ix->dim : 0);
        for (size_t r = 0; r < count; r++) {
            const float *x = rows + r * ix->dim;
            if (ix->space == CHNSW_COSINE) { normalize(x, unit.data(), ix->dim); x = unit.data(); }
            if (ix->hnsw->cur_element_count >= ix->hnsw->max_elements_ &&
                ix->hnsw->label_lookup_.find(ids[r]) == ix->hnsw->label_lookup_.end())
                return fail(err, errlen, CHNSW_BAD_ARGUMENT, "the index is full (" + std::to_string(ix->hnsw->max_elements_) +
                            " elements); resize it first");
            ix->hnsw->addPoint(x, hnswlib::labeltype(ids[r]));
        }
        return int(CHNSW_OK);
    });
}

int chnsw_resize(chnsw_index *ix, size_t max_elements, char *err, size_t errlen) {
    if (max_elements < ix->hnsw->cur_element_count || max_elements > std::numeric_limits<uint32_t>::max())
        return fail(err, errlen, CHNSW_BAD_ARGUMENT, "the new capacity must hold the current elements and be below 2^32");
    return guarded(err, errlen, "resize", [&] { ix->hnsw->resizeIndex(max_elements); return int(CHNSW_OK); });
}

int chnsw_set_ef(chnsw_index *ix, size_t ef, char *err, size_t errlen) {
    if (ef < 1) return fail(err, errlen, CHNSW_BAD_ARGUMENT, "ef must be at least 1");
    ix->hnsw->setEf(ef);
    return CHNSW_OK;
}

int chnsw_knn(const chnsw_index *ix, const float *query, size_t k, uint64_t *ids, float *distances, size_t *found,
              char *err, size_t errlen) {
    *found = 0;
    if (k < 1) return fail(err, errlen, CHNSW_BAD_ARGUMENT, "k must be at least 1");
    return guarded(err, errlen, "knn", [&] {
        std::vector<float> unit(ix->space == CHNSW_COSINE ? ix->dim : 0);
        const float *q = query;
        if (ix->space == CHNSW_COSINE) { normalize(query, unit.data(), ix->dim); q = unit.data(); }
        auto result = ix->hnsw->searchKnn(q, k);  // a max-heap: farthest on top
        size_t n = result.size();
        *found = n;
        while (!result.empty()) {
            n--;
            ids[n] = uint64_t(result.top().second);
            distances[n] = result.top().first;
            result.pop();
        }
        return int(CHNSW_OK);
    });
}

int chnsw_save(chnsw_index *ix, const char *path, char *err, size_t errlen) {
    return guarded(err, errlen, "save", [&] {
        const auto &g = *ix->hnsw;
        uint64_t expected = kHeaderBytes + uint64_t(g.cur_element_count) * g.size_data_per_element_;
        for (size_t i = 0; i < g.cur_element_count; i++)
            expected += 4 + (g.element_levels_[i] > 0 ? uint64_t(g.size_links_per_element_) * g.element_levels_[i] : 0);
        ix->hnsw->saveIndex(path);  // an std::ofstream whose failures hnswlib does not check: the size tells
        struct stat st;
        if (stat(path, &st) != 0) return fail(err, errlen, CHNSW_IO, std::string("cannot write '") + path + "': " + std::strerror(errno));
        if (uint64_t(st.st_size) != expected)
            return fail(err, errlen, CHNSW_IO, std::string("writing '") + path + "' stopped at " + std::to_string(st.st_size) +
                        " of " + std::to_string(expected) + " bytes (disk full?)");
        return int(CHNSW_OK);
    });
}

int chnsw_read_header(const char *path, chnsw_header *out, char *err, size_t errlen) {
    return guarded(err, errlen, "read header", [&] { return readHeader(path, out, err, errlen); });
}

int chnsw_load(const char *path, int space, size_t dim, size_t capacity, chnsw_index **out, char *err, size_t errlen) {
    *out = nullptr;
    if (space < CHNSW_L2 || space > CHNSW_COSINE) return fail(err, errlen, CHNSW_BAD_ARGUMENT, "unknown space " + std::to_string(space));
    return guarded(err, errlen, "load", [&] {
        chnsw_header h;
        int s = readHeader(path, &h, err, errlen);
        if (s != CHNSW_OK) return s;
        if (h.dimension != dim)
            return fail(err, errlen, CHNSW_BAD_FILE, std::string("'") + path + "' holds " + std::to_string(h.dimension) +
                        "-dimensional vectors, not " + std::to_string(dim));
        // Capacity from the caller, never from the file (its max_elements sizes hnswlib's allocations).
        const size_t cap = std::max<size_t>(size_t(h.count), std::min<size_t>(capacity, std::numeric_limits<uint32_t>::max()));
        auto ix = std::make_unique<chnsw_index>();
        ix->space = space;
        ix->dim = dim;
        ix->metric = makeSpace(space, dim);
        ix->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(ix->metric.get());
        // hnswlib's loading constructor leaves these uninitialised; its destructor frees them and loadIndex only
        // adds to num_deleted_ (a garbage count would switch every search to the slower deletion-aware loop).
        auto &g = *ix->hnsw;
        g.data_level0_memory_ = nullptr;
        g.linkLists_ = nullptr;
        g.visited_list_pool_ = nullptr;
        g.cur_element_count = 0;
        g.num_deleted_ = 0;
        try {
            g.loadIndex(path, ix->metric.get(), cap);
        } catch (...) {
            g.cur_element_count = 0;  // its element lists may be half made: leak them rather than free garbage
            throw;
        }
        const std::string why = checkGraph(*ix->hnsw, h);
        if (!why.empty())
            return fail(err, errlen, CHNSW_BAD_FILE, std::string("'") + path + "' is a damaged hnswlib index: " + why);
        *out = ix.release();
        return int(CHNSW_OK);
    });
}

void chnsw_get_info(const chnsw_index *ix, chnsw_info *out) {
    const auto &g = *ix->hnsw;
    *out = chnsw_info{ix->space, ix->dim, g.cur_element_count, g.max_elements_, g.M_, g.ef_construction_, g.ef_,
                      uint64_t(g.num_deleted_), g.maxlevel_};
}

size_t chnsw_count(const chnsw_index *ix) { return ix->hnsw->cur_element_count; }

int chnsw_item(const chnsw_index *ix, size_t i, float *out, uint64_t *label, char *err, size_t errlen) {
    if (i >= ix->hnsw->cur_element_count) return fail(err, errlen, CHNSW_BAD_ARGUMENT, "item " + std::to_string(i) + " out of range");
    std::memcpy(out, ix->hnsw->getDataByInternalId(hnswlib::tableint(i)), ix->dim * sizeof(float));
    *label = ix->hnsw->getExternalLabel(hnswlib::tableint(i));
    return CHNSW_OK;
}

void chnsw_free(chnsw_index *ix) {
    if (!ix) return;
    ix->hnsw.reset();  // before the space it points to
    delete ix;
}

}  // extern "C"
