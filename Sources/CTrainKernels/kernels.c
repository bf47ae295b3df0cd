#include "CTrainKernels.h"
#include <immintrin.h>
#include "column_lanes.h"
#include "transpose16.h"
#include <stdlib.h>
#include <string.h>

// Products and sums stay separate roundings, as in the Swift loops (no FMA).
#pragma clang fp contract(off)

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

AVX512 void ql_relu_avx512(const float *x, float *y, size_t n) {
    const __m512 zero = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __mmask16 neg = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
        _mm512_storeu_ps(y + i, _mm512_mask_mov_ps(v, neg, zero));
    }
    // The Swift loop's vector part ran in eights: those lanes use x < 0 ? 0 : x.
    for (; i + 8 <= n; i += 8)
        for (size_t j = i; j < i + 8; j++) y[j] = x[j] < 0 ? 0.0f : x[j];
    // Its scalar tail: Swift.max(x, 0) = 0 ≥ x ? 0 : x.
    for (; i < n; i++) y[i] = 0.0f >= x[i] ? 0.0f : x[i];
}

AVX512 void ql_mask_positive_avx512(const float *y, const float *dy, float *dx, size_t n) {
    const __m512 zero = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __mmask16 keep = _mm512_cmp_ps_mask(_mm512_loadu_ps(y + i), zero, _CMP_GT_OQ);
        _mm512_storeu_ps(dx + i, _mm512_maskz_mov_ps(keep, _mm512_loadu_ps(dy + i)));
    }
    for (; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0.0f;
}

AVX512 void ql_mask_in_range_avx512(const float *x, const float *dy, float *dx, size_t n, float lo, float hi) {
    const __m512 l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __mmask16 keep = _mm512_cmp_ps_mask(v, l, _CMP_GE_OQ) & _mm512_cmp_ps_mask(v, h, _CMP_LE_OQ);
        _mm512_storeu_ps(dx + i, _mm512_maskz_mov_ps(keep, _mm512_loadu_ps(dy + i)));
    }
    for (; i < n; i++) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f;
}

/// Swift.max(p, q) = q ≥ p ? q : p (p when either is NaN).
static inline float swift_max(float p, float q) { return q >= p ? q : p; }
AVX512 static inline __m512 swift_max16(__m512 p, __m512 q) {
    return _mm512_mask_mov_ps(p, _mm512_cmp_ps_mask(q, p, _CMP_GE_OQ), q);
}

// Lane indices: deinterleave 32 floats (two registers) into even and odd lanes, and back.
#define EVEN_IDX _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODD_IDX _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define LO_IDX _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define HI_IDX _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)

AVX512 void ql_maxpool2_forward_avx512(const float *x, float *y, size_t planes, size_t h, size_t w) {
    const size_t oh = h / 2, ow = w / 2;
    const __m512i even = EVEN_IDX, odd = ODD_IDX;
    for (size_t p = 0; p < planes; p++) {
        const float *src = x + p * h * w;
        float *dst = y + p * oh * ow;
        for (size_t i = 0; i < oh; i++) {
            const float *r0 = src + 2 * i * w, *r1 = r0 + w;
            float *d = dst + i * ow;
            size_t j = 0;
            for (; j + 16 <= ow; j += 16) {
                __m512 t0 = _mm512_loadu_ps(r0 + 2 * j), t1 = _mm512_loadu_ps(r0 + 2 * j + 16);
                __m512 b0 = _mm512_loadu_ps(r1 + 2 * j), b1 = _mm512_loadu_ps(r1 + 2 * j + 16);
                __m512 a = _mm512_permutex2var_ps(t0, even, t1), b = _mm512_permutex2var_ps(t0, odd, t1);
                __m512 c = _mm512_permutex2var_ps(b0, even, b1), e = _mm512_permutex2var_ps(b0, odd, b1);
                _mm512_storeu_ps(d + j, swift_max16(swift_max16(a, b), swift_max16(c, e)));
            }
            for (; j < ow; j++)
                d[j] = swift_max(swift_max(r0[2 * j], r0[2 * j + 1]), swift_max(r1[2 * j], r1[2 * j + 1]));
        }
    }
}

