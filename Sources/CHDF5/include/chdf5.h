// CHDF5: a thin shim over libhdf5 (Debian's hdf5-serial). HDF5's H5F_ACC_RDONLY, H5T_NATIVE_FLOAT & co. are
// macros over globals that Swift cannot import, so every call that needs them lives here. Functions return a
// negative value on failure and fill `err` with a one-line cause (the innermost HDF5 error description);
// nothing here prints or exits. libhdf5's automatic error-stack printing is switched off on first use.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef int64_t chdf5_id;

enum chdf5_class { CHDF5_OTHER = 0, CHDF5_FLOAT = 1, CHDF5_INTEGER = 2, CHDF5_STRING = 3 };

typedef struct {
    int rank;
    uint64_t dims[8];
    int type_class;       // enum chdf5_class
    size_t type_size;     // bytes per element in the file
    int is_signed;        // integers
    int is_little_endian; // numbers
    int is_vlen_string;   // strings
    int is_null_space;    // H5S_NULL: no values at all (rank 0, like a scalar, but nothing to read)
    uint64_t storage_size;// bytes the dataset occupies in the file (allocated chunks only, when chunked)
    int is_filtered;      // stored through a filter (deflate, ...): may hold more than storage_size bytes
    int layout;           // H5D_COMPACT 0, H5D_CONTIGUOUS 1, H5D_CHUNKED 2, H5D_VIRTUAL 3; -1 unknown
    uint64_t offset;      // contiguous and allocated: the data's byte address in the file; else UINT64_MAX
} chdf5_info;

/// 1 if `path` starts with the HDF5 signature, 0 if not, -1 if it cannot be read.
int chdf5_is_hdf5(const char *path);
chdf5_id chdf5_open_readonly(const char *path, char *err, size_t errlen);

/// Containment: libhdf5 1.10.8 crashes, hangs or allocates without bound on some damaged files. A forked child
/// opens `path`, reads every object's attributes and description, the values of datasets not stored in one
/// piece, and closes it; the parent kills it past `memory_mb` resident or `seconds`. Returns 0 when it did all
/// that, 1 when not (why in `err`: a signal, a limit, an attribute libhdf5 could not decode), -1 when it could
/// not fork (nothing was checked).
int chdf5_probe(const char *path, long memory_mb, double seconds, char *err, size_t errlen);
chdf5_id chdf5_create(const char *path, char *err, size_t errlen);
void chdf5_close_file(chdf5_id file);

/// Lists every dataset below `group` (recursively), as full paths starting with '/'. The caller frees
/// each string and the array with chdf5_free_names. Returns the count, or -1.
long chdf5_list_datasets(chdf5_id file, const char *group, char ***names, char *err, size_t errlen);
void chdf5_free_names(char **names, long count);
int chdf5_exists(chdf5_id file, const char *path);

int chdf5_dataset_info(chdf5_id file, const char *path, chdf5_info *info, char *err, size_t errlen);
/// Reads a whole numeric dataset converted to native float32 / int32 / int64.
int chdf5_read_float(chdf5_id file, const char *path, float *out, char *err, size_t errlen);
int chdf5_read_int32(chdf5_id file, const char *path, int32_t *out, char *err, size_t errlen);
/// Reads the dataset's elements as stored (no conversion): for little-endian float16 → raw halves.
int chdf5_read_raw(chdf5_id file, const char *path, void *out, char *err, size_t errlen);
/// Reads a 1-D string dataset (variable or fixed length) into malloc'd C strings; free with chdf5_free_names.
long chdf5_read_strings(chdf5_id file, const char *path, char ***out, char *err, size_t errlen);

/// Attributes of the object at `path` ("/" for the root). Lists names; reads one as string / int64 / double.
long chdf5_list_attributes(chdf5_id file, const char *path, char ***names, char *err, size_t errlen);
/// 1 string, 2 integer, 3 float, 0 other, -1 error.
int chdf5_attribute_class(chdf5_id file, const char *path, const char *name, char *err, size_t errlen);
/// The number of values the attribute holds (1 scalar, 0 null dataspace, else the product of `dims`), with its
/// rank and first 8 dimensions; -1 on error. The read functions below refuse anything but one value.
long long chdf5_attribute_shape(chdf5_id file, const char *path, const char *name, int *rank, uint64_t *dims,
                                char *err, size_t errlen);
int chdf5_read_attr_string(chdf5_id file, const char *path, const char *name, char **out, char *err, size_t errlen);
int chdf5_read_attr_int(chdf5_id file, const char *path, const char *name, int64_t *out, char *err, size_t errlen);
int chdf5_read_attr_double(chdf5_id file, const char *path, const char *name, double *out, char *err, size_t errlen);
/// A numeric attribute of 1 to `max_count` values (scalar or 1-D) as doubles; returns the count, -1 on error.
long chdf5_read_attr_doubles(chdf5_id file, const char *path, const char *name, double *out, size_t max_count,
                             char *err, size_t errlen);

/// Writing (tests and fixtures): groups are created as needed along `path`.
int chdf5_write_float(chdf5_id file, const char *path, int rank, const uint64_t *dims, const float *data,
                      char *err, size_t errlen);
int chdf5_write_attr_string(chdf5_id file, const char *path, const char *name, const char *value, char *err, size_t errlen);
int chdf5_write_attr_int(chdf5_id file, const char *path, const char *name, int64_t value, char *err, size_t errlen);
/// 1-D array attributes (tests: attributes that must be refused). `fixed_size` 0 writes variable-length strings.
int chdf5_write_attr_doubles(chdf5_id file, const char *path, const char *name, uint64_t count, const double *values,
                             char *err, size_t errlen);
int chdf5_write_attr_strings(chdf5_id file, const char *path, const char *name, uint64_t count, const char *const *values,
                             size_t fixed_size, char *err, size_t errlen);
/// A float32 dataset whose data is never written: chunked with shape `dims`, or with rank 0 an H5S_NULL
/// (empty) dataspace. Tests use it for huge declared shapes and empty datasets.
int chdf5_create_unwritten(chdf5_id file, const char *path, int rank, const uint64_t *dims, char *err, size_t errlen);
