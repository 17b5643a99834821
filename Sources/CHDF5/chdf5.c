#define _GNU_SOURCE
// See chdf5.h. Every entry point silences HDF5's error printing and turns its error stack into one line.
#include "chdf5.h"
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Debian's libhdf5 is built thread-safe, where the automatic error printing is a per-thread setting:
// switch it off on every entry, whichever thread calls.
static void silence(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct { char *buf; size_t len; } err_ctx;

// Walking upward, entry 0 is where the error was first detected: the most specific cause.
static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
    err_ctx *ctx = (err_ctx *)data;
    if (n == 0 && e->desc) snprintf(ctx->buf, ctx->len, "%s", e->desc);
    return 0;
}

static void fail(char *err, size_t errlen, const char *what) {
    if (!err || errlen == 0) return;
    char cause[256] = {0};
    err_ctx ctx = {cause, sizeof cause};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &ctx);
    H5Eclear2(H5E_DEFAULT);
    if (cause[0]) snprintf(err, errlen, "%s: %s", what, cause);
    else snprintf(err, errlen, "%s", what);
}


// libhdf5 1.10 (Debian's hdf5-serial) is not thread-safe: every entry point of this shim holds one recursive
// process-wide mutex for its whole body (released on every return by the cleanup attribute), whoever calls it
// (ClipWeights' HDF5File, through which ClipEval reads ann-benchmarks files; the fuzzers).
#include <pthread.h>
static pthread_mutex_t chdf5_mutex = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static inline int chdf5_lock(void) { return pthread_mutex_lock(&chdf5_mutex); }
static inline void chdf5_unlock(int *unused) { (void)unused; pthread_mutex_unlock(&chdf5_mutex); }
#define CHDF5_GUARD __attribute__((cleanup(chdf5_unlock), unused)) int chdf5_guard_ = chdf5_lock()

int chdf5_is_hdf5(const char *path) {
    CHDF5_GUARD;
    silence();
    htri_t r = H5Fis_hdf5(path);
    H5Eclear2(H5E_DEFAULT);
    return r > 0 ? 1 : (r == 0 ? 0 : -1);
}

chdf5_id chdf5_open_readonly(const char *path, char *err, size_t errlen) {
    CHDF5_GUARD;
    silence();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) fail(err, errlen, "cannot open HDF5 file");
    return f;
}

chdf5_id chdf5_create(const char *path, char *err, size_t errlen) {
    CHDF5_GUARD;
    silence();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) fail(err, errlen, "cannot create HDF5 file");
    return f;
}

void chdf5_close_file(chdf5_id file) {
    CHDF5_GUARD;
    if (file >= 0) H5Fclose(file);
}

typedef struct { char **names; long count; long cap; const char *prefix; } name_list;

static int push_name(name_list *l, const char *prefix, const char *name) {
    if (l->count == l->cap) {
        long cap = l->cap ? l->cap * 2 : 64;
        char **n = realloc(l->names, (size_t)cap * sizeof(char *));
        if (!n) return -1;
        l->names = n;
        l->cap = cap;
    }
    size_t len = strlen(prefix) + strlen(name) + 2;
    char *s = malloc(len);
    if (!s) return -1;
    if (strcmp(prefix, "/") == 0) snprintf(s, len, "/%s", name);
    else snprintf(s, len, "%s/%s", prefix, name);
    l->names[l->count++] = s;
    return 0;
}

static herr_t visit_cb(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
    (void)obj;
    name_list *l = (name_list *)data;
    if (info->type == H5O_TYPE_DATASET && strcmp(name, ".") != 0)
        return push_name(l, l->prefix, name) == 0 ? 0 : -1;
    return 0;
}

