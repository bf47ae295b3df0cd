#include "CBitKernels.h"
#include <immintrin.h>

// Direct convolution for short rows (a first layer on 1–3 image channels: R = C·KH·KW
// of 9 or 27). im2col + sgemm spent most of their time outside the multiply-adds at
// such R (cifar3 conv1 was 45% of the packed w1a1 forward, perf), and the GEMM's
// channel-major output had to be transposed for the position-major epilogue.
//
// Every variant computes acc = fma(x, w, acc) tap by tap in (c, ki, kj) order, taps
// outside the image skipped: fmaf is correctly rounded, so the AVX-512, AVX2 and
// baseline builds (the last through libm's fmaf) give the same bits.

#pragma clang fp contract(off)

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
                float *row = a->out + (b * oh + i) * ow * ldo + k0;                        \
                size_t j = 0;                                                              \
                while (j < ow) {                                                           \
                    if ((long)j >= jlo && (long)j + QB <= jhi) {                           \
                        INTERIOR(QL_BLOCK, QB);                                            \
                        j += QB;                                                           \
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
                        for (size_t ki = 0; ki < KH; ki++) {                               \
                            long ih = (long)(i * S + ki) - P;                              \
                            if (ih < 0 || ih >= (long)H) continue;                         \
                            for (size_t kj = 0; kj < KW; kj++) {                           \
                                long iw = (long)(j * S + kj) - P;                          \
                                if (iw < 0 || iw >= (long)W) continue;                     \
                                const float xv = image[c * hw + (size_t)ih * W + (size_t)iw]; \
                                const float *w = wt + ((c * KH + ki) * KW + kj) * kp + k0; \
                                for (int t = 0; t < QL_BLOCK; t++) acc[t] = __builtin_fmaf(xv, w[t], acc[t]); \
                            }                                                              \
                        }                                                                  \
                    }                                                                      \
                    for (size_t t = 0; t < n; t++) row[j * ldo + t] = acc[t];              \
                    j += 1;                                                                \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
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
                            for (size_t t = 0; t < n; t++) row[(j + q) * ldo + t] = out[t]; \
                        }                                                                  \
} while (0)

// The interior block for AVX-512 in intrinsics: the plain C version kept its
// accumulators on the stack (vfmadd213ps from memory, clang 19).
#define QL_INTERIOR_AVX512(QL_BLOCK, QB) do {                                              \
        enum { NV = QL_BLOCK / 16 };                                                       \
        __m512 acc[QB][NV];                                                                \
        _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++)                    \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) acc[q][v] = _mm512_setzero_ps(); \
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
        _Pragma("clang loop unroll(full)") for (int q = 0; q < QB; q++) {                  \
            float out[QL_BLOCK];                                                           \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) _mm512_storeu_ps(out + 16 * v, acc[q][v]); \
            for (size_t t = 0; t < n; t++) row[(j + q) * ldo + t] = out[t];                \
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

QL_CONV_DIRECT_VARIANTS(avx512, __attribute__((target("avx512f,avx512vl,fma"))), QL_INTERIOR_AVX512)
QL_CONV_DIRECT_VARIANTS(avx2, __attribute__((target("avx2,fma"))), QL_INTERIOR_C)
QL_CONV_DIRECT_VARIANTS(baseline, , QL_INTERIOR_C)

void ql_conv_direct(int level, const ql_conv_direct_args *a) {
    uint32_t f = ql_cpu_features();
    if (a->filters == 0) return;
    if (level >= 2 && (f & QL_CPU_AVX512F) && (f & QL_CPU_FMA)) ql_conv_direct_avx512(a);
    else if (level >= 1 && (f & QL_CPU_AVX2) && (f & QL_CPU_FMA)) ql_conv_direct_avx2(a);
    else ql_conv_direct_baseline(a);
}