AVX512 void ql_maxpool2_backward_avx512(const float *x, const float *y, const float *dy, float *dx,
                                        size_t planes, size_t h, size_t w, int positive_only) {
    const __m512 zero = _mm512_setzero_ps();
    const size_t oh = h / 2, ow = w / 2;
    const __m512i even = EVEN_IDX, odd = ODD_IDX, lo = LO_IDX, hi = HI_IDX;
    for (size_t p = 0; p < planes; p++) {
        const float *src = x + p * h * w, *out = y + p * oh * ow, *g = dy + p * oh * ow;
        float *dst = dx + p * h * w;
        for (size_t i = 0; i < oh; i++) {
            const size_t r0 = 2 * i * w, r1 = r0 + w;
            size_t j = 0;
            for (; j + 16 <= ow; j += 16) {
                __m512 t0 = _mm512_loadu_ps(src + r0 + 2 * j), t1 = _mm512_loadu_ps(src + r0 + 2 * j + 16);
                __m512 b0 = _mm512_loadu_ps(src + r1 + 2 * j), b1 = _mm512_loadu_ps(src + r1 + 2 * j + 16);
                __m512 m = _mm512_loadu_ps(out + i * ow + j), gv = _mm512_loadu_ps(g + i * ow + j);
                // Under a ReLU mask only windows whose maximum is positive pass dy on.
                const __mmask16 live = positive_only ? _mm512_cmp_ps_mask(m, zero, _CMP_GT_OQ) : (__mmask16)0xFFFF;
                __mmask16 ea = live & _mm512_cmp_ps_mask(_mm512_permutex2var_ps(t0, even, t1), m, _CMP_EQ_OQ);
                __mmask16 eb = live & _mm512_cmp_ps_mask(_mm512_permutex2var_ps(t0, odd, t1), m, _CMP_EQ_OQ);
                __mmask16 ec = live & _mm512_cmp_ps_mask(_mm512_permutex2var_ps(b0, even, b1), m, _CMP_EQ_OQ);
                __mmask16 ed = live & _mm512_cmp_ps_mask(_mm512_permutex2var_ps(b0, odd, b1), m, _CMP_EQ_OQ);
                // The first corner equal to the maximum takes dy.
                __mmask16 fb = eb & ~ea, fc = ec & ~(ea | eb), fd = ed & ~(ea | eb | ec);
                __m512 ga = _mm512_maskz_mov_ps(ea, gv), gb = _mm512_maskz_mov_ps(fb, gv);
                __m512 gc = _mm512_maskz_mov_ps(fc, gv), gd = _mm512_maskz_mov_ps(fd, gv);
                _mm512_storeu_ps(dst + r0 + 2 * j, _mm512_permutex2var_ps(ga, lo, gb));
                _mm512_storeu_ps(dst + r0 + 2 * j + 16, _mm512_permutex2var_ps(ga, hi, gb));
                _mm512_storeu_ps(dst + r1 + 2 * j, _mm512_permutex2var_ps(gc, lo, gd));
                _mm512_storeu_ps(dst + r1 + 2 * j + 16, _mm512_permutex2var_ps(gc, hi, gd));
            }
            for (; j < ow; j++) {
                const float m = out[i * ow + j], gv = g[i * ow + j];
                const size_t a = r0 + 2 * j, b = a + 1, c = r1 + 2 * j, d = c + 1;
                float rest = positive_only && !(m > 0) ? 0.0f : gv;
                int e = src[a] == m; dst[a] = e ? rest : 0.0f; rest = e ? 0.0f : rest;
                e = src[b] == m; dst[b] = e ? rest : 0.0f; rest = e ? 0.0f : rest;
                e = src[c] == m; dst[c] = e ? rest : 0.0f; rest = e ? 0.0f : rest;
                dst[d] = src[d] == m ? rest : 0.0f;
            }
        }
    }
}

AVX512 void ql_stochastic_codes_avx512(const float *g, size_t n, float inverse, float scale,
                                       const uint64_t *draws, int8_t *codes, float *values) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);   // 1.5·2²³: adding it rounds to an integer
    const __m512i magic_bits = _mm512_set1_epi32(0x4B400000);
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f), zero = _mm512_setzero_ps();
    const __m512 inv = _mm512_set1_ps(inverse), sv = _mm512_set1_ps(scale), one = _mm512_set1_ps(1.0f);
    const __m512i one_bits = _mm512_set1_epi32(0x3F800000);
    const uint16_t *words = (const uint16_t *)draws;   // lane i takes 16-bit word i (little-endian)
    for (size_t i = 0; i < n; i += 16) {
        const size_t k = n - i < 16 ? n - i : 16;
        const __mmask16 live = (__mmask16)((1u << k) - 1u);
        __m512 gv = _mm512_maskz_loadu_ps(live, g + i);
        __m512i b = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(live, words + i));
        // u = b/2¹⁶ exactly: the float 1 + b·2⁻¹⁶ minus 1.
        __m512 u = _mm512_sub_ps(_mm512_castsi512_ps(_mm512_or_si512(_mm512_slli_epi32(b, 7), one_bits)), one);
        __m512 t = _mm512_add_ps(_mm512_mul_ps(gv, inv), u);
        __m512 c = _mm512_sub_ps(_mm512_add_ps(t, magic), magic);                 // round to nearest even
        c = _mm512_mask_sub_ps(c, _mm512_cmp_ps_mask(c, t, _CMP_GT_OQ), c, one);  // ⌊t⌋
        c = _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(c, lo, _CMP_LT_OQ), lo);
        c = _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(c, hi, _CMP_GT_OQ), hi);
        c = _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(c, c, _CMP_NEQ_UQ), zero); // NaN → 0
        __m512i q = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(c, magic)), magic_bits);
        _mm512_mask_storeu_ps(values + i, live, _mm512_mul_ps(c, sv));
        _mm_mask_storeu_epi8(codes + i, live, _mm512_cvtepi32_epi8(q));
    }
}

/// The output rows [tlo, thi) of tap row ki, flattened (row i reads input row i − p + ki).
static inline void same_plane_rows(long h, long w, long p, long ki, long *tlo, long *thi) {
    const long ilo = p - ki > 0 ? p - ki : 0, ihi = h + p - ki < h ? h + p - ki : h;
    *tlo = ilo * w;
    *thi = (ihi > ilo ? ihi : ilo) * w;
}

