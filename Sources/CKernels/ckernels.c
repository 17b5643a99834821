#include "ckernels.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static float half_to_float_scalar(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else { // denormal: normalize
            int e = -1;
            do { e++; mant <<= 1; } while ((mant & 0x400) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000 | (mant << 13);
    else bits = sign | ((exp + 112) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_half_scalar(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7fffffff;
    if (absx >= 0x7f800000) return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000 ? 0x200 | ((absx >> 13) & 0x3ff) : 0));
    if (absx >= 0x477ff000) return (uint16_t)(sign | 0x7c00); // rounds to infinity
    if (absx < 0x38800000) { // result is denormal or zero
        if (absx < 0x33000000) return (uint16_t)sign; // below half the smallest denormal
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffff) | 0x800000;
        // value = m * 2^(e-150); in units of the smallest denormal 2^-24 that is m * 2^(e-126)
        uint32_t sh = 126 - e;                    // right shift amount (>= 1)
        uint32_t q = m >> sh;
        uint32_t rem = m & ((1u << sh) - 1);
        uint32_t half = 1u << (sh - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t e = (absx >> 23) - 112;
    uint32_t m = absx & 0x7fffff;
    uint32_t q = (e << 10) | (m >> 13);
    uint32_t rem = m & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (q & 1))) q++;
    return (uint16_t)(sign | q);
}

#if defined(__x86_64__)
__attribute__((target("f16c,avx")))
static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = half_to_float_scalar(src[i]);
}

__attribute__((target("f16c,avx")))
static void f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = float_to_half_scalar(src[i]);
}
#endif

int ck_has_f16c(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) { __builtin_cpu_init(); cached = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx"); }
    return cached;
#else
    return 0;
#endif
}

void ck_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
#if defined(__x86_64__)
    if (ck_has_f16c()) { f16_to_f32_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = half_to_float_scalar(src[i]);
}

void ck_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
#if defined(__x86_64__)
    if (ck_has_f16c()) { f32_to_f16_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = float_to_half_scalar(src[i]);
}

void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)src[i] << 16;
        memcpy(dst + i, &bits, 4);
    }
}

void ck_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t x;
        memcpy(&x, src + i, 4);
        if ((x & 0x7fffffff) > 0x7f800000) { dst[i] = (uint16_t)((x >> 16) | 0x40); continue; }
        uint32_t lsb = (x >> 16) & 1;
        dst[i] = (uint16_t)((x + 0x7fff + lsb) >> 16);
    }
}

static void linear_f16_rows_scalar(const float *a, size_t lda, const uint16_t *w, size_t ldw, float *c, size_t ldc,
                                   size_t m, size_t j0, size_t j1, size_t k, int accumulate) {
    for (size_t j = j0; j < j1; j++) {
        const uint16_t *wr = w + j * ldw;
        for (size_t i = 0; i < m; i++) {
            const float *ar = a + i * lda;
            float s = 0;
            for (size_t p = 0; p < k; p++) s += ar[p] * half_to_float_scalar(wr[p]);
            c[i * ldc + j] = s + (accumulate ? c[i * ldc + j] : 0.0f);
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma,f16c")))
static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// k % 16 == 0. Four activation rows per pass over a weight row, two 8-lane accumulators each.
__attribute__((target("avx2,fma,f16c")))
static void linear_f16_rows_avx2(const float *a, size_t lda, const uint16_t *w, size_t ldw, float *c, size_t ldc,
                                 size_t m, size_t j0, size_t j1, size_t k, int accumulate) {
    for (size_t j = j0; j < j1; j++) {
        const uint16_t *wr = w + j * ldw;
        size_t i = 0;
        for (; i + 4 <= m; i += 4) {
            const float *a0 = a + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
            __m256 s0 = _mm256_setzero_ps(), t0 = s0, s1 = s0, t1 = s0, s2 = s0, t2 = s0, s3 = s0, t3 = s0;
            for (size_t p = 0; p < k; p += 16) {
                __m256 wl = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wr + p)));
                __m256 wh = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wr + p + 8)));
                s0 = _mm256_fmadd_ps(wl, _mm256_loadu_ps(a0 + p), s0); t0 = _mm256_fmadd_ps(wh, _mm256_loadu_ps(a0 + p + 8), t0);
                s1 = _mm256_fmadd_ps(wl, _mm256_loadu_ps(a1 + p), s1); t1 = _mm256_fmadd_ps(wh, _mm256_loadu_ps(a1 + p + 8), t1);
                s2 = _mm256_fmadd_ps(wl, _mm256_loadu_ps(a2 + p), s2); t2 = _mm256_fmadd_ps(wh, _mm256_loadu_ps(a2 + p + 8), t2);
                s3 = _mm256_fmadd_ps(wl, _mm256_loadu_ps(a3 + p), s3); t3 = _mm256_fmadd_ps(wh, _mm256_loadu_ps(a3 + p + 8), t3);
            }
            float r0 = hsum256(_mm256_add_ps(s0, t0)), r1 = hsum256(_mm256_add_ps(s1, t1));
            float r2 = hsum256(_mm256_add_ps(s2, t2)), r3 = hsum256(_mm256_add_ps(s3, t3));
            if (accumulate) { r0 += c[i * ldc + j]; r1 += c[(i + 1) * ldc + j]; r2 += c[(i + 2) * ldc + j]; r3 += c[(i + 3) * ldc + j]; }
            c[i * ldc + j] = r0; c[(i + 1) * ldc + j] = r1; c[(i + 2) * ldc + j] = r2; c[(i + 3) * ldc + j] = r3;
        }
        for (; i < m; i++) {
            const float *a0 = a + i * lda;
            __m256 s0 = _mm256_setzero_ps(), t0 = s0;
            for (size_t p = 0; p < k; p += 16) {
                s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wr + p))), _mm256_loadu_ps(a0 + p), s0);
                t0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wr + p + 8))), _mm256_loadu_ps(a0 + p + 8), t0);
            }
            float r = hsum256(_mm256_add_ps(s0, t0));
            c[i * ldc + j] = r + (accumulate ? c[i * ldc + j] : 0.0f);
        }
    }
}

