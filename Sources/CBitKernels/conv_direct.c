#include "CBitKernels.h"
#include "taps.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

// Direct convolution for short rows (a first layer on 1–3 image channels: R = C·KH·KW
// of 9 or 27). im2col + sgemm spent most of their time outside the multiply-adds at
// such R (cifar3 conv1 was 45% of the packed w1a1 forward, perf), and the GEMM's
// channel-major output had to be transposed for the position-major epilogue.
//
// Every variant computes acc = fma(x, w, acc) tap by tap in (c, ki, kj) order, taps
// outside the image skipped: fmaf is correctly rounded, so the AVX-512, AVX2 and
// baseline builds (the last through libm's fmaf) give the same bits.

#pragma clang fp contract(off)

// Writes one output position's n ≤ BLK results, out[t] for filter k0 + t: floats at
// row[J·ldo + t], or (a->bits set) the sign bits of out[t] + bias[k0 + t] (≥ 0 → 1,
// NaN → 0), the packed epilogue's arithmetic for a layer with no operations after
// it. k0 is a multiple of the block (16 only when K ≤ 16), so the 32-bit words of
// filters k0… are written whole. Uses SIGNS, the block's sign function.
#define QL_EMIT(OUT, J) do {                                                               \
        if (a->bits) {                                                                     \
            uint32_t *d = a->bits + b * a->half_words_per_sample                           \
                          + (i * ow + (J)) * a->words_per_position + k0 / 32;              \
            QL_SIGNS(OUT, a->bias + k0, n, d);                                             \
        } else if (a->codes) {                                                             \
            QL_CODES(OUT, a->bias + k0, n, a, a->codes + ((b * oh + i) * ow + (J)) * K + k0); \
        } else {                                                                           \
            for (size_t t = 0; t < n; t++) row[(J) * ldo + t] = (OUT)[t];                  \
        }                                                                                  \
    } while (0)

// Sign words of v[t] + bias[t] for t < n: word w holds t = 32w … 32w + 31.
static inline void ql_signs_bias_c(const float *v, const float *bias, size_t n, uint32_t *d) {
    for (size_t w = 0; w * 32 < n; w++) {
        uint32_t word = 0;
        size_t end = n < 32 * w + 32 ? n : 32 * w + 32;
        for (size_t t = 32 * w; t < end; t++) word |= (uint32_t)(v[t] + bias[t] >= 0) << (t - 32 * w);
        d[w] = word;
    }
}

// The same with masked adds and ordered ≥ compares, 16 lanes at a time.
__attribute__((target("avx512f,avx512vl,fma")))
static inline void ql_signs_bias_avx512(const float *v, const float *bias, size_t n, uint32_t *d) {
    for (size_t w = 0; w * 32 < n; w++) {
        uint32_t word = 0;
        for (size_t h = 0; h < 2; h++) {
            size_t t0 = 32 * w + 16 * h;
            if (t0 >= n) break;
            __mmask16 m = n - t0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - t0)) - 1);
            __m512 x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, v + t0), _mm512_maskz_loadu_ps(m, bias + t0));
            word |= (uint32_t)_mm512_mask_cmp_ps_mask(m, x, _mm512_setzero_ps(), _CMP_GE_OQ) << (16 * h);
        }
        d[w] = word;
    }
}

// Codes of v[t] + bias[t] for t < n, the packed epilogue's (ql_epilogue) arithmetic for a
// layer with at most a ReLU before its uniform quantizer: the quantizer's clamp at 0
// makes the ReLU a no-op, so one formula serves both.
static inline uint8_t ql_code_c(float x, const ql_conv_direct_args *a) {
    const float magic = 12582912.0f;   /* 1.5·2²³: (x + m) − m rounds half to even */
    x = x < 0 ? 0 : x;
    x = x > a->clip ? a->clip : x;
    float q = (x * a->inverse + magic) - magic;
    q = q >= 0 ? q : 0;                /* NaN → 0 */
    q = q > a->top ? a->top : q;
    return (uint8_t)(int32_t)q;
}

static inline void ql_codes_bias_c(const float *v, const float *bias, size_t n, const ql_conv_direct_args *a, uint8_t *d) {
    for (size_t t = 0; t < n; t++) d[t] = ql_code_c(v[t] + bias[t], a);
}

