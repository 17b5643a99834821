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
} chdf5_info;

/// 1 if `path` starts with the HDF5 signature, 0 if not, -1 if it cannot be read.
int chdf5_is_hdf5(const char *path);
chdf5_id chdf5_open_readonly(const char *path, char *err, size_t errlen);
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
int chdf5_read_attr_string(chdf5_id file, const char *path, const char *name, char **out, char *err, size_t errlen);
int chdf5_read_attr_int(chdf5_id file, const char *path, const char *name, int64_t *out, char *err, size_t errlen);
int chdf5_read_attr_double(chdf5_id file, const char *path, const char *name, double *out, char *err, size_t errlen);

/// Writing (tests and fixtures): groups are created as needed along `path`.
int chdf5_write_float(chdf5_id file, const char *path, int rank, const uint64_t *dims, const float *data,
                      char *err, size_t errlen);
int chdf5_write_attr_string(chdf5_id file, const char *path, const char *name, const char *value, char *err, size_t errlen);
int chdf5_write_attr_int(chdf5_id file, const char *path, const char *name, int64_t value, char *err, size_t errlen);