long chdf5_list_datasets(chdf5_id file, const char *group, char ***names, char *err, size_t errlen) {
    CHDF5_GUARD;
    silence();
    *names = NULL;
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0) { fail(err, errlen, "cannot open group"); return -1; }
    name_list l = {NULL, 0, 0, group};
    herr_t r = H5Ovisit(g, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &l);
    H5Gclose(g);
    if (r < 0) {
        chdf5_free_names(l.names, l.count);
        fail(err, errlen, "cannot list datasets");
        return -1;
    }
    *names = l.names;
    return l.count;
}

void chdf5_free_names(char **names, long count) {
    CHDF5_GUARD;
    if (!names) return;
    for (long i = 0; i < count; i++) free(names[i]);
    free(names);
}

int chdf5_exists(chdf5_id file, const char *path) {
    CHDF5_GUARD;
    silence();
    // H5Lexists fails on intermediate missing groups; check each prefix.
    char buf[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return 0;
    if (strcmp(path, "/") == 0) return 1;
    strcpy(buf, path);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            htri_t e = H5Lexists(file, buf, H5P_DEFAULT);
            buf[i] = c;
            if (e <= 0) { H5Eclear2(H5E_DEFAULT); return 0; }
        }
    }
    return 1;
}

int chdf5_dataset_info(chdf5_id file, const char *path, chdf5_info *info, char *err, size_t errlen) {
    CHDF5_GUARD;
    silence();
    memset(info, 0, sizeof *info);
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) { fail(err, errlen, "cannot open dataset"); return -1; }
    hid_t s = H5Dget_space(d);
    hid_t t = H5Dget_type(d);
    int rank = H5Sget_simple_extent_ndims(s);
    info->is_null_space = H5Sget_simple_extent_type(s) == H5S_NULL;
    info->storage_size = H5Dget_storage_size(d);
    hid_t dcpl = H5Dget_create_plist(d);
    if (dcpl >= 0) {
        int nf = H5Pget_nfilters(dcpl);
        info->is_filtered = nf > 0;
        info->layout = (int)H5Pget_layout(dcpl);
        H5Pclose(dcpl);
    } else {
        info->layout = -1;
    }
    haddr_t at = H5Dget_offset(d);
    info->offset = at == HADDR_UNDEF ? UINT64_MAX : (uint64_t)at;
    H5Eclear2(H5E_DEFAULT);
    if (rank < 0 || rank > 8) {
        H5Tclose(t); H5Sclose(s); H5Dclose(d);
        if (err) snprintf(err, errlen, "unsupported dataspace (rank %d)", rank);
        return -1;
    }
    hsize_t dims[8];
    H5Sget_simple_extent_dims(s, dims, NULL);
    info->rank = rank;
    for (int i = 0; i < rank; i++) info->dims[i] = dims[i];
    H5T_class_t c = H5Tget_class(t);
    info->type_size = H5Tget_size(t);
    if (c == H5T_FLOAT || c == H5T_INTEGER) {
        info->type_class = c == H5T_FLOAT ? CHDF5_FLOAT : CHDF5_INTEGER;
        info->is_little_endian = H5Tget_order(t) == H5T_ORDER_LE;
        info->is_signed = c == H5T_INTEGER ? H5Tget_sign(t) == H5T_SGN_2 : 1;
    } else if (c == H5T_STRING) {
        info->type_class = CHDF5_STRING;
        info->is_vlen_string = H5Tis_variable_str(t) > 0;
    } else {
        info->type_class = CHDF5_OTHER;
    }
    H5Tclose(t); H5Sclose(s); H5Dclose(d);
    return 0;
}

static int read_as(chdf5_id file, const char *path, hid_t memtype, void *out, char *err, size_t errlen) {
    silence();
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) { fail(err, errlen, "cannot open dataset"); return -1; }
    hid_t mt = memtype;
    int own = 0;
    if (mt < 0) { mt = H5Dget_type(d); own = 1; }
    herr_t r = H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    if (own) H5Tclose(mt);
    H5Dclose(d);
    if (r < 0) { fail(err, errlen, "cannot read dataset"); return -1; }
    return 0;
}

