#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include "cblas_shim.h"

const char *clipwb_blas_library_path(void) {
    Dl_info info;
    if (dladdr((void *)&cblas_sgemm, &info) && info.dli_fname) return info.dli_fname;
    return "";
}

const char *clipwb_blas_config(void) {
    char *(*f)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_config");
    return f ? f() : NULL;
}

const char *clipwb_blas_corename(void) {
    char *(*f)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    return f ? f() : NULL;
}

int clipwb_blas_get_num_threads(void) {
    int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    return f ? f() : -1;
}

int clipwb_blas_set_num_threads(int n) {
    void (*f)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    if (!f) return 0;
    f(n);
    return 1;
}