/// For "same" stride-1 convolutions (output plane = input plane, h·w = P): per tap
/// (ki, kj), the lanes of each 16-value block of a flattened plane that read inside the
/// image (the tap's column in `valid_columns`, its row in `same_plane_rows`), into
/// masks[(ki·kw + kj)·blocks + block]: the column masks of each kj once, then each ki's
/// rows cut from them.
static void same_plane_tap_masks(long h, long w, long kernel_h, long kernel_w, long p, long blocks, __mmask16 *masks) {
    const long plane = h * w;
    for (long kj = 0; kj < kernel_w; kj++) {
        long lo, hi;
        valid_columns(p, kj, w, w, &lo, &hi);
        long j = 0;   // the column of value t (t mod width, counted: a division per lane cost 0.5% of training)
        for (long blk = 0; blk < blocks; blk++) {
            unsigned m = 0;
            for (long l = 0; l < 16; l++) {
                if (blk * 16 + l < plane && j >= lo && j < hi) m |= 1u << l;
                if (++j == w) j = 0;
            }
            masks[kj * blocks + blk] = (__mmask16)m;   // row ki = 0's slot, as scratch
        }
    }
    // Rows last to first, so row 0's slots are read before they are overwritten.
    for (long ki = kernel_h - 1; ki >= 0; ki--) {
        long tlo, thi;
        same_plane_rows(h, w, p, ki, &tlo, &thi);
        for (long kj = 0; kj < kernel_w; kj++)
            for (long blk = 0; blk < blocks; blk++)
                masks[(ki * kernel_w + kj) * blocks + blk] = masks[kj * blocks + blk] & lanes(blk * 16, tlo, thi);
    }
}

/// im2col of a "same" convolution (stride 1, output plane = input plane): tap (ki, kj)'s
/// row of an image is its input plane shifted by (ki − p)·w + kj − p, zero where the row
/// or the column falls outside, in 16-value blocks that cross row boundaries (one masked
/// step per output row of 8–32 values was 11% of cifar3 fp32 training, perf). The tap's
/// masks come from a table and only the plane's last partial block (if any) stores
/// masked: the masks computed per block (`lanes`) ran this at 10–13 GB/s, the table at
/// 21–29 GB/s (a C test on cifar3's three convolutions, one thread).
AVX512 static void im2col_same(const float *x, long n, long channels, long h, long w, long kh, long kw, long p,
                               const __mmask16 *masks, float *col) {
    const long plane = h * w, cols = n * plane, blocks = (plane + 15) / 16, full = plane / 16;
    const __mmask16 tail = lanes(full * 16, 0, plane);
    for (long c = 0; c < channels; c++)
        for (long b = 0; b < n; b++) {
            const float *src = x + (b * channels + c) * plane;
            for (long ki = 0; ki < kh; ki++)
                for (long kj = 0; kj < kw; kj++) {
                    const long row = (c * kh + ki) * kw + kj;
                    const float *s = src + (ki - p) * w + kj - p;
                    float *d = col + row * cols + b * plane;
                    const __mmask16 *tm = masks + (ki * kw + kj) * blocks;
                    long blk = 0;
                    for (; blk < full; blk++) _mm512_storeu_ps(d + blk * 16, _mm512_maskz_loadu_ps(tm[blk], s + blk * 16));
                    if (tail) _mm512_mask_storeu_ps(d + blk * 16, tail, _mm512_maskz_loadu_ps(tm[blk], s + blk * 16));
                }
        }
}

/// col2im of a "same" convolution, the adjoint of `im2col_same`: the same taps in the
/// same order, so each dx element takes its terms in the order of the row-by-row loop.
AVX512 static void col2im_same(const float *col, long n, long channels, long h, long w, long kh, long kw, long p,
                               const __mmask16 *masks, float *dx) {
    const long plane = h * w, cols = n * plane, blocks = (plane + 15) / 16;
    for (long c = 0; c < channels; c++)
        for (long b = 0; b < n; b++) {
            float *dst = dx + (b * channels + c) * plane;
            for (long ki = 0; ki < kh; ki++)
                for (long kj = 0; kj < kw; kj++) {
                    const long row = (c * kh + ki) * kw + kj;
                    const float *s = col + row * cols + b * plane;
                    float *d = dst + (ki - p) * w + kj - p;
                    const __mmask16 *tm = masks + (ki * kw + kj) * blocks;
                    for (long blk = 0; blk < blocks; blk++) {
                        const long t = blk * 16;
                        const __mmask16 live = tm[blk];
                        const __m512 a = _mm512_maskz_loadu_ps(live, d + t), v = _mm512_maskz_loadu_ps(live, s + t);
                        _mm512_mask_storeu_ps(d + t, live, _mm512_add_ps(a, v));
                    }
                }
        }
}

/// `im2col_same` or `col2im_same`.
typedef void (*same_plane_pass)(const float *, long, long, long, long, long, long, long, const __mmask16 *, float *);

/// Runs `pass` from `in` into `out` when the stride-1 convolution is "same" (output plane =
/// input plane) and its tap masks could be allocated; returns whether it ran.
static int run_same_plane(same_plane_pass pass, const float *in, size_t n, size_t channels, size_t height,
                          size_t width, size_t kernel_h, size_t kernel_w, size_t padding, float *out) {
    const long h = (long)height, w = (long)width, p = (long)padding;
    if (h + 2 * p - (long)kernel_h + 1 != h || w + 2 * p - (long)kernel_w + 1 != w) return 0;
    const long blocks = (h * w + 15) / 16, count = (long)(kernel_h * kernel_w) * blocks;
    // Up to 16 KiB of masks on the stack (a 3×3 kernel on planes to 85×85), else the heap.
    __mmask16 local[8192];
    __mmask16 *masks = count <= 8192 ? local : malloc((size_t)count * sizeof(__mmask16));
    if (!masks) return 0;
    same_plane_tap_masks(h, w, (long)kernel_h, (long)kernel_w, p, blocks, masks);
    pass(in, (long)n, (long)channels, h, w, (long)kernel_h, (long)kernel_w, p, masks, out);
    if (masks != local) free(masks);
    return 1;
}