int chdf5_read_float(chdf5_id file, const char *path, float *out, char *err, size_t errlen) {
    CHDF5_GUARD;
    return read_as(file, path, H5T_NATIVE_FLOAT, out, err, errlen);
}

int chdf5_read_int32(chdf5_id file, const char *path, int32_t *out, char *err, size_t errlen) {
    CHDF5_GUARD;
    return read_as(file, path, H5T_NATIVE_INT32, out, err, errlen);
}

int chdf5_read_raw(chdf5_id file, const char *path, void *out, char *err, size_t errlen) {
    CHDF5_GUARD;
    return read_as(file, path, -1, out, err, errlen);
}

long chdf5_read_strings(chdf5_id file, const char *path, char ***out, char *err, size_t errlen) {
    CHDF5_GUARD;
    silence();
    *out = NULL;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) { fail(err, errlen, "cannot open dataset"); return -1; }
    hid_t s = H5Dget_space(d);
    hid_t ft = H5Dget_type(d);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    long result = -1;
    size_t sz = H5Tget_size(ft);
    // Every buffer below is sized from n (and the string size): refuse sizes whose product overflows.
    int too_big = n < 0 || (size_t)n > SIZE_MAX / sizeof(char *) / 2 || (sz > 0 && (size_t)n > (SIZE_MAX - 1) / (sz + 1));
    char **names = too_big ? NULL : calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
    if (!names) {
        if (err) snprintf(err, errlen, "string dataset of %lld values is too large to read", (long long)n);
    } else if (H5Tget_class(ft) != H5T_STRING) {
        if (err) snprintf(err, errlen, "dataset is not a string dataset");
    } else if (H5Tis_variable_str(ft) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        char **raw = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
        if (!raw) {
            if (err) snprintf(err, errlen, "out of memory reading strings");
        } else if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
            for (hssize_t i = 0; i < n; i++) names[i] = strdup(raw[i] ? raw[i] : "");
            H5Dvlen_reclaim(mt, s, H5P_DEFAULT, raw);
            result = (long)n;
        } else {
            fail(err, errlen, "cannot read strings");
        }
        free(raw);
        H5Tclose(mt);
    } else {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz + 1);
        H5Tset_cset(mt, H5Tget_cset(ft));
        char *buf = calloc((size_t)n * (sz + 1) + 1, 1);
        if (!buf) {
            if (err) snprintf(err, errlen, "out of memory reading strings");
        } else if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) {
            for (hssize_t i = 0; i < n; i++) names[i] = strndup(buf + i * (sz + 1), sz);
            result = (long)n;
        } else {
            fail(err, errlen, "cannot read strings");
        }
        free(buf);
        H5Tclose(mt);
    }
    H5Tclose(ft); H5Sclose(s); H5Dclose(d);
    if (result < 0) { free(names); return -1; }
    *out = names;
    return result;
}

typedef struct { char **names; long count; long cap; } attr_list;

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *ainfo, void *data) {
    (void)loc; (void)ainfo;
    name_list *l = (name_list *)data;
    if (l->count == l->cap) {
        long cap = l->cap ? l->cap * 2 : 16;
        char **n = realloc(l->names, (size_t)cap * sizeof(char *));
        if (!n) return -1;
        l->names = n;
        l->cap = cap;
    }
    l->names[l->count++] = strdup(name);
    return 0;
}

long chdf5_list_attributes(chdf5_id file, const char *path, char ***names, char *err, size_t errlen) {
    CHDF5_GUARD;
    silence();
    *names = NULL;
    hid_t o = H5Oopen(file, path, H5P_DEFAULT);
    if (o < 0) { fail(err, errlen, "cannot open object"); return -1; }
    name_list l = {NULL, 0, 0, NULL};
    herr_t r = H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_cb, &l);
    H5Oclose(o);
    if (r < 0) { chdf5_free_names(l.names, l.count); fail(err, errlen, "cannot list attributes"); return -1; }
    *names = l.names;
    return l.count;
}

