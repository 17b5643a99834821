// CBLAS: the cblas interface (Debian: libblas-dev names it, libopenblas-dev implements it)
// plus a few questions answered at run time: which library is loaded, how many threads it uses.
#pragma once
#include <cblas.h>

/// Path of the shared library that provides cblas_sgemm in this process ("" if unknown).
const char *clipwb_blas_library_path(void);
/// OpenBLAS's configuration string if OpenBLAS is loaded, else NULL.
const char *clipwb_blas_config(void);
/// The kernel family OpenBLAS chose (or was pinned to by OPENBLAS_CORETYPE), else NULL.
const char *clipwb_blas_corename(void);
/// Number of threads OpenBLAS will use, or -1 when not OpenBLAS.
int clipwb_blas_get_num_threads(void);
/// Sets OpenBLAS's thread count; returns 0 if not OpenBLAS (no effect).
int clipwb_blas_set_num_threads(int n);
