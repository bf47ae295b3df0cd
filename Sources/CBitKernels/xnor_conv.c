#include "CBitKernels.h"
#include "taps.h"
#include <immintrin.h>

// Direct XNOR-popcount convolution over NHWC sign bits (see CBitKernels.h). Replaces
// im2row for bits + ql_xnor_gemm + the epilogue: building each output's bit row and
// its mask cost as much as the GEMM (perf: the bit rows 4.4 %, ql_xnor_avx512 4.7 % of a
// cifar3 w1a1 bench), and the int32 results made a round trip through memory. Here
// each tap's words are read where they lie in the input, taps outside the image are
// skipped (no mask: bits past C are 0 in inputs and weights alike, so they never
// differ), and the sign epilogue runs on the accumulators.
//
// Popcounts are exact integers and the epilogue is (float)dot · scale + bias, a product
// then a sum in single precision (no contraction), compared ≥ 0 (NaN → 0): the arithmetic
// of ql_epilogue, so every level gives the same bits.

#pragma clang fp contract(off)

size_t ql_xnor_conv_padded_filters(size_t filters) { return (filters + 15) / 16 * 16; }

static inline uint32_t ql_popcount32_portable(uint32_t v) {
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0f0f0f0fu;
    return (v * 0x01010101u) >> 24;
}

// Taps of output row i (or column j) that lie inside the input: KH (KW) minus those
// that fall in the padding.
static inline size_t ql_inside(size_t o, size_t stride, long padding, size_t kernel, size_t extent) {
    size_t n = 0;
    for (size_t t = 0; t < kernel; t++) {
        long v = (long)(o * stride + t) - padding;
        n += v >= 0 && v < (long)extent;
    }
    return n;
}

// One position's finished words: sign bits of filters 32w … 32w + 31 in word w.
static inline void ql_store_signs(const ql_xnor_conv_args *a, size_t b, size_t p, const uint32_t *words) {
    uint32_t *dst = a->bits + b * a->out_half_words_per_sample + p * a->out_words_per_position;
    for (size_t w = 0; w < a->out_words_per_position; w++) dst[w] = words[w];
}

static inline void ql_pad_word(const ql_xnor_conv_args *a, size_t b) {
    size_t used = a->out_height * a->out_width * a->out_words_per_position;
    if (a->bits && used % 2 == 1) a->bits[b * a->out_half_words_per_sample + used] = 0;
}

// The scalar body, one position and one filter at a time.
#define QL_XNOR_CONV_SCALAR_BODY(POPCOUNT)                                                  \
    const size_t c32 = a->words_per_position, KH = a->kernel_h, KW = a->kernel_w;          \
    const size_t H = a->height, W = a->width, S = a->stride, fp = a->filters_padded;       \
    const size_t oh = a->out_height, ow = a->out_width, K = a->filters;                    \
    const long P = (long)a->padding;                                                       \
    uint32_t words[64];                                                                    \
    for (size_t b = 0; b < a->batch; b++) {                                                \
        const uint32_t *image = a->x + b * a->half_words_per_sample;                       \
        for (size_t i = 0; i < oh; i++) {                                                  \
            for (size_t j = 0; j < ow; j++) {                                              \
                const int32_t valid = (int32_t)(ql_inside(i, S, P, KH, H) * ql_inside(j, S, P, KW, W) * a->channels); \
                for (size_t w = 0; w < a->out_words_per_position && w < 64; w++) words[w] = 0; \
                for (size_t f = 0; f < K; f++) {                                           \
                    uint32_t pc = 0;                                                       \
                    QL_FOR_TAPS_INSIDE(i, j, S, P, KH, KW, H, W,                           \
                        const uint32_t *xp = image + ((size_t)ih * W + (size_t)iw) * c32;  \
                        const uint32_t *wp = a->wt + (ki * KW + kj) * c32 * fp + f;        \
                        for (size_t q = 0; q < c32; q++) pc += POPCOUNT(xp[q] ^ wp[q * fp]);) \
                    const int32_t dot = valid - 2 * (int32_t)pc;                           \
                    if (a->bits) {                                                         \
                        const float v = (float)dot * a->scale[f] + a->bias[f];             \
                        words[f / 32] |= (uint32_t)(v >= 0) << (f % 32);                   \
                    } else {                                                               \
                        a->out[((b * oh + i) * ow + j) * a->ldo + f] = dot;                \
                    }                                                                      \
                }                                                                          \
                if (a->bits) ql_store_signs(a, b, i * ow + j, words);                      \
            }                                                                              \
        }                                                                                  \
        ql_pad_word(a, b);                                                                 \
    }

static void ql_xnor_conv_portable(const ql_xnor_conv_args *a) { QL_XNOR_CONV_SCALAR_BODY(ql_popcount32_portable) }

__attribute__((target("popcnt")))
static void ql_xnor_conv_popcnt(const ql_xnor_conv_args *a) { QL_XNOR_CONV_SCALAR_BODY(__builtin_popcount) }

// ---- AVX-512 ---------------------------------------------------------------------------
// 16 filters per register (32-bit lanes: one word of a tap for 16 filters), FB ≤ 4
// registers of filters × QB output positions per pass, each weight load shared by the
// QB positions. Interior columns (every column tap inside the image) run QB at a time;
// border columns one at a time, skipping their outside taps.

#define QL_AVX512_XC __attribute__((target("avx512f,avx512vl,avx512vpopcntdq")))