AVX512 void ql_im2col_s1_avx512(const float *x, size_t n, size_t channels, size_t height, size_t width,
                                size_t kernel_h, size_t kernel_w, size_t padding, float *col) {
    const long oh = (long)height + 2 * (long)padding - (long)kernel_h + 1;
    const long ow = (long)width + 2 * (long)padding - (long)kernel_w + 1;
    const long plane = oh * ow, cols = (long)n * plane, hw = (long)(height * width), p = (long)padding;
    if (run_same_plane(im2col_same, x, n, channels, height, width, kernel_h, kernel_w, padding, col)) return;
    for (long c = 0; c < (long)channels; c++)
        for (long b = 0; b < (long)n; b++) {
            const float *src = x + (b * (long)channels + c) * hw;
            for (long ki = 0; ki < (long)kernel_h; ki++)
                for (long kj = 0; kj < (long)kernel_w; kj++) {
                    const long row = (c * (long)kernel_h + ki) * (long)kernel_w + kj;
                    float *d = col + row * cols + b * plane;
                    long lo, hi;
                    valid_columns(p, kj, (long)width, ow, &lo, &hi);
                    for (long i = 0; i < oh; i++) {
                        const long ih = i - p + ki;
                        float *drow = d + i * ow;
                        if (ih < 0 || ih >= (long)height) {
                            for (long j = 0; j < ow; j += 16)
                                _mm512_mask_storeu_ps(drow + j, lanes(j, 0, ow), _mm512_setzero_ps());
                            continue;
                        }
                        const float *srow = src + ih * (long)width - p + kj;   // srow[j]: column j's tap
                        for (long j = 0; j < ow; j += 16) {
                            __m512 v = _mm512_maskz_loadu_ps(lanes(j, lo, hi), srow + j);
                            _mm512_mask_storeu_ps(drow + j, lanes(j, 0, ow), v);
                        }
                    }
                }
        }
}

AVX512 void ql_col2im_s1_avx512(const float *col, size_t n, size_t channels, size_t height, size_t width,
                                size_t kernel_h, size_t kernel_w, size_t padding, float *dx) {
    const long oh = (long)height + 2 * (long)padding - (long)kernel_h + 1;
    const long ow = (long)width + 2 * (long)padding - (long)kernel_w + 1;
    const long plane = oh * ow, cols = (long)n * plane, hw = (long)(height * width), p = (long)padding;
    if (run_same_plane(col2im_same, col, n, channels, height, width, kernel_h, kernel_w, padding, dx)) return;
    for (long c = 0; c < (long)channels; c++)
        for (long b = 0; b < (long)n; b++) {
            float *dst = dx + (b * (long)channels + c) * hw;
            for (long ki = 0; ki < (long)kernel_h; ki++)
                for (long kj = 0; kj < (long)kernel_w; kj++) {
                    const long row = (c * (long)kernel_h + ki) * (long)kernel_w + kj;
                    const float *s = col + row * cols + b * plane;
                    long lo, hi;
                    valid_columns(p, kj, (long)width, ow, &lo, &hi);
                    if (hi <= lo) continue;
                    for (long i = 0; i < oh; i++) {
                        const long ih = i - p + ki;
                        if (ih < 0 || ih >= (long)height) continue;
                        float *drow = dst + ih * (long)width - p + kj;        // drow[j]: column j's tap
                        const float *srow = s + i * ow;
                        for (long j = lo - (lo % 16); j < hi; j += 16) {
                            __mmask16 m = lanes(j, lo, hi);
                            __m512 a = _mm512_maskz_loadu_ps(m, drow + j), v = _mm512_maskz_loadu_ps(m, srow + j);
                            _mm512_mask_storeu_ps(drow + j, m, _mm512_add_ps(a, v));
                        }
                    }
                }
        }
}

/// s[t] += Σ_j rows[t][j] (j < p) for eight rows, each sum in serial order: eight
/// independent chains instead of one add after another.
static inline void sum_rows8(const float *const *rows, size_t p, float *s) {
    float s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5], s6 = s[6], s7 = s[7];
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    const float *r4 = rows[4], *r5 = rows[5], *r6 = rows[6], *r7 = rows[7];
    for (size_t j = 0; j < p; j++) {
        s0 += r0[j]; s1 += r1[j]; s2 += r2[j]; s3 += r3[j];
        s4 += r4[j]; s5 += r5[j]; s6 += r6[j]; s7 += r7[j];
    }
    s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3; s[4] = s4; s[5] = s5; s[6] = s6; s[7] = s7;
}

/// s[t] += Σ_j rows[t][j] for kn ≤ 8 rows, each in serial order.
static inline void sum_rows(const float *const *rows, size_t kn, size_t p, float *s) {
    if (kn == 8) { sum_rows8(rows, p, s); return; }
    for (size_t t = 0; t < kn; t++)
        for (size_t j = 0; j < p; j++) s[t] += rows[t][j];
}