// The constants of ql_code_c as vectors, set once per block of outputs.
typedef struct { __m512 zero, clip, inverse, magic, top; } ql_code_consts;

__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline ql_code_consts ql_code_consts_avx512(const ql_conv_direct_args *a) {
    return (ql_code_consts){_mm512_setzero_ps(), _mm512_set1_ps(a->clip), _mm512_set1_ps(a->inverse),
                            _mm512_set1_ps(12582912.0f), _mm512_set1_ps(a->top)};
}

// The codes of x (the sum plus its bias) 16 lanes at a time, as 32-bit integers: ordered
// compares and blends in the order of ql_code_c (NaN keeps failing each compare as it does
// there, and ends as code 0), products and sums not contracted.
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline __m512i ql_codes_avx512(__m512 x, const ql_code_consts *k) {
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, k->zero, _CMP_LT_OQ), k->zero);
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, k->clip, _CMP_GT_OQ), k->clip);
    __m512 q = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x, k->inverse), k->magic), k->magic);
    q = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(q, k->zero, _CMP_GE_OQ), q);
    q = _mm512_mask_mov_ps(q, _mm512_cmp_ps_mask(q, k->top, _CMP_GT_OQ), k->top);
    return _mm512_cvttps_epi32(q);
}

// ql_codes_bias_c's codes 16 lanes at a time (masked at n).
__attribute__((target("avx512f,avx512vl,fma")))
static inline void ql_codes_bias_avx512(const float *v, const float *bias, size_t n, const ql_conv_direct_args *a,
                                        uint8_t *d) {
    const ql_code_consts k = ql_code_consts_avx512(a);
    for (size_t t0 = 0; t0 < n; t0 += 16) {
        __mmask16 m = n - t0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - t0)) - 1);
        __m512 x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, v + t0), _mm512_maskz_loadu_ps(m, bias + t0));
        _mm512_mask_cvtepi32_storeu_epi8(d + t0, m, ql_codes_avx512(x, &k));
    }
}