QL_AVX512_XC static inline __attribute__((always_inline))
void ql_xc_positions(const ql_xnor_conv_args *a, const uint32_t *image, size_t b, size_t i, size_t j, size_t g0,
                     const int FB, const int QB, int32_t rows_inside) {
    const size_t c32 = a->words_per_position, KH = a->kernel_h, KW = a->kernel_w;
    const size_t H = a->height, W = a->width, S = a->stride, fp = a->filters_padded;
    const size_t ow = a->out_width, K = a->filters;
    const long P = (long)a->padding;
    __m512i acc[4][4];
    _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++)
        _Pragma("clang loop unroll(full)") for (int f = 0; f < FB; f++) acc[q][f] = _mm512_setzero_si512();
    for (size_t ki = 0; ki < KH; ki++) {
        long ih = (long)(i * S + ki) - P;
        if (ih < 0 || ih >= (long)H) continue;
        const uint32_t *xrow = image + (size_t)ih * W * c32;
        for (size_t kj = 0; kj < KW; kj++) {
            long iw0 = (long)(j * S + kj) - P;
            if (QB == 1 && (iw0 < 0 || iw0 >= (long)W)) continue;
            const uint32_t *wr = a->wt + (ki * KW + kj) * c32 * fp + g0;
            for (size_t w = 0; w < c32; w++) {
                __m512i wv[4];
                _Pragma("clang loop unroll(full)") for (int f = 0; f < FB; f++)
                    wv[f] = _mm512_loadu_si512((const void *)(wr + w * fp + 16 * f));
                _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++) {
                    const __m512i xv = _mm512_set1_epi32((int)xrow[((size_t)iw0 + q * S) * c32 + w]);
                    _Pragma("clang loop unroll(full)") for (int f = 0; f < FB; f++)
                        acc[q][f] = _mm512_add_epi32(acc[q][f], _mm512_popcnt_epi32(_mm512_xor_si512(xv, wv[f])));
                }
            }
        }
    }
    _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++) {
        const int32_t valid = rows_inside * (int32_t)ql_inside(j + q, S, P, KW, W) * (int32_t)a->channels;
        const __m512i vv = _mm512_set1_epi32(valid);
        uint64_t signs = 0;
        _Pragma("clang loop unroll(full)") for (int f = 0; f < FB; f++) {
            size_t k0 = g0 + 16 * f;
            __mmask16 m = K - k0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k0)) - 1);
            __m512i dot = _mm512_sub_epi32(vv, _mm512_add_epi32(acc[q][f], acc[q][f]));
            if (a->bits) {
                __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_maskz_loadu_ps(m, a->scale + k0));
                v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, a->bias + k0));
                signs |= (uint64_t)_mm512_mask_cmp_ps_mask(m, v, _mm512_setzero_ps(), _CMP_GE_OQ) << (16 * f);
            } else {
                _mm512_mask_storeu_epi32(a->out + ((b * a->out_height + i) * ow + j + q) * a->ldo + k0, m, dot);
            }
        }
        if (a->bits) {
            uint32_t *dst = a->bits + b * a->out_half_words_per_sample + (i * ow + j + q) * a->out_words_per_position;
            for (size_t w = 0; 32 * w < (size_t)(16 * FB) && g0 / 32 + w < a->out_words_per_position; w++)
                dst[g0 / 32 + w] = (uint32_t)(signs >> (32 * w));
        }
    }
}

QL_AVX512_XC static inline __attribute__((always_inline))
void ql_xc_row(const ql_xnor_conv_args *a, const uint32_t *image, size_t b, size_t i, size_t g0, const int FB,
               long jlo, long jhi) {
    const int32_t rows_inside = (int32_t)ql_inside(i, a->stride, (long)a->padding, a->kernel_h, a->height);
    size_t j = 0;
    while (j < a->out_width) {
        if ((long)j >= jlo && (long)j + 4 <= jhi) { ql_xc_positions(a, image, b, i, j, g0, FB, 4, rows_inside); j += 4; }
        else { ql_xc_positions(a, image, b, i, j, g0, FB, 1, rows_inside); j += 1; }
    }
}

QL_AVX512_XC static void ql_xnor_conv_avx512(const ql_xnor_conv_args *a) {
    const long P = (long)a->padding, S = (long)a->stride, W = (long)a->width, KW = (long)a->kernel_w;
    // Columns j whose taps j·S − P … j·S − P + KW − 1 all lie inside 0 … W − 1.
    long jlo = (P + S - 1) / S, jhi = W - KW + P < 0 ? 0 : (W - KW + P) / S + 1;
    if (jhi > (long)a->out_width) jhi = (long)a->out_width;
    if (jlo > jhi) jlo = jhi;
    const size_t blocks = (a->filters + 15) / 16;
    for (size_t b = 0; b < a->batch; b++) {
        const uint32_t *image = a->x + b * a->half_words_per_sample;
        for (size_t g = 0; g < blocks; g += 4) {
            const size_t fb = blocks - g < 4 ? blocks - g : 4;
            for (size_t i = 0; i < a->out_height; i++) {
                switch (fb) {
                case 4: ql_xc_row(a, image, b, i, 16 * g, 4, jlo, jhi); break;
                case 3: ql_xc_row(a, image, b, i, 16 * g, 3, jlo, jhi); break;
                case 2: ql_xc_row(a, image, b, i, 16 * g, 2, jlo, jhi); break;
                default: ql_xc_row(a, image, b, i, 16 * g, 1, jlo, jhi); break;
                }
            }
        }
        ql_pad_word(a, b);
    }
}

void ql_xnor_conv(int level, const ql_xnor_conv_args *a) {
    if (a->filters == 0 || (a->bits && a->out_words_per_position > 64)) return;
    if (!ql_xnor_supported(level)) level = QL_XNOR_PORTABLE;
    if (level >= QL_XNOR_AVX512) ql_xnor_conv_avx512(a);
    else if (level >= QL_XNOR_POPCNT) ql_xnor_conv_popcnt(a);
    else ql_xnor_conv_portable(a);
}