static hid_t open_attr(chdf5_id file, const char *path, const char *name, char *err, size_t errlen) {
    silence();
    hid_t a = H5Aopen_by_name(file, path, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) fail(err, errlen, "cannot open attribute");
    return a;
}

int chdf5_attribute_class(chdf5_id file, const char *path, const char *name, char *err, size_t errlen) {
    CHDF5_GUARD;
    hid_t a = open_attr(file, path, name, err, errlen);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a);
    H5T_class_t c = H5Tget_class(t);
    H5Tclose(t); H5Aclose(a);
    return c == H5T_STRING ? 1 : c == H5T_INTEGER ? 2 : c == H5T_FLOAT ? 3 : 0;
}

// Fills dims (up to 8) and returns the number of values: 1 for a scalar, 0 for a null dataspace, else the
// product of the dimensions. -1 on error. *rank is 0 for scalar and null dataspaces.
static long long space_shape(hid_t sp, int *rank, uint64_t *dims) {
    *rank = 0;
    H5S_class_t c = H5Sget_simple_extent_type(sp);
    if (c == H5S_NULL) return 0;
    if (c == H5S_SCALAR) return 1;
    if (c != H5S_SIMPLE) return -1;
    int r = H5Sget_simple_extent_ndims(sp);
    if (r < 0) return -1;
    hsize_t d[H5S_MAX_RANK];
    if (H5Sget_simple_extent_dims(sp, d, NULL) < 0) return -1;
    *rank = r;
    for (int i = 0; i < r && i < 8; i++) dims[i] = d[i];
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    return n < 0 ? -1 : (long long)n;
}

long long chdf5_attribute_shape(chdf5_id file, const char *path, const char *name, int *rank, uint64_t *dims,
                                char *err, size_t errlen) {
    CHDF5_GUARD;
    hid_t a = open_attr(file, path, name, err, errlen);
    if (a < 0) return -1;
    hid_t sp = H5Aget_space(a);
    long long n = sp < 0 ? -1 : space_shape(sp, rank, dims);
    if (n < 0) fail(err, errlen, "cannot read the attribute's dataspace");
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return n;
}

