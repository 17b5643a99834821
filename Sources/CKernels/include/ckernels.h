// CKernels: the few loops that need CPU features Swift cannot ask for per function (F16C).
// Each has a portable scalar path; the vector path is chosen at run time.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// IEEE half → float, exact (denormals, infinities and NaNs included).
void ck_f16_to_f32(const uint16_t *src, float *dst, size_t n);
/// float → IEEE half, round to nearest even (as numpy's astype(float16)).
void ck_f32_to_f16(const float *src, uint16_t *dst, size_t n);
/// bfloat16 → float (exact) and float → bfloat16 (round to nearest even, NaN kept quiet).
void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
void ck_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
/// 1 when the F16C path is in use.
int ck_has_f16c(void);
/// c[i, j] (+)= Σ_p a[i, p] · half(w[j, p]) for i < m, j0 ≤ j < j1: a linear layer whose [out, in] weight is
/// stored as IEEE halves, widened in registers (no float copy of the weight). For few activation rows,
/// where the product is bound by reading the weight. Sums per row: 16 lanes, then lanes added in order.
void ck_linear_f16_rows(const float *a, size_t lda, const uint16_t *w, size_t ldw, float *c, size_t ldc,
                        size_t m, size_t j0, size_t j1, size_t k, int accumulate);
/// One implementation of ck_linear_f16_rows by name, for tests: 0 scalar, 1 AVX2+F16C, 2 AVX-512F (k % 16 == 0
/// for 1 and 2). Returns -1 (computing nothing) when this CPU or k cannot run it. The dispatcher picks 2, else
/// 1, else 0; CLIPWB_NO_AVX512=1 in the environment keeps it off AVX-512.
int ck_linear_f16_rows_variant(int variant, const float *a, size_t lda, const uint16_t *w, size_t ldw, float *c,
                               size_t ldc, size_t m, size_t j0, size_t j1, size_t k, int accumulate);