/// s[t] += Σ_j rows[t][j] (j < p, a multiple of 16) for sixteen rows, each sum in serial
/// order: 16 × 16 blocks transposed in registers (rows to lanes), then added column by
/// column, sixteen chains in one vector. The same additions as `sum_rows8`, per row in
/// the same order; the scalar chains took half of `ql_conv_unpool2_dy_avx512` (a C test
/// on cifar3's planes: conv1 14 of 21 µs per image).
AVX512 static inline void sum_rows16(const float *const *rows, size_t p, float *s) {
    __m512 acc = _mm512_loadu_ps(s);
    for (size_t j0 = 0; j0 < p; j0 += 16) {
        __m512i x[16], col[16];
        for (int i = 0; i < 16; i++) x[i] = _mm512_castps_si512(_mm512_loadu_ps(rows[i] + j0));
        transpose16x16_epi32(x, col);   // col[j] lane t = rows[t][j0 + j]
        for (int j = 0; j < 16; j++) acc = _mm512_add_ps(acc, _mm512_castsi512_ps(col[j]));
    }
    _mm512_storeu_ps(s, acc);
}

void ql_conv_gather_dy(const float *dy, size_t m, size_t filters, size_t p, float *kmajor, float *bias_grad) {
    const size_t np = m * p;
    for (size_t k0 = 0; k0 < filters; k0 += 8) {
        const size_t kn = filters - k0 < 8 ? filters - k0 : 8;
        float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t i = 0; i < m; i++) {
            const float *src[8];
            for (size_t t = 0; t < kn; t++) {
                src[t] = dy + (i * filters + k0 + t) * p;
                memcpy(kmajor + (k0 + t) * np + i * p, src[t], p * sizeof(float));
            }
            sum_rows(src, kn, p, s);
        }
        for (size_t t = 0; t < kn; t++) bias_grad[k0 + t] += s[t];
    }
}

void ql_conv_scatter_bias(const float *kmajor, size_t m, size_t filters, size_t p, const float *bias, float *y) {
    const size_t np = m * p;
    for (size_t k = 0; k < filters; k++) {
        const float b = bias ? bias[k] : 0.0f;
        for (size_t i = 0; i < m; i++) {
            const float *src = kmajor + k * np + i * p;
            float *dst = y + (i * filters + k) * p;
            for (size_t j = 0; j < p; j++) dst[j] = src[j] + b;
        }
    }
}

/// The running maximum of ql_conv_scatter_bias_max_avx512 and ql_conv_planes_max: the new
/// value when it is larger (NaN never is), else the old one (a tie keeps the old ±0).
static inline float running_max(float top, float v) { return v > top ? v : top; }
AVX512 static inline __m512 running_max16(__m512 top, __m512 v) {
    return _mm512_mask_mov_ps(top, _mm512_cmp_ps_mask(v, top, _CMP_GT_OQ), v);
}

/// *maximum = the running maximum of itself and a scatter's: its 16 lanes (no NaN) reduced
/// as _mm512_reduce_max_ps is here (clang 21: halves of 8, 4, 2, 1 lanes, vmaxps lower,
/// upper = lower > upper ? lower : upper: which ±0 a tie keeps is written out, and the
/// portable form the same), then the scalar tails' maximum `tail`.
static void finish_max(const float lanes[16], float tail, float *maximum) {
    float v[16];
    memcpy(v, lanes, sizeof v);
    for (size_t half = 8; half >= 1; half /= 2)
        for (size_t l = 0; l < half; l++) v[l] = v[l] > v[l + half] ? v[l] : v[l + half];
    tail = running_max(tail, v[0]);
    *maximum = running_max(*maximum, tail);
}

AVX512 void ql_conv_scatter_bias_max_avx512(const float *kmajor, size_t m, size_t filters, size_t p, const float *bias,
                                            float *y, float *maximum) {
    const size_t np = m * p;
    __m512 mv = _mm512_set1_ps(-__builtin_inff());
    float ms = -__builtin_inff();
    for (size_t k = 0; k < filters; k++) {
        const float b = bias ? bias[k] : 0.0f;
        const __m512 bv = _mm512_set1_ps(b);
        for (size_t i = 0; i < m; i++) {
            const float *src = kmajor + k * np + i * p;
            float *dst = y + (i * filters + k) * p;
            size_t j = 0;
            for (; j + 16 <= p; j += 16) {
                const __m512 r = _mm512_add_ps(_mm512_loadu_ps(src + j), bv);
                _mm512_storeu_ps(dst + j, r);
                mv = running_max16(mv, r);
            }
            for (; j < p; j++) {
                dst[j] = src[j] + b;
                ms = running_max(ms, dst[j]);
            }
        }
    }
    float lanes[16];
    _mm512_storeu_ps(lanes, mv);
    finish_max(lanes, ms, maximum);
}

void ql_conv_planes_max(const float *y, size_t m, size_t filters, size_t p, float *maximum) {
    const size_t vector_part = p / 16 * 16;
    float lanes[16], ms = -__builtin_inff();
    for (size_t l = 0; l < 16; l++) lanes[l] = -__builtin_inff();
    for (size_t k = 0; k < filters; k++)
        for (size_t i = 0; i < m; i++) {
            const float *plane = y + (i * filters + k) * p;
            for (size_t j = 0; j < vector_part; j++) lanes[j % 16] = running_max(lanes[j % 16], plane[j]);
            for (size_t j = vector_part; j < p; j++) ms = running_max(ms, plane[j]);
        }
    finish_max(lanes, ms, maximum);
}