// The read functions below fill a buffer sized for one value, so they first require the attribute to hold
// exactly one (a scalar, or a simple dataspace with one point) of the expected class; an array attribute
// would otherwise be written past the buffer.
static int require_single(hid_t a, const char *name, char *err, size_t errlen) {
    hid_t sp = H5Aget_space(a);
    if (sp < 0) { fail(err, errlen, "cannot read the attribute's dataspace"); return -1; }
    int rank = 0;
    uint64_t dims[8] = {0};
    long long n = space_shape(sp, &rank, dims);
    H5Sclose(sp);
    if (n == 1) return 0;
    if (!err || errlen == 0) return -1;
    if (n == 0 && rank == 0) { snprintf(err, errlen, "attribute '%s' holds no value (empty dataspace), expected one", name); return -1; }
    if (n < 0) { snprintf(err, errlen, "attribute '%s' has an unsupported dataspace", name); return -1; }
    char shape[160] = "[";
    for (int i = 0; i < rank && i < 8; i++) {
        size_t used = strlen(shape);
        snprintf(shape + used, sizeof shape - used, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
    }
    size_t used = strlen(shape);
    snprintf(shape + used, sizeof shape - used, "%s]", rank > 8 ? ", ..." : "");
    snprintf(err, errlen, "attribute '%s' is an array of shape %s (%lld values), expected a single value", name, shape, n);
    return -1;
}

static int require_class(hid_t a, const char *name, int accept_float, int accept_int, int accept_string,
                         char *err, size_t errlen) {
    hid_t t = H5Aget_type(a);
    H5T_class_t c = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    if (t >= 0) H5Tclose(t);
    if ((accept_float && c == H5T_FLOAT) || (accept_int && c == H5T_INTEGER) || (accept_string && c == H5T_STRING)) return 0;
    if (err) snprintf(err, errlen, "attribute '%s' is not a %s", name,
                      accept_string ? "string" : accept_float ? "number" : "integer");
    return -1;
}

static hid_t open_single(chdf5_id file, const char *path, const char *name, int f, int i, int s, char *err, size_t errlen) {
    hid_t a = open_attr(file, path, name, err, errlen);
    if (a < 0) return -1;
    if (require_single(a, name, err, errlen) < 0 || require_class(a, name, f, i, s, err, errlen) < 0) {
        H5Aclose(a);
        return -1;
    }
    return a;
}

int chdf5_read_attr_string(chdf5_id file, const char *path, const char *name, char **out, char *err, size_t errlen) {
    CHDF5_GUARD;
    *out = NULL;
    hid_t a = open_single(file, path, name, 0, 0, 1, err, errlen);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a);
    htri_t vlen = H5Tis_variable_str(ft);
    int rc = -1;
    if (vlen < 0) {
        fail(err, errlen, "cannot read the attribute's string type");
    } else if (vlen > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        char *s = NULL;  // one value (checked above): one pointer
        if (H5Aread(a, mt, &s) >= 0) {
            *out = strdup(s ? s : "");
            hid_t sp = H5Aget_space(a);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &s);
            H5Sclose(sp);
            rc = *out ? 0 : -1;
            if (rc < 0 && err) snprintf(err, errlen, "out of memory reading attribute '%s'", name);
        } else fail(err, errlen, "cannot read attribute");
        H5Tclose(mt);
    } else {
        // Fixed length: one value of sz bytes, read as a NUL-terminated string of sz + 1.
        size_t sz = H5Tget_size(ft);
        char *buf = sz == 0 || sz == SIZE_MAX ? NULL : calloc(sz + 1, 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(ft));  // libhdf5 converts no string between ASCII and UTF-8
        if (!buf) {
            if (err) snprintf(err, errlen, "attribute '%s' has an unusable string size %zu", name, sz);
        } else if (H5Tset_size(mt, sz + 1) >= 0 && H5Aread(a, mt, buf) >= 0) {
            *out = buf; rc = 0;
        } else {
            free(buf); fail(err, errlen, "cannot read attribute");
        }
        H5Tclose(mt);
    }
    H5Tclose(ft); H5Aclose(a);
    return rc;
}

int chdf5_read_attr_int(chdf5_id file, const char *path, const char *name, int64_t *out, char *err, size_t errlen) {
    CHDF5_GUARD;
    hid_t a = open_single(file, path, name, 0, 1, 0, err, errlen);
    if (a < 0) return -1;
    int rc = H5Aread(a, H5T_NATIVE_INT64, out) >= 0 ? 0 : -1;
    if (rc < 0) fail(err, errlen, "cannot read attribute as an integer");
    H5Aclose(a);
    return rc;
}

int chdf5_read_attr_double(chdf5_id file, const char *path, const char *name, double *out, char *err, size_t errlen) {
    CHDF5_GUARD;
    hid_t a = open_single(file, path, name, 1, 1, 0, err, errlen);
    if (a < 0) return -1;
    int rc = H5Aread(a, H5T_NATIVE_DOUBLE, out) >= 0 ? 0 : -1;
    if (rc < 0) fail(err, errlen, "cannot read attribute as a number");
    H5Aclose(a);
    return rc;
}

/// A 1-D (or scalar) numeric attribute of at most `max_count` values, read as doubles. Refuses other classes,
/// ranks above 1 and longer arrays before H5Aread, so the buffer is never overrun.
long chdf5_read_attr_doubles(chdf5_id file, const char *path, const char *name, double *out, size_t max_count,
                             char *err, size_t errlen) {
    CHDF5_GUARD;
    hid_t a = open_attr(file, path, name, err, errlen);
    if (a < 0) return -1;
    long rc = -1;
    hid_t sp = H5Aget_space(a);
    int rank = 0;
    uint64_t dims[8] = {0};
    long long n = sp < 0 ? -1 : space_shape(sp, &rank, dims);
    if (sp >= 0) H5Sclose(sp);
    if (require_class(a, name, 1, 1, 0, err, errlen) < 0) {
        /* message set */
    } else if (n < 1 || rank > 1 || (unsigned long long)n > max_count) {
        if (err) snprintf(err, errlen, "attribute '%s' holds %lld values in %d dimensions, expected 1 to %zu numbers", name, n, rank, max_count);
    } else if (H5Aread(a, H5T_NATIVE_DOUBLE, out) >= 0) {
        rc = (long)n;
    } else {
        fail(err, errlen, "cannot read attribute as numbers");
    }
    H5Aclose(a);
    return rc;
}