/// R (1…16) activation rows against weight rows j0…j1, k % 16 == 0: each 16-half piece of a weight row is widened
/// once into a 512-bit register and multiplied into one accumulator per row (the AVX2 kernel widens it once per
/// four rows and once more per leftover row, and a short text's 5–15 rows made that widening most of the work).
__attribute__((target("avx512f"), always_inline))
static inline void linear_f16_block_avx512(const float *a, size_t lda, const uint16_t *wr, float *c, size_t ldc,
                                           size_t j, size_t k, int accumulate, const int R) {
    __m512 acc[16];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (size_t p = 0; p < k; p += 16) {
        __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(wr + p)));
        for (int r = 0; r < R; r++) acc[r] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(a + r * lda + p), acc[r]);
    }
    for (int r = 0; r < R; r++) {
        float v = _mm512_reduce_add_ps(acc[r]);
        c[r * ldc + j] = v + (accumulate ? c[r * ldc + j] : 0.0f);
    }
}

__attribute__((target("avx512f")))
static void linear_f16_rows_avx512(const float *a, size_t lda, const uint16_t *w, size_t ldw, float *c, size_t ldc,
                                   size_t m, size_t j0, size_t j1, size_t k, int accumulate) {
    for (size_t i = 0; i < m; i += 16) {
        const float *ai = a + i * lda;
        float *ci = c + i * ldc;
        size_t rows = m - i < 16 ? m - i : 16;
        for (size_t j = j0; j < j1; j++) {
            const uint16_t *wr = w + j * ldw;
#define CK_ROWS(R) case R: linear_f16_block_avx512(ai, lda, wr, ci, ldc, j, k, accumulate, R); break;
            switch (rows) {  // a constant R per case: the accumulators stay in registers (16 + 1 of the 32)
            CK_ROWS(1) CK_ROWS(2) CK_ROWS(3) CK_ROWS(4) CK_ROWS(5) CK_ROWS(6) CK_ROWS(7) CK_ROWS(8)
            CK_ROWS(9) CK_ROWS(10) CK_ROWS(11) CK_ROWS(12) CK_ROWS(13) CK_ROWS(14) CK_ROWS(15) CK_ROWS(16)
            }
#undef CK_ROWS
        }
    }
}

static int has_avx512f(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && getenv("CLIPWB_NO_AVX512") == NULL;
    }
    return cached;
}

static int has_avx2_fma_f16c(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return cached;
}
#endif

int ck_linear_f16_rows_variant(int variant, const float *a, size_t lda, const uint16_t *w, size_t ldw, float *c,
                               size_t ldc, size_t m, size_t j0, size_t j1, size_t k, int accumulate) {
    switch (variant) {
    case 0: linear_f16_rows_scalar(a, lda, w, ldw, c, ldc, m, j0, j1, k, accumulate); return 0;
#if defined(__x86_64__)
    case 1:
        if (k % 16 != 0 || !has_avx2_fma_f16c()) return -1;
        linear_f16_rows_avx2(a, lda, w, ldw, c, ldc, m, j0, j1, k, accumulate);
        return 0;
    case 2:
        if (k % 16 != 0 || !has_avx512f()) return -1;
        linear_f16_rows_avx512(a, lda, w, ldw, c, ldc, m, j0, j1, k, accumulate);
        return 0;
#endif
    default: return -1;
    }
}

void ck_linear_f16_rows(const float *a, size_t lda, const uint16_t *w, size_t ldw, float *c, size_t ldc,
                        size_t m, size_t j0, size_t j1, size_t k, int accumulate) {
#if defined(__x86_64__)
    if (k % 16 == 0 && has_avx512f()) { linear_f16_rows_avx512(a, lda, w, ldw, c, ldc, m, j0, j1, k, accumulate); return; }
    if (k % 16 == 0 && has_avx2_fma_f16c()) { linear_f16_rows_avx2(a, lda, w, ldw, c, ldc, m, j0, j1, k, accumulate); return; }
#endif
    linear_f16_rows_scalar(a, lda, w, ldw, c, ldc, m, j0, j1, k, accumulate);
}
