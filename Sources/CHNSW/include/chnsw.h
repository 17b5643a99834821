// CHNSW: a thin C shim over hnswlib (Debian's libhnswlib-dev 0.6.2, header-only C++), the reference HNSW.
// Every function returns a status (CHNSW_OK or an error kind) and, on failure, fills `err` with one line;
// every C++ exception is caught inside the shim. Nothing here prints or exits.
//
// Spaces are hnswlib's: l2 = squared Euclidean, ip = 1 - x·y, cosine = ip over vectors normalised on add and
// query exactly as hnswlib's Python bindings do (x / (sqrt(Σx²) + 1e-30), summed in order in float).
// The file is hnswlib's own saveIndex layout; it does not record the space or the dimension.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct chnsw_index chnsw_index;

enum chnsw_space { CHNSW_L2 = 0, CHNSW_IP = 1, CHNSW_COSINE = 2 };

enum chnsw_status {
    CHNSW_OK = 0,
    CHNSW_BAD_ARGUMENT = 1, // a parameter the caller can fix (dimension 0, ef 0, capacity reached, ...)
    CHNSW_BAD_FILE = 2,     // not an hnswlib index of this dimension, or damaged
    CHNSW_IO = 3,           // cannot open / read / write
    CHNSW_NO_MEMORY = 4,
    CHNSW_FAILED = 5        // any other exception from hnswlib
};

/// What an index file's 96-byte header says, checked against the file's size (chnsw_read_header).
typedef struct {
    uint64_t max_elements, count, m, max_m0, ef_construction;
    uint64_t dimension;     // (label_offset - data offset) / 4
    int32_t max_level;
    uint32_t entry_point;
    double mult;
    uint64_t file_bytes;
} chnsw_header;

/// Parameters and state of an open index.
typedef struct {
    int space;
    uint64_t dimension, count, capacity, m, ef_construction, ef, deleted;
    int32_t max_level;
} chnsw_info;

int chnsw_create(int space, size_t dim, size_t max_elements, size_t m, size_t ef_construction, size_t seed,
                 chnsw_index **out, char *err, size_t errlen);
/// Adds `count` rows of `dim` floats with their labels, one at a time in order (hnswlib's single-thread build:
/// the graph depends only on the rows, labels, parameters and seed). A label already present replaces its
/// vector (hnswlib's updatePoint).
int chnsw_add(chnsw_index *ix, const float *rows, const uint64_t *ids, size_t count, char *err, size_t errlen);
/// Grows the capacity (hnswlib's resizeIndex).
int chnsw_resize(chnsw_index *ix, size_t max_elements, char *err, size_t errlen);
int chnsw_set_ef(chnsw_index *ix, size_t ef, char *err, size_t errlen);
/// The k nearest labels of one query, nearest first, into ids[k] / distances[k]; *found ≤ k of them are set.
/// Safe to call from several threads at once (not concurrently with add, resize, set_ef or free).
int chnsw_knn(const chnsw_index *ix, const float *query, size_t k, uint64_t *ids, float *distances, size_t *found,
              char *err, size_t errlen);
/// Writes hnswlib's file to `path` and checks that the file has the size its header implies.
int chnsw_save(chnsw_index *ix, const char *path, char *err, size_t errlen);
/// Reads and checks the header and the per-element link-list sizes of `path` (nothing is allocated from them).
int chnsw_read_header(const char *path, chnsw_header *out, char *err, size_t errlen);
/// Loads an index saved by hnswlib (C++ or Python) or by chnsw_save. The header is checked first
/// (chnsw_read_header, against `dim`), hnswlib loads it with capacity max(count, capacity), and the loaded graph
/// is checked before use (every neighbour id below the count, list lengths within M, levels consistent).
int chnsw_load(const char *path, int space, size_t dim, size_t capacity, chnsw_index **out, char *err, size_t errlen);
void chnsw_get_info(const chnsw_index *ix, chnsw_info *out);
size_t chnsw_count(const chnsw_index *ix);
/// Copies the stored vector of internal element `i` (< count; normalised for cosine) and its label.
int chnsw_item(const chnsw_index *ix, size_t i, float *out, uint64_t *label, char *err, size_t errlen);
void chnsw_free(chnsw_index *ix);

#ifdef __cplusplus
}
#endif