static hid_t lcpl_intermediate(void) {
    hid_t p = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(p, 1);
    return p;
}

int chdf5_write_float(chdf5_id file, const char *path, int rank, const uint64_t *dims, const float *data,
                      char *err, size_t errlen) {
    CHDF5_GUARD;
    silence();
    hsize_t hd[8];
    for (int i = 0; i < rank && i < 8; i++) hd[i] = dims[i];
    hid_t s = H5Screate_simple(rank, hd, NULL);
    hid_t lcpl = lcpl_intermediate();
    hid_t d = H5Dcreate2(file, path, H5T_IEEE_F32LE, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    int rc = -1;
    if (d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0) rc = 0;
    else fail(err, errlen, "cannot write dataset");
    if (d >= 0) H5Dclose(d);
    H5Sclose(s);
    return rc;
}

// Opens the object at `path`, creating it (and the groups above it) as a group when missing.
static hid_t open_or_create(chdf5_id file, const char *path, char *err, size_t errlen) {
    hid_t o = H5Oopen(file, path, H5P_DEFAULT);
    if (o >= 0) return o;
    hid_t lcpl = lcpl_intermediate();
    hid_t g = H5Gcreate2(file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) { fail(err, errlen, "cannot create group"); return -1; }
    H5Gclose(g);
    o = H5Oopen(file, path, H5P_DEFAULT);
    if (o < 0) fail(err, errlen, "cannot open object");
    return o;
}

// Writes an attribute over dataspace `s` (scalar or 1-D).
static int write_attr_in(chdf5_id file, const char *path, const char *name, hid_t ftype, hid_t mtype, hid_t s,
                         const void *v, char *err, size_t errlen) {
    silence();
    hid_t o = open_or_create(file, path, err, errlen);
    if (o < 0) return -1;
    hid_t a = H5Acreate2(o, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT);
    int rc = -1;
    if (a >= 0 && H5Awrite(a, mtype, v) >= 0) rc = 0;
    else fail(err, errlen, "cannot write attribute");
    if (a >= 0) H5Aclose(a);
    H5Oclose(o);
    return rc;
}

static int write_attr(chdf5_id file, const char *path, const char *name, hid_t ftype, hid_t mtype, const void *v,
                      char *err, size_t errlen) {
    hid_t s = H5Screate(H5S_SCALAR);
    int rc = write_attr_in(file, path, name, ftype, mtype, s, v, err, errlen);
    H5Sclose(s);
    return rc;
}

int chdf5_write_attr_doubles(chdf5_id file, const char *path, const char *name, uint64_t count, const double *values,
                             char *err, size_t errlen) {
    CHDF5_GUARD;
    hsize_t n = count;
    hid_t s = H5Screate_simple(1, &n, NULL);
    int rc = write_attr_in(file, path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s, values, err, errlen);
    H5Sclose(s);
    return rc;
}

int chdf5_write_attr_strings(chdf5_id file, const char *path, const char *name, uint64_t count, const char *const *values,
                             size_t fixed_size, char *err, size_t errlen) {
    CHDF5_GUARD;
    hsize_t n = count;
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = -1;
    if (fixed_size == 0) {
        H5Tset_size(t, H5T_VARIABLE);
        rc = write_attr_in(file, path, name, t, t, s, values, err, errlen);
    } else {
        H5Tset_size(t, fixed_size);
        H5Tset_strpad(t, H5T_STR_NULLPAD);
        char *packed = calloc(count ? count : 1, fixed_size);
        if (packed) {
            for (uint64_t i = 0; i < count; i++) strncpy(packed + i * fixed_size, values[i], fixed_size);
            rc = write_attr_in(file, path, name, t, t, s, packed, err, errlen);
            free(packed);
        } else if (err) snprintf(err, errlen, "out of memory");
    }
    H5Tclose(t);
    H5Sclose(s);
    return rc;
}

int chdf5_create_unwritten(chdf5_id file, const char *path, int rank, const uint64_t *dims, char *err, size_t errlen) {
    CHDF5_GUARD;
    silence();
    if (rank < 0 || rank > 8) { if (err) snprintf(err, errlen, "rank %d out of range", rank); return -1; }
    hsize_t hd[8], chunk[8];
    for (int i = 0; i < rank; i++) { hd[i] = dims[i]; chunk[i] = dims[i] < 16 ? (dims[i] ? dims[i] : 1) : 16; }
    hid_t s = rank == 0 ? H5Screate(H5S_NULL) : H5Screate_simple(rank, hd, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (rank > 0) H5Pset_chunk(dcpl, rank, chunk);
    hid_t lcpl = lcpl_intermediate();
    hid_t d = H5Dcreate2(file, path, H5T_IEEE_F32LE, s, lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(lcpl); H5Pclose(dcpl); H5Sclose(s);
    if (d < 0) { fail(err, errlen, "cannot create dataset"); return -1; }
    H5Dclose(d);
    return 0;
}

int chdf5_write_attr_string(chdf5_id file, const char *path, const char *name, const char *value, char *err, size_t errlen) {
    CHDF5_GUARD;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = write_attr(file, path, name, t, t, &value, err, errlen);
    H5Tclose(t);
    return rc;
}

int chdf5_write_attr_int(chdf5_id file, const char *path, const char *name, int64_t value, char *err, size_t errlen) {
    CHDF5_GUARD;
    return write_attr(file, path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, err, errlen);
}

// ---- Containment (see chdf5.h, chdf5_probe) ----
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PROBE_SAFE = 0, PROBE_ATTRIBUTES = 3, PROBE_SANITIZER = 5 };

// Under a sanitizer (make fuzz), a crash in the child must end the child only: ASan's report would otherwise
// run libFuzzer's death callback in the child, which writes a crash input and its statistics as if the fuzzer
// had crashed. Weak: absent (NULL) in normal builds.
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
static void probe_child_died(void) { _exit(PROBE_SANITIZER); }

typedef struct { int status; size_t max_bytes; } probe_ctx;

// Reads an attribute's (is_dataset 0) or a dataset's values whole, converted to their native type, then frees
// their variable-length parts (strings come through the global heap). Values above max_bytes are not read.
static void probe_values(hid_t obj, int is_dataset, hid_t type, hid_t space, size_t max_bytes) {
    hid_t mt = type >= 0 ? H5Tget_native_type(type, H5T_DIR_DEFAULT) : -1;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    size_t size = mt >= 0 ? H5Tget_size(mt) : 0;
    if (mt >= 0 && n > 0 && size > 0 && (size_t)n <= max_bytes / size) {
        void *buf = calloc((size_t)n, size);
        herr_t r = !buf ? -1 : is_dataset ? H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : H5Aread(obj, mt, buf);
        if (r >= 0) H5Dvlen_reclaim(mt, space, H5P_DEFAULT, buf);
        free(buf);
    }
    if (mt >= 0) H5Tclose(mt);
}

static herr_t probe_attr_cb(hid_t loc, const char *name, const H5A_info_t *ainfo, void *data) {
    (void)ainfo;
    probe_ctx *ctx = (probe_ctx *)data;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) { ctx->status = PROBE_ATTRIBUTES; return -1; }
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    probe_values(a, 0, t, sp, ctx->max_bytes);
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return 0;
}

// Every object: all its attributes; a dataset's description, and its values unless they lie in one piece
// (those clipwb reads with pread, never H5Dread).
static herr_t probe_visit_cb(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
    probe_ctx *ctx = (probe_ctx *)data;
    hid_t o = H5Oopen(obj, name, H5P_DEFAULT);
    if (o < 0) { H5Eclear2(H5E_DEFAULT); return 0; }
    if (H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, probe_attr_cb, ctx) < 0) {
        ctx->status = PROBE_ATTRIBUTES;
        H5Oclose(o);
        return -1;
    }
    if (info->type == H5O_TYPE_DATASET) {
        hid_t t = H5Dget_type(o), sp = H5Dget_space(o), dcpl = H5Dget_create_plist(o);
        int contiguous = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS && H5Pget_nfilters(dcpl) == 0 &&
                         H5Tdetect_class(t, H5T_VLEN) <= 0 && H5Tis_variable_str(t) <= 0;
        if (!contiguous) probe_values(o, 1, t, sp, ctx->max_bytes);
        if (t >= 0) H5Tclose(t);
        if (sp >= 0) H5Sclose(sp);
        if (dcpl >= 0) H5Pclose(dcpl);
    }
    H5Oclose(o);
    H5Eclear2(H5E_DEFAULT);
    return 0;
}