/// relu(x + b) of 16 windows' corners a b / c d, given as two 16-value runs of their
/// top and bottom rows (t0 t1, b0 b1: the corners side by side, lanes first then
/// second), into their maxima and routes (dst, code: lanes `out`).
AVX512 static inline void relu_pool16(__m512 t0, __m512 t1, __m512 b0, __m512 b1, __m512 b, __mmask16 out,
                                      float *dst, uint8_t *code) {
    const __m512i even = EVEN_IDX, odd = ODD_IDX;
    const __m512 zero = _mm512_setzero_ps();
    t0 = _mm512_add_ps(t0, b); t1 = _mm512_add_ps(t1, b);
    b0 = _mm512_add_ps(b0, b); b1 = _mm512_add_ps(b1, b);
    // The ReLU's vector form: x < 0 ? 0 : x.
    t0 = _mm512_mask_mov_ps(t0, _mm512_cmp_ps_mask(t0, zero, _CMP_LT_OQ), zero);
    t1 = _mm512_mask_mov_ps(t1, _mm512_cmp_ps_mask(t1, zero, _CMP_LT_OQ), zero);
    b0 = _mm512_mask_mov_ps(b0, _mm512_cmp_ps_mask(b0, zero, _CMP_LT_OQ), zero);
    b1 = _mm512_mask_mov_ps(b1, _mm512_cmp_ps_mask(b1, zero, _CMP_LT_OQ), zero);
    __m512 a = _mm512_permutex2var_ps(t0, even, t1), bb = _mm512_permutex2var_ps(t0, odd, t1);
    __m512 c = _mm512_permutex2var_ps(b0, even, b1), d = _mm512_permutex2var_ps(b0, odd, b1);
    __m512 mx = swift_max16(swift_max16(a, bb), swift_max16(c, d));
    _mm512_mask_storeu_ps(dst, out, mx);
    // The route: the first corner equal to a positive maximum (later corners first, so the first wins).
    const __mmask16 live = _mm512_cmp_ps_mask(mx, zero, _CMP_GT_OQ);
    __m512i r = _mm512_set1_epi32(4);
    r = _mm512_mask_mov_epi32(r, live & _mm512_cmp_ps_mask(d, mx, _CMP_EQ_OQ), _mm512_set1_epi32(3));
    r = _mm512_mask_mov_epi32(r, live & _mm512_cmp_ps_mask(c, mx, _CMP_EQ_OQ), _mm512_set1_epi32(2));
    r = _mm512_mask_mov_epi32(r, live & _mm512_cmp_ps_mask(bb, mx, _CMP_EQ_OQ), _mm512_set1_epi32(1));
    r = _mm512_mask_mov_epi32(r, live & _mm512_cmp_ps_mask(a, mx, _CMP_EQ_OQ), _mm512_setzero_si512());
    _mm_mask_storeu_epi8(code, out, _mm512_cvtepi32_epi8(r));
}

/// One plane of `ql_conv_relu_pool2_avx512`. Rows of 16 values (ow = 8) run two pooled
/// rows per step, rows of 8 (ow = 4) four (the input rows gathered in 128-bit quarters),
/// so every lane is live: the row-by-row steps left half and three quarters idle on
/// cifar3's conv2 and conv3, whose pooling cost about as much as conv1's on 4× the values.
AVX512 static inline void relu_pool2_plane(const float *src, long h, long w, __m512 b, float *dst, uint8_t *code) {
    const long oh = h / 2, ow = w / 2;
    if (w == 16 && oh % 2 == 0) {
        for (long oi = 0; oi < oh; oi += 2) {
            const float *r = src + 2 * oi * w;
            relu_pool16(_mm512_loadu_ps(r), _mm512_loadu_ps(r + 2 * w), _mm512_loadu_ps(r + w), _mm512_loadu_ps(r + 3 * w),
                        b, 0xFFFF, dst + oi * ow, code + oi * ow);
        }
        return;
    }
    if (w == 8 && oh % 4 == 0) {
        for (long oi = 0; oi < oh; oi += 4) {
            const float *r = src + 2 * oi * w;   // eight rows: v_i = rows 2i, 2i + 1
            const __m512 v0 = _mm512_loadu_ps(r), v1 = _mm512_loadu_ps(r + 16);
            const __m512 v2 = _mm512_loadu_ps(r + 32), v3 = _mm512_loadu_ps(r + 48);
            relu_pool16(_mm512_shuffle_f32x4(v0, v1, 0x44), _mm512_shuffle_f32x4(v2, v3, 0x44),
                        _mm512_shuffle_f32x4(v0, v1, 0xEE), _mm512_shuffle_f32x4(v2, v3, 0xEE),
                        b, 0xFFFF, dst + oi * ow, code + oi * ow);
        }
        return;
    }
    for (long oi = 0; oi < oh; oi++) {
        const float *r0 = src + 2 * oi * w, *r1 = r0 + w;
        for (long j = 0; j < ow; j += 16) {
            // Inputs 2j..<2j+32 of both rows, as far as the row goes.
            const __mmask16 first = lanes(2 * j, 2 * j, 2 * ow), second = lanes(2 * j + 16, 2 * j, 2 * ow);
            relu_pool16(_mm512_maskz_loadu_ps(first, r0 + 2 * j), _mm512_maskz_loadu_ps(second, r0 + 2 * j + 16),
                        _mm512_maskz_loadu_ps(first, r1 + 2 * j), _mm512_maskz_loadu_ps(second, r1 + 2 * j + 16),
                        b, lanes(j, j, ow), dst + oi * ow + j, code + oi * ow + j);
        }
    }
}