// BLK filters per pass (16, 32 or 64: one to four 512-bit accumulators), the smallest
// that covers the filters, so that 32 filters do not compute 32 zero lanes. Columns whose
// taps all lie inside the image run QB positions at a time: QB·BLK/16 independent
// accumulator chains hide the FMA latency (one position at a time waited on it: 37% of
// the kernel's samples on one vfmadd, perf annotate). Border columns run one by one.
// Both compute each output from the same taps in the same order.
#define QL_CONV_DIRECT_BODY(QL_BLOCK, QB, INTERIOR)                                                  \
    const size_t oh = a->out_height, ow = a->out_width, kp = a->filters_padded;            \
    const size_t H = a->height, W = a->width, C = a->channels, S = a->stride;              \
    const size_t KH = a->kernel_h, KW = a->kernel_w, ldo = a->ldo, K = a->filters;         \
    const long P = (long)a->padding;                                                       \
    const size_t hw = H * W;                                                               \
    const float *wt = a->wt;                                                               \
    /* Columns j whose taps j·S − P … j·S − P + KW − 1 are all inside 0 … W − 1. */       \
    long jlo = (P + (long)S - 1) / (long)S, jhi = ((long)W - (long)KW + P) / (long)S + 1; \
    if ((long)W - (long)KW + P < 0) jhi = 0;                                               \
    if (jhi > (long)ow) jhi = (long)ow;                                                    \
    if (jlo > jhi) jlo = jhi;                                                              \
    for (size_t b = 0; b < a->batch; b++) {                                                \
        const float *image = a->x + b * C * hw;                                            \
        for (size_t k0 = 0; k0 < K; k0 += QL_BLOCK) {                                      \
            const size_t n = K - k0 < QL_BLOCK ? K - k0 : QL_BLOCK;                        \
            for (size_t i = 0; i < oh; i++) {                                              \
                float *row = a->out ? a->out + (b * oh + i) * ow * ldo + k0 : NULL;        \
                size_t j = 0;                                                              \
                while (j < ow) {                                                           \
                    if ((long)j >= jlo && (long)j + QB <= jhi) {                           \
                        INTERIOR(QL_BLOCK, QB);                                            \
                        j += QB;                                                           \
                        continue;                                                          \
                    }                                                                      \
                    if ((long)j >= jlo && (long)j < jhi && jhi - jlo >= QB) {              \
                        /* The row's last QB interior columns, overlapping the previous */ \
                        /* block: its outputs are computed again, to the same values. */  \
                        j = (size_t)jhi - QB;                                              \
                        INTERIOR(QL_BLOCK, QB);                                            \
                        j = (size_t)jhi;                                                   \
                        continue;                                                          \
                    }                                                                      \
                    if (QB > 2 && (long)j >= jlo && (long)j + 2 <= jhi) {                  \
                        INTERIOR(QL_BLOCK, 2);                                             \
                        j += 2;                                                            \
                        continue;                                                          \
                    }                                                                      \
                    float acc[QL_BLOCK];                                                   \
                    for (int t = 0; t < QL_BLOCK; t++) acc[t] = 0;                         \
                    for (size_t c = 0; c < C; c++) {                                       \
                        QL_FOR_TAPS_INSIDE(i, j, S, P, KH, KW, H, W,                       \
                            const float xv = image[c * hw + (size_t)ih * W + (size_t)iw];  \
                            const float *w = wt + ((c * KH + ki) * KW + kj) * kp + k0;     \
                            for (int t = 0; t < QL_BLOCK; t++) acc[t] = __builtin_fmaf(xv, w[t], acc[t]);) \
                    }                                                                      \
                    QL_EMIT(acc, j);                                                       \
                    j += 1;                                                                \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        if (a->bits && (oh * ow * a->words_per_position) % 2 == 1)                         \
            a->bits[b * a->half_words_per_sample + oh * ow * a->words_per_position] = 0;   \
    }

// The interior block in plain C (the AVX2 and baseline builds).
#define QL_INTERIOR_C(QL_BLOCK, QB) do {                                                   \
                        float acc[QB][QL_BLOCK];                                           \
                        for (int q = 0; q < QB; q++)                                       \
                            for (int t = 0; t < QL_BLOCK; t++) acc[q][t] = 0;              \
                        for (size_t c = 0; c < C; c++) {                                   \
                            for (size_t ki = 0; ki < KH; ki++) {                           \
                                long ih = (long)(i * S + ki) - P;                          \
                                if (ih < 0 || ih >= (long)H) continue;                     \
                                const float *xr = image + c * hw + (size_t)ih * W + (j * S - (size_t)P); \
                                const float *wr = wt + (c * KH + ki) * KW * kp + k0;       \
                                for (size_t kj = 0; kj < KW; kj++) {                       \
                                    const float *w = wr + kj * kp;                         \
                                    for (int q = 0; q < QB; q++) {                         \
                                        const float xv = xr[q * S + kj];                   \
                                        for (int t = 0; t < QL_BLOCK; t++)                 \
                                            acc[q][t] = __builtin_fmaf(xv, w[t], acc[q][t]); \
                                    }                                                      \
                                }                                                          \
                            }                                                              \
                        }                                                                  \
                        /* Through a fixed-size copy: a loop to the run-time n over acc */ \
                        /* itself would keep the accumulators in memory. */               \
                        for (int q = 0; q < QB; q++) {                                     \
                            float out[QL_BLOCK];                                           \
                            for (int t = 0; t < QL_BLOCK; t++) out[t] = acc[q][t];         \
                            QL_EMIT(out, j + q);                                           \
                        }                                                                  \
} while (0)

// The interior block for AVX-512 in intrinsics: the plain C version kept its
// accumulators on the stack (vfmadd213ps from memory, clang 19).
#define QL_INTERIOR_AVX512(QL_BLOCK, QB) do {                                              \
        enum { NV = QL_BLOCK / 16 };                                                       \
        __m512 acc[QB][NV];                                                                \
        _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++)                    \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) acc[q][v] = _mm512_setzero_ps(); \
        if (KW == 3 && S == 1) {                                                           \
            /* The 3-wide, stride-1 kernel: input column u serves outputs u − 2 … u, so   */ \
            /* each is broadcast once (QB + 2 loads, not 3·QB); each accumulator still    */ \
            /* takes kj = 0, 1, 2 in turn. cifar3 conv1 ~15% faster.                      */ \
            for (size_t c = 0; c < C; c++) {                                               \
                for (size_t ki = 0; ki < KH; ki++) {                                       \
                    long ih = (long)(i + ki) - P;                                          \
                    if (ih < 0 || ih >= (long)H) continue;                                 \
                    const float *xr = image + c * hw + (size_t)ih * W + (j - (size_t)P);   \
                    const float *wr = wt + (c * KH + ki) * 3 * kp + k0;                    \
                    __m512 w[3][NV];                                                       \
                    _Pragma("clang loop unroll(full)") for (int kj = 0; kj < 3; kj++)      \
                        _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++)    \
                            w[kj][v] = _mm512_loadu_ps(wr + kj * kp + 16 * v);             \
                    _Pragma("clang loop unroll(full)") for (int u = 0; u < QB + 2; u++) {  \
                        const __m512 xv = _mm512_set1_ps(xr[u]);                           \
                        _Pragma("clang loop unroll(full)") for (int kj = 2; kj >= 0; kj--) { \
                            if (u - kj < 0 || u - kj >= QB) continue;                      \
                            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) \
                                acc[u - kj][v] = _mm512_fmadd_ps(xv, w[kj][v], acc[u - kj][v]); \
                        }                                                                  \
                    }                                                                      \
                }                                                                          \
            }                                                                              \
        } else                                                                             \
        for (size_t c = 0; c < C; c++) {                                                   \
            for (size_t ki = 0; ki < KH; ki++) {                                           \
                long ih = (long)(i * S + ki) - P;                                          \
                if (ih < 0 || ih >= (long)H) continue;                                     \
                const float *xr = image + c * hw + (size_t)ih * W + (j * S - (size_t)P);   \
                const float *wr = wt + (c * KH + ki) * KW * kp + k0;                       \
                for (size_t kj = 0; kj < KW; kj++) {                                       \
                    __m512 w[NV];                                                          \
                    _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++)        \
                        w[v] = _mm512_loadu_ps(wr + kj * kp + 16 * v);                     \
                    _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++) {      \
                        const __m512 xv = _mm512_set1_ps(xr[q * S + kj]);                  \
                        _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++)    \
                            acc[q][v] = _mm512_fmadd_ps(xv, w[v], acc[q][v]);              \
                    }                                                                      \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        /* Whole blocks of codes or sign bits straight from the registers, the same        */ \
        /* arithmetic as QL_EMIT's (through memory and a run-time n, the epilogue took a */ \
        /* quarter of cifar3 conv1's codes time); partial blocks and floats take QL_EMIT.  */ \
        if (a->codes && n == QL_BLOCK) {                                                   \
            const ql_code_consts kc = ql_code_consts_avx512(a);                            \
            uint8_t *d = a->codes + ((b * oh + i) * ow + j) * K + k0;                      \
            __m512 bias[NV];   /* loaded before the byte stores, which may alias *a */     \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) bias[v] = _mm512_loadu_ps(a->bias + k0 + 16 * v); \
            _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++)                \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++)            \
                    _mm512_mask_cvtepi32_storeu_epi8(d + q * K + 16 * v, 0xffff,           \
                                                     ql_codes_avx512(_mm512_add_ps(acc[q][v], bias[v]), &kc)); \
        } else if (a->bits && n == QL_BLOCK) {                                             \
            /* Sign words straight from the registers (QL_SIGNS's arithmetic). */         \
            _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++) {              \
                uint32_t *d = a->bits + b * a->half_words_per_sample                       \
                              + (i * ow + j + q) * a->words_per_position + k0 / 32;        \
                uint32_t m[NV];                                                            \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++)            \
                    m[v] = _mm512_cmp_ps_mask(_mm512_add_ps(acc[q][v], _mm512_loadu_ps(a->bias + k0 + 16 * v)), \
                                              _mm512_setzero_ps(), _CMP_GE_OQ);            \
                /* Word w: filters k0 + 32w …, vectors 2w and 2w + 1 (one vector: 16 bits). */ \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v += 2)         \
                    d[v / 2] = NV == 1 ? m[0] : m[v] | m[v + 1 < NV ? v + 1 : v] << 16;    \
            }                                                                              \
        } else                                                                             \
        _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++) {                  \
            float out[QL_BLOCK];                                                           \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) _mm512_storeu_ps(out + 16 * v, acc[q][v]); \
            QL_EMIT(out, j + q);                                                           \
        }                                                                                  \
    } while (0)