static long resident_mb(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long pages = 0, resident = 0;
    int got = fscanf(f, "%ld %ld", &pages, &resident);
    fclose(f);
    return got == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) / 1024 : 0;
}

int chdf5_probe(const char *path, long memory_mb, double seconds, char *err, size_t errlen) {
    CHDF5_GUARD;  // held across fork: no other thread is inside libhdf5 when the child copies its state
    long base_mb = resident_mb(getpid());  // the child starts with the parent's pages counted as its own
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        // The child: only C from here on, then _exit (no atexit handlers, no Swift). Its stderr goes nowhere: the
        // parent's error says what happened.
        if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(probe_child_died);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) { dup2(null, 2); close(null); }
        silence();
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0) _exit(PROBE_SAFE);  // libhdf5 refused it cleanly: the parent's open reports why
        probe_ctx ctx = {PROBE_SAFE, (size_t)memory_mb << 19};  // values up to half the budget
        H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, probe_visit_cb, &ctx, H5O_INFO_BASIC);  // the root too, as "."
        H5Fclose(f);  // closing frees what failed decodes left half-built: crashes here count too
        _exit(ctx.status);
    }
    int status = 0;
    struct timespec start, now, nap = {0, 100000};  // 0.1 ms, doubling to 12.8 ms: a quick child is seen quickly
    clock_gettime(CLOCK_MONOTONIC, &start);
    const char *why = NULL;
    char detail[96] = {0};
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
        long mb = resident_mb(pid) - base_mb;
        if (elapsed > seconds || mb > memory_mb) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            if (mb > memory_mb) snprintf(detail, sizeof detail, "it used more than %ld MB", memory_mb);
            else snprintf(detail, sizeof detail, "it ran longer than %.0f s", seconds);
            why = detail;
            break;
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 12800000) nap.tv_nsec *= 2;
    }
    if (!why) {
        if (WIFSIGNALED(status)) { snprintf(detail, sizeof detail, "it died with signal %d", WTERMSIG(status)); why = detail; }
        else if (WEXITSTATUS(status) == PROBE_ATTRIBUTES) why = "an attribute message could not be decoded (libhdf5 1.10.8 crashes freeing such a message)";
        else if (WEXITSTATUS(status) == PROBE_SANITIZER) why = "it crashed (a sanitizer report)";
        else if (WEXITSTATUS(status) != PROBE_SAFE) { snprintf(detail, sizeof detail, "it exited with status %d", WEXITSTATUS(status)); why = detail; }
    }
    if (!why) return 0;
    if (err && errlen) snprintf(err, errlen, "%s", why);
    return 1;
}