AVX512 void ql_conv_relu_pool2_avx512(const float *kmajor, size_t m, size_t filters, size_t h, size_t w,
                                      const float *bias, float *pooled, uint8_t *codes) {
    const long p = (long)(h * w), np = (long)m * p, pp = (long)(h / 2) * (long)(w / 2);
    for (long k = 0; k < (long)filters; k++) {
        const __m512 b = _mm512_set1_ps(bias ? bias[k] : 0.0f);
        for (long i = 0; i < (long)m; i++)
            relu_pool2_plane(kmajor + k * np + i * p, (long)h, (long)w, b, pooled + (i * (long)filters + k) * pp,
                             codes + (i * (long)filters + k) * pp);
    }
}

/// 16 windows' gradients g routed by r (0–3: the corner a b / c d that takes it, 4: none)
/// as their corners' values, top and bottom rows interleaved: ab_lo ab_hi the top
/// corners of the windows' first and last eight, cd_lo cd_hi the bottom ones.
AVX512 static inline void route16(__m512 gv, __m512i r, __m512 *ab_lo, __m512 *ab_hi, __m512 *cd_lo, __m512 *cd_hi) {
    const __m512i lo = LO_IDX, hi = HI_IDX;
    const __m512 ga = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(r, _mm512_setzero_si512()), gv);
    const __m512 gb = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(r, _mm512_set1_epi32(1)), gv);
    const __m512 gc = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(r, _mm512_set1_epi32(2)), gv);
    const __m512 gd = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(r, _mm512_set1_epi32(3)), gv);
    *ab_lo = _mm512_permutex2var_ps(ga, lo, gb); *ab_hi = _mm512_permutex2var_ps(ga, hi, gb);
    *cd_lo = _mm512_permutex2var_ps(gc, lo, gd); *cd_hi = _mm512_permutex2var_ps(gc, hi, gd);
}

/// One plane's pooled gradient g [h/2·w/2] routed by `route` to its 2×2 blocks of dst
/// (row stride w): each gradient to its window's route, +0 to the other corners (and to
/// all four where the route is 4), as MaxPool's backward writes them. Rows of 16 and 8
/// values take two and four pooled rows per step, as `relu_pool2_plane`.
AVX512 static inline void unpool2_plane(const float *g, const uint8_t *route, long h, long w, float *dst) {
    const long oh = h / 2, ow = w / 2;
    __m512 ab_lo, ab_hi, cd_lo, cd_hi;
    if (w == 16 && oh % 2 == 0) {
        for (long oi = 0; oi < oh; oi += 2) {
            route16(_mm512_loadu_ps(g + oi * ow), _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(route + oi * ow))),
                    &ab_lo, &ab_hi, &cd_lo, &cd_hi);
            float *d = dst + 2 * oi * w;
            _mm512_storeu_ps(d, ab_lo); _mm512_storeu_ps(d + w, cd_lo);
            _mm512_storeu_ps(d + 2 * w, ab_hi); _mm512_storeu_ps(d + 3 * w, cd_hi);
        }
        return;
    }
    if (w == 8 && oh % 4 == 0) {
        for (long oi = 0; oi < oh; oi += 4) {
            route16(_mm512_loadu_ps(g + oi * ow), _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(route + oi * ow))),
                    &ab_lo, &ab_hi, &cd_lo, &cd_hi);
            // ab_lo = top rows 0 and 1 of the four windows' rows (8 values each), …
            float *d = dst + 2 * oi * w;
            _mm512_storeu_ps(d, _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x44));
            _mm512_storeu_ps(d + 16, _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xEE));
            _mm512_storeu_ps(d + 32, _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x44));
            _mm512_storeu_ps(d + 48, _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xEE));
        }
        return;
    }
    for (long oi = 0; oi < oh; oi++) {
        float *d0 = dst + 2 * oi * w, *d1 = d0 + w;
        for (long j = 0; j < ow; j += 16) {
            const __mmask16 first = lanes(2 * j, 2 * j, 2 * ow), second = lanes(2 * j + 16, 2 * j, 2 * ow);
            const __mmask16 out = lanes(j, j, ow);
            route16(_mm512_maskz_loadu_ps(out, g + oi * ow + j), _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(out, route + oi * ow + j)),
                    &ab_lo, &ab_hi, &cd_lo, &cd_hi);
            _mm512_mask_storeu_ps(d0 + 2 * j, first, ab_lo);
            _mm512_mask_storeu_ps(d0 + 2 * j + 16, second, ab_hi);
            _mm512_mask_storeu_ps(d1 + 2 * j, first, cd_lo);
            _mm512_mask_storeu_ps(d1 + 2 * j + 16, second, cd_hi);
        }
    }
}

AVX512 void ql_conv_unpool2_dy_avx512(const float *dy, const uint8_t *codes, size_t m, size_t filters, size_t h,
                                      size_t w, float *kmajor, float *bias_grad) {
    const long p = (long)(h * w), np = (long)m * p, pp = (long)(h / 2) * (long)(w / 2);
    for (size_t k0 = 0; k0 < filters; k0 += 16) {
        const size_t kn = filters - k0 < 16 ? filters - k0 : 16;
        float s[16] = {0};
        for (long i = 0; i < (long)m; i++) {
            const float *rows[16];
            for (size_t t = 0; t < kn; t++) {
                const long k = (long)(k0 + t);
                float *dst = kmajor + k * np + i * p;
                rows[t] = dst;
                unpool2_plane(dy + (i * (long)filters + k) * pp, codes + (i * (long)filters + k) * pp, (long)h, (long)w, dst);
            }
            if (kn == 16 && p % 16 == 0) {
                sum_rows16(rows, (size_t)p, s);
            } else {
                sum_rows(rows, kn < 8 ? kn : 8, (size_t)p, s);
                if (kn > 8) sum_rows(rows + 8, kn - 8, (size_t)p, s + 8);
            }
        }
        for (size_t t = 0; t < kn; t++) bias_grad[k0 + t] += s[t];
    }
}