#define QL_CONV_DIRECT_VARIANTS(ISA, ATTR, INTERIOR)                                                 \
    ATTR static void ql_conv_direct_##ISA##_16(const ql_conv_direct_args *a) { QL_CONV_DIRECT_BODY(16, 8, INTERIOR) } \
    ATTR static void ql_conv_direct_##ISA##_32(const ql_conv_direct_args *a) { QL_CONV_DIRECT_BODY(32, 8, INTERIOR) } \
    ATTR static void ql_conv_direct_##ISA##_64(const ql_conv_direct_args *a) { QL_CONV_DIRECT_BODY(64, 4, INTERIOR) } \
    static void ql_conv_direct_##ISA(const ql_conv_direct_args *a) {                      \
        size_t blk = ql_conv_direct_block(a->filters);                                     \
        if (blk == 16) ql_conv_direct_##ISA##_16(a);                                       \
        else if (blk == 32) ql_conv_direct_##ISA##_32(a);                                  \
        else ql_conv_direct_##ISA##_64(a);                                                 \
    }

static size_t ql_conv_direct_block(size_t filters) { return filters <= 16 ? 16 : filters <= 32 ? 32 : 64; }

size_t ql_conv_direct_padded_filters(size_t filters) {
    size_t blk = ql_conv_direct_block(filters);
    return (filters + blk - 1) / blk * blk;
}

