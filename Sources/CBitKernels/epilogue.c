#include "CBitKernels.h"
#include <immintrin.h>

#pragma clang fp contract(off)

// One body, compiled for AVX-512, AVX2 and the baseline; clang vectorises the channel
// loops. Multiplications and additions are IEEE single precision in every version, so
// all three give the same bits.
#define QL_EPILOGUE_BODY(SIGNS)                                                                 \
    const size_t c = a->channels;                                                          \
    float *v = a->scratch;                                                                 \
    const float magic = 12582912.0f;   /* 1.5·2²³: (x + m) − m rounds half to even */     \
    for (size_t r = 0; r < a->rows; r++) {                                                 \
        if (a->acc) {                                                                      \
            const int32_t *s = a->acc + r * a->ld;                                         \
            for (size_t k = 0; k < c; k++) v[k] = (float)s[k] * a->scale[k] + a->bias[k];  \
        } else {                                                                           \
            const float *s = a->fsrc + r * a->ld;                                          \
            if (a->ldk == 1) for (size_t k = 0; k < c; k++) v[k] = s[k] + a->bias[k];      \
            else for (size_t k = 0; k < c; k++) v[k] = s[k * a->ldk] + a->bias[k];         \
        }                                                                                  \
        if (a->relu) for (size_t k = 0; k < c; k++) v[k] = v[k] < 0 ? 0 : v[k];           \
        size_t g = a->first_row + r;                                                       \
        if (a->output == 0) {                                                              \
            uint8_t *dst = a->codes + g * c;                                               \
            const float clip = a->clip, inv = a->inverse, top = a->top;                    \
            for (size_t k = 0; k < c; k++) {                                               \
                float x = v[k];                                                            \
                x = x < 0 ? 0 : x;                                                         \
                x = x > clip ? clip : x;                                                   \
                float q = (x * inv + magic) - magic;                                       \
                q = q >= 0 ? q : 0;                                                        \
                q = q > top ? top : q;                                                     \
                dst[k] = (uint8_t)(int32_t)q;                                              \
            }                                                                              \
        } else {                                                                           \
            size_t sample = g / a->positions, p = g % a->positions;                        \
            uint32_t *base = a->half + sample * a->half_words_per_sample;                  \
            uint32_t *dst = base + p * a->words_per_position;                              \
            for (size_t w = 0; w < a->words_per_position; w++) {                           \
                size_t end = (w + 1) * 32 < c ? (w + 1) * 32 : c;                          \
                dst[w] = SIGNS(v + w * 32, end - w * 32);                                  \
            }                                                                              \
            if (p == a->positions - 1 && (a->positions * a->words_per_position) % 2 == 1)  \
                base[a->positions * a->words_per_position] = 0;                            \
        }                                                                                  \
    }

// Sign bits of n ≤ 32 values, bit k = (v[k] ≥ 0): sign(0) = +1, NaN → 0 (−1).
static inline uint32_t ql_signs_c(const float *v, size_t n) {
    uint32_t word = 0;
    for (size_t k = 0; k < n; k++) word |= (uint32_t)(v[k] >= 0) << k;
    return word;
}

// The same with two masked compares (ordered ≥: NaN → 0); the C loop above vectorised
// into shifts and an OR reduction per word, the largest part of the epilogue (perf).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
static inline uint32_t ql_signs_avx512(const float *v, size_t n) {
    const __m512 zero = _mm512_setzero_ps();
    size_t n1 = n > 16 ? n - 16 : 0;
    __mmask16 m0 = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 m1 = n1 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n1) - 1);
    uint32_t lo = _mm512_mask_cmp_ps_mask(m0, _mm512_maskz_loadu_ps(m0, v), zero, _CMP_GE_OQ);
    uint32_t hi = m1 ? _mm512_mask_cmp_ps_mask(m1, _mm512_maskz_loadu_ps(m1, v + 16), zero, _CMP_GE_OQ) : 0;
    return lo | hi << 16;
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
static void ql_epilogue_avx512(const ql_epilogue_args *a) { QL_EPILOGUE_BODY(ql_signs_avx512) }

__attribute__((target("avx2,fma")))
static void ql_epilogue_avx2(const ql_epilogue_args *a) { QL_EPILOGUE_BODY(ql_signs_c) }

static void ql_epilogue_baseline(const ql_epilogue_args *a) { QL_EPILOGUE_BODY(ql_signs_c) }

void ql_epilogue(const ql_epilogue_args *a) {
    uint32_t f = ql_cpu_features();
    if ((f & QL_CPU_AVX512F) && (f & QL_CPU_AVX512BW)) ql_epilogue_avx512(a);
    else if (f & QL_CPU_AVX2) ql_epilogue_avx2(a);
    else ql_epilogue_baseline(a);
}