AVX512 void ql_unpool2_avx512(const float *dy, const uint8_t *routes, size_t planes, size_t h, size_t w, float *dx) {
    const long pp = (long)(h / 2) * (long)(w / 2);
    for (size_t p = 0; p < planes; p++) unpool2_plane(dy + (long)p * pp, routes + (long)p * pp, (long)h, (long)w, dx + p * h * w);
}

/// One tap row of an im2row row: `before` pad bytes, `inside` bytes copied from src, `after` pad bytes.
typedef void (*tap_run)(uint8_t *dst, const uint8_t *src, long before, long inside, long after, uint8_t pad);

static void tap_run_portable(uint8_t *dst, const uint8_t *src, long before, long inside, long after, uint8_t pad) {
    memset(dst, pad, (size_t)before);
    if (inside > 0) memcpy(dst + before, src, (size_t)inside);
    memset(dst + before + inside, pad, (size_t)after);
}

/// Bytes 0..<len (len > 0) of a 64-byte step.
static inline __mmask64 byte_lanes(long len) { return len >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << len) - 1); }

AVX512 static inline void fill_bytes_avx512(uint8_t *dst, long count, __m512i v) {
    for (long t = 0; t < count; t += 64) _mm512_mask_storeu_epi8(dst + t, byte_lanes(count - t), v);
}

/// The same bytes as `tap_run_portable`, in masked 64-byte steps: a run is 3·C bytes
/// (96 for cifar3's conv2), which memcpy and memset calls per run moved at a fraction of this.
AVX512 static void tap_run_avx512(uint8_t *dst, const uint8_t *src, long before, long inside, long after, uint8_t pad) {
    const __m512i pv = _mm512_set1_epi8((char)pad);
    if (before > 0) fill_bytes_avx512(dst, before, pv);
    uint8_t *d = dst + before;
    if (inside >= 32) {
        // Whole 32-byte steps, then the last 32 bytes of the run (overlapping the step before).
        long t = 0;
        for (; t + 32 <= inside; t += 32)
            _mm256_storeu_si256((__m256i *)(d + t), _mm256_loadu_si256((const __m256i *)(src + t)));
        if (t < inside)
            _mm256_storeu_si256((__m256i *)(d + inside - 32), _mm256_loadu_si256((const __m256i *)(src + inside - 32)));
    } else if (inside > 0) {
        const __mmask64 m = byte_lanes(inside);
        _mm512_mask_storeu_epi8(d, m, _mm512_maskz_loadu_epi8(m, src));
    }
    if (after > 0) fill_bytes_avx512(dst + before + inside, after, pv);
}

/// im2row's loop (Tensors/IntegerCodes.swift `im2row`): per output position and tap row
/// ki, the in-image taps kj ∈ [lo, hi) are one run of (hi − lo)·C source bytes (NHWC).
static inline __attribute__((always_inline)) void im2row_u8_rows(tap_run run, const uint8_t *x, size_t n, size_t channels,
        size_t height, size_t width, size_t kernel_h, size_t kernel_w, size_t stride, size_t padding, uint8_t pad,
        uint8_t *rows) {
    const long h = (long)height, w = (long)width, c = (long)channels, kh = (long)kernel_h, kw = (long)kernel_w;
    const long s = (long)stride, p = (long)padding;
    const long oh = (h + 2 * p - kh) / s + 1, ow = (w + 2 * p - kw) / s + 1;
    const long r = kh * kw * c, row_stride = w * c;
    for (long b = 0; b < (long)n; b++) {
        const uint8_t *image = x + b * h * row_stride;
        for (long i = 0; i < oh; i++)
            for (long j = 0; j < ow; j++) {
                uint8_t *dst = rows + ((b * oh + i) * ow + j) * r;
                const long w0 = j * s - p;
                const long lo = w0 < 0 ? -w0 : 0, hi = w - w0 < kw ? w - w0 : kw;
                for (long ki = 0; ki < kh; ki++, dst += kw * c) {
                    const long ih = i * s - p + ki;
                    if (ih < 0 || ih >= h || hi <= lo) { run(dst, image, kw * c, 0, 0, pad); continue; }
                    run(dst, image + ih * row_stride + (w0 + lo) * c, lo * c, (hi - lo) * c, (kw - hi) * c, pad);
                }
            }
    }
}

void ql_im2row_u8(const uint8_t *x, size_t n, size_t channels, size_t height, size_t width, size_t kernel_h,
                  size_t kernel_w, size_t stride, size_t padding, uint8_t pad, uint8_t *rows) {
    im2row_u8_rows(tap_run_portable, x, n, channels, height, width, kernel_h, kernel_w, stride, padding, pad, rows);
}

AVX512 void ql_im2row_u8_avx512(const uint8_t *x, size_t n, size_t channels, size_t height, size_t width,
                                size_t kernel_h, size_t kernel_w, size_t stride, size_t padding, uint8_t pad,
                                uint8_t *rows) {
    im2row_u8_rows(tap_run_avx512, x, n, channels, height, width, kernel_h, kernel_w, stride, padding, pad, rows);
}