#define QL_SIGNS ql_signs_bias_avx512
#define QL_CODES ql_codes_bias_avx512
QL_CONV_DIRECT_VARIANTS(avx512, __attribute__((target("avx512f,avx512vl,fma"))), QL_INTERIOR_AVX512)
#undef QL_SIGNS
#undef QL_CODES
#define QL_SIGNS ql_signs_bias_c
#define QL_CODES ql_codes_bias_c
QL_CONV_DIRECT_VARIANTS(avx2, __attribute__((target("avx2,fma"))), QL_INTERIOR_C)
QL_CONV_DIRECT_VARIANTS(baseline, , QL_INTERIOR_C)
#undef QL_SIGNS
#undef QL_CODES

static void ql_conv_direct_level(int level, const ql_conv_direct_args *a) {
    uint32_t f = ql_cpu_features();
    if (level >= 2 && (f & QL_CPU_AVX512F) && (f & QL_CPU_FMA)) ql_conv_direct_avx512(a);
    else if (level >= 1 && (f & QL_CPU_AVX2) && (f & QL_CPU_FMA)) ql_conv_direct_avx2(a);
    else ql_conv_direct_baseline(a);
}

static int ql_all_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) if (!(v[i] - v[i] == 0)) return 0;    // false for ±inf and NaN
    return 1;
}

// Sign or code output with padding: each image is copied into a zero border so that every
// column runs the interior blocks (the one-column border path and the two-column tail
// were a third of cifar3 conv1's time). The zero taps add fma(0, w, acc) = acc + ±0,
// which changes at most the sign of a zero sum, invisible to (sum + bias ≥ 0) and to a
// code (±0 + bias is bias unless bias is ±0, and every ±0 is code 0), as long as every
// weight is finite (0 · ∞ would be NaN); otherwise the taps are skipped.
void ql_conv_direct(int level, const ql_conv_direct_args *a) {
    if (a->filters == 0 || a->batch == 0) return;
    const size_t C = a->channels, H = a->height, W = a->width, P = a->padding;
    const size_t R = C * a->kernel_h * a->kernel_w;
    float *padded = NULL;
    if ((a->bits || a->codes) && P > 0 && ql_all_finite(a->wt, R * a->filters_padded))
        padded = calloc(C * (H + 2 * P) * (W + 2 * P), sizeof(float));
    if (!padded) { ql_conv_direct_level(level, a); return; }
    const size_t ph = H + 2 * P, pw = W + 2 * P;
    ql_conv_direct_args one = *a;
    one.x = padded; one.batch = 1; one.height = ph; one.width = pw; one.padding = 0;
    for (size_t b = 0; b < a->batch; b++) {
        for (size_t c = 0; c < C; c++)
            for (size_t y = 0; y < H; y++)
                memcpy(padded + (c * ph + y + P) * pw + P, a->x + ((b * C + c) * H + y) * W, W * sizeof(float));
        if (a->bits) one.bits = a->bits + b * a->half_words_per_sample;
        else one.codes = a->codes + b * a->out_height * a->out_width * a->filters;
        ql_conv_direct_level(level, &one);
    }
    free(padded);
}
