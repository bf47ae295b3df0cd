#include "CTrainKernels.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

// The direct weight gradient of a stride-1 'same' convolution over a few float input
// channels (a network's first layer): no columns, the image and dY read once per pass.
// Every sum below is written out: no contraction beyond the fmaf / FMA calls.
#pragma clang fp contract(off)

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

/// The most (channel, tap) sums a vector pass keeps in registers (one zmm each).
#define QL_DW_MAX_SUMS 27

/// Image i's channels, zero-padded by (k − 1)/2 on every side: pad [C, H + k − 1, W + k − 1].
static void pad_image(const float *x, size_t channels, size_t h, size_t w, size_t k, float *pad) {
    const size_t half = (k - 1) / 2, hp = h + k - 1, wp = w + k - 1;
    memset(pad, 0, channels * hp * wp * sizeof(float));
    for (size_t c = 0; c < channels; c++)
        for (size_t i = 0; i < h; i++)
            memcpy(pad + (c * hp + i + half) * wp + half, x + (c * h + i) * w, w * sizeof(float));
}

int ql_conv_dw_direct_covers(size_t channels, size_t k) {
    return (k == 3 || k == 5) && channels >= 1 && channels <= 4;
}

void ql_conv_dw_direct(const float *x, const float *dy, size_t m, size_t channels, size_t h, size_t w,
                       size_t k, size_t filters, float *pad, float *dw) {
    if (!ql_conv_dw_direct_covers(channels, k)) return;
    const size_t hp = h + k - 1, wp = w + k - 1, taps = k * k, r = channels * taps, p = h * w;
    for (size_t img = 0; img < m; img++) {
        pad_image(x + img * channels * p, channels, h, w, k, pad);
        const float *g = dy + img * p * filters;
        for (size_t f = 0; f < filters; f++)
            for (size_t t = 0; t < r; t++) {
                const size_t c = t / taps, ki = t % taps / k, kj = t % k;
                float image_sum = 0.0f;
                for (size_t i = 0; i < h; i++) {
                    const float *xrow = pad + (c * hp + i + ki) * wp + kj;
                    const float *grow = g + i * w * filters + f;
                    float row_sum = 0.0f;
                    for (size_t j = 0; j < w; j++) row_sum = fmaf(grow[j * filters], xrow[j], row_sum);
                    image_sum += row_sum;
                }
                dw[f * r + t] += image_sum;
            }
    }
}

/// One vector pass over an image: filters f0 ..< f0 + 16 (lanes beyond `mask` unused),
/// channels c0 ..< c0 + nc, kernel k, with its sums in `sums` (nc·k² ≤ QL_DW_MAX_SUMS
/// registers once inlined with constant nc and k); then dw[f][(c0·k² + t)] += sums.
AVX512 static inline __attribute__((always_inline))
void dw_pass(const float *pad, const float *g, size_t h, size_t w, size_t filters, size_t f0, __mmask16 mask,
             size_t c0, const size_t nc, const size_t k, size_t r, float *dw) {
    const size_t hp = h + k - 1, wp = w + k - 1, n = nc * k * k;
    float image_sums[QL_DW_MAX_SUMS * 16];
    memset(image_sums, 0, sizeof image_sums);
    for (size_t i = 0; i < h; i++) {
        __m512 acc[QL_DW_MAX_SUMS];
#pragma clang loop unroll(full)
        for (size_t t = 0; t < n; t++) acc[t] = _mm512_setzero_ps();
        const float *grow = g + i * w * filters + f0;
        for (size_t j = 0; j < w; j++) {
            const __m512 gv = _mm512_maskz_loadu_ps(mask, grow + j * filters);
            const float *x0 = pad + (c0 * hp + i) * wp + j;
#pragma clang loop unroll(full)
            for (size_t t = 0; t < n; t++) {
                const size_t c = t / (k * k), ki = t % (k * k) / k, kj = t % k;
                acc[t] = _mm512_fmadd_ps(gv, _mm512_set1_ps(x0[(c * hp + ki) * wp + kj]), acc[t]);
            }
        }
#pragma clang loop unroll(full)
        for (size_t t = 0; t < n; t++)
            _mm512_storeu_ps(image_sums + t * 16, _mm512_add_ps(_mm512_loadu_ps(image_sums + t * 16), acc[t]));
    }
    for (size_t lane = 0; lane < 16; lane++) {
        if (!(mask >> lane & 1)) break;
        float *row = dw + (f0 + lane) * r + c0 * k * k;
        for (size_t t = 0; t < n; t++) row[t] += image_sums[t * 16 + lane];
    }
}

AVX512 void ql_conv_dw_direct_avx512(const float *x, const float *dy, size_t m, size_t channels, size_t h, size_t w,
                                     size_t k, size_t filters, float *pad, float *dw) {
    if (!ql_conv_dw_direct_covers(channels, k)) return;
    // Channels per pass: 3 × 9 or 1 × 25 sums (QL_DW_MAX_SUMS registers).
    const size_t p = h * w, r = channels * k * k, per_pass = k == 3 ? 3 : 1;
    for (size_t img = 0; img < m; img++) {
        pad_image(x + img * channels * p, channels, h, w, k, pad);
        const float *g = dy + img * p * filters;
        for (size_t f0 = 0; f0 < filters; f0 += 16) {
            const size_t fn = filters - f0 < 16 ? filters - f0 : 16;
            const __mmask16 mask = (__mmask16)((1u << fn) - 1);
            for (size_t c0 = 0; c0 < channels; c0 += per_pass) {
                const size_t nc = channels - c0 < per_pass ? channels - c0 : per_pass;
                // Constant (nc, k) bodies: the sums live in registers.
                if (k == 3 && nc == 3) dw_pass(pad, g, h, w, filters, f0, mask, c0, 3, 3, r, dw);
                else if (k == 3 && nc == 2) dw_pass(pad, g, h, w, filters, f0, mask, c0, 2, 3, r, dw);
                else if (k == 3) dw_pass(pad, g, h, w, filters, f0, mask, c0, 1, 3, r, dw);
                else dw_pass(pad, g, h, w, filters, f0, mask, c0, 1, 5, r, dw);
            }
        }
    }
}

/// The portable forward's loops: filter f, image img's output at out[f·fstride + img·istride ..]
/// (P values); with `biased`, each the chain + (bias ? bias[f] : +0), one float add.
static void direct_forward(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                           const float *weights, size_t filters, const float *bias, int biased, float *pad,
                           float *out, size_t fstride, size_t istride) {
    const size_t hp = h + k - 1, wp = w + k - 1, taps = k * k, r = channels * taps, p = h * w;
    for (size_t img = 0; img < m; img++) {
        pad_image(x + img * channels * p, channels, h, w, k, pad);
        for (size_t f = 0; f < filters; f++) {
            const float b = bias ? bias[f] : 0.0f;
            for (size_t i = 0; i < h; i++)
                for (size_t j = 0; j < w; j++) {
                    float acc = 0.0f;
                    for (size_t t = 0; t < r; t++) {
                        const size_t c = t / taps, ki = t % taps / k, kj = t % k;
                        acc = fmaf(weights[f * r + t], pad[(c * hp + i + ki) * wp + j + kj], acc);
                    }
                    out[f * fstride + img * istride + i * w + j] = biased ? acc + b : acc;
                }
        }
    }
}

void ql_conv_direct_forward(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                             const float *weights, size_t filters, float *pad, float *kmajor) {
    if (!ql_conv_dw_direct_covers(channels, k)) return;
    const size_t p = h * w;
    direct_forward(x, m, channels, h, w, k, weights, filters, NULL, 0, pad, kmajor, m * p, p);
}

void ql_conv_direct_forward_bias(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                                 const float *weights, size_t filters, const float *bias, float *pad, float *y,
                                 float *maximum) {
    if (!ql_conv_dw_direct_covers(channels, k)) return;
    const size_t p = h * w;
    direct_forward(x, m, channels, h, w, k, weights, filters, bias, 1, pad, y, p, filters * p);
    if (maximum) ql_conv_planes_max(y, m, filters, p, maximum);
}

/// What a vector forward pass does with its sums: store them (the K-major layout), add the
/// bias, or add the bias and take the running maximum.
enum forward_epilogue { STORE, ADD_BIAS, ADD_BIAS_MAX };

/// Filters f0 ..< f0 + nf (nf constant once inlined: that many sums in registers) of one
/// image, 16 pixels of a row at a time (masked at the row's end), filter f's output plane
/// at out + f·fstride; with ADD_BIAS_MAX, *top (lanes) = the largest output, NaN ignored.
AVX512 static inline __attribute__((always_inline))
void forward_pass(const float *pad, size_t h, size_t w, size_t k, size_t r, const size_t *offset, const float *weights,
                  size_t f0, const size_t nf, const float *bias, const enum forward_epilogue epilogue,
                  float *out, size_t fstride, __m512 *top) {
    const size_t wp = w + k - 1;
    __m512 b[8], tops[8];   // tops: a running maximum per filter (no chain through one register)
#pragma clang loop unroll(full)
    for (size_t q = 0; q < nf; q++) {
        b[q] = _mm512_set1_ps(bias ? bias[f0 + q] : 0.0f);
        tops[q] = epilogue == ADD_BIAS_MAX ? *top : _mm512_setzero_ps();
    }
    for (size_t i = 0; i < h; i++)
        for (size_t j0 = 0; j0 < w; j0 += 16) {
            const __mmask16 mask = (__mmask16)(w - j0 >= 16 ? 0xFFFF : (1u << (w - j0)) - 1);
            __m512 acc[8];
#pragma clang loop unroll(full)
            for (size_t q = 0; q < nf; q++) acc[q] = _mm512_setzero_ps();
            const float *x0 = pad + i * wp + j0;
            for (size_t t = 0; t < r; t++) {
                const __m512 xv = _mm512_maskz_loadu_ps(mask, x0 + offset[t]);
#pragma clang loop unroll(full)
                for (size_t q = 0; q < nf; q++)
                    acc[q] = _mm512_fmadd_ps(_mm512_set1_ps(weights[(f0 + q) * r + t]), xv, acc[q]);
            }
#pragma clang loop unroll(full)
            for (size_t q = 0; q < nf; q++) {
                const __m512 v = epilogue == STORE ? acc[q] : _mm512_add_ps(acc[q], b[q]);
                _mm512_mask_storeu_ps(out + (f0 + q) * fstride + i * w + j0, mask, v);
                // vmaxps(v, top): top when v is NaN (or a tie: the sign of a 0 is settled later).
                if (epilogue == ADD_BIAS_MAX) tops[q] = _mm512_mask_max_ps(tops[q], mask, v, tops[q]);
            }
        }
    if (epilogue == ADD_BIAS_MAX)
#pragma clang loop unroll(full)
        for (size_t q = 0; q < nf; q++) *top = _mm512_max_ps(tops[q], *top);
}

/// The vector forward of m images: image img's filter f at out + img·istride + f·fstride.
AVX512 static inline __attribute__((always_inline))
void direct_forward_avx512(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                           const float *weights, size_t filters, const float *bias, const enum forward_epilogue epilogue,
                           float *pad, float *out, size_t fstride, size_t istride, __m512 *top) {
    const size_t r = channels * k * k, p = h * w, hp = h + k - 1, wp = w + k - 1;
    size_t offset[4 * 25];   // tap t = (c, ki, kj) → its place in the padded image
    for (size_t t = 0; t < r; t++) offset[t] = (t / (k * k) * hp + t % (k * k) / k) * wp + t % k;
    for (size_t img = 0; img < m; img++) {
        pad_image(x + img * channels * p, channels, h, w, k, pad);
        float *o = out + img * istride;
        size_t f0 = 0;
        for (; f0 + 8 <= filters; f0 += 8) forward_pass(pad, h, w, k, r, offset, weights, f0, 8, bias, epilogue, o, fstride, top);
        for (; f0 + 4 <= filters; f0 += 4) forward_pass(pad, h, w, k, r, offset, weights, f0, 4, bias, epilogue, o, fstride, top);
        for (; f0 < filters; f0++) forward_pass(pad, h, w, k, r, offset, weights, f0, 1, bias, epilogue, o, fstride, top);
    }
}

AVX512 void ql_conv_direct_forward_avx512(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                                          const float *weights, size_t filters, float *pad, float *kmajor) {
    if (!ql_conv_dw_direct_covers(channels, k)) return;
    const size_t p = h * w;
    direct_forward_avx512(x, m, channels, h, w, k, weights, filters, NULL, STORE, pad, kmajor, m * p, p, NULL);
}

AVX512 void ql_conv_direct_forward_bias_avx512(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                                               const float *weights, size_t filters, const float *bias, float *pad,
                                               float *y, float *maximum) {
    if (!ql_conv_dw_direct_covers(channels, k)) return;
    const size_t p = h * w;
    if (!maximum) {
        direct_forward_avx512(x, m, channels, h, w, k, weights, filters, bias, ADD_BIAS, pad, y, p, filters * p, NULL);
        return;
    }
    __m512 top = _mm512_set1_ps(-__builtin_inff());
    direct_forward_avx512(x, m, channels, h, w, k, weights, filters, bias, ADD_BIAS_MAX, pad, y, p, filters * p, &top);
    // Any order gives the same largest value, NaN ignored, unless it is ±0: then the
    // scatter's order decides the sign (ql_conv_planes_max reads y again, rarely).
    const float v = _mm512_reduce_max_ps(top);   // lanes hold no NaN
    if (v == 0.0f) ql_conv_planes_max(y, m, filters, p, maximum);
    else *maximum = v > *maximum ? v : *maximum;
}

void ql_transpose_f32(const float *src, size_t rows, size_t cols, size_t ld, float *dst) {
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) dst[j * rows + i] = src[i * ld + j];
}

/// 4 × 16 block: rows s[i·ls ..] (i < 4) → 16 destination rows of 4, d[(4L + c)·ld ..].
/// Four source rows at a time: rows of an image's K-major dY lie a multiple of 4 KiB
/// apart (one L1 set), and 16 at once (a 16 × 16 register transpose) ran 2–4× slower.
AVX512 static void transpose4x16(const float *s, size_t ls, float *d, size_t ld) {
    const __m512 r0 = _mm512_loadu_ps(s), r1 = _mm512_loadu_ps(s + ls);
    const __m512 r2 = _mm512_loadu_ps(s + 2 * ls), r3 = _mm512_loadu_ps(s + 3 * ls);
    const __m512 t0 = _mm512_unpacklo_ps(r0, r1), t1 = _mm512_unpackhi_ps(r0, r1);
    const __m512 t2 = _mm512_unpacklo_ps(r2, r3), t3 = _mm512_unpackhi_ps(r2, r3);
    // u[c], 128-bit lane L: column 4L + c of the four rows.
    const __m512 u[4] = {_mm512_shuffle_ps(t0, t2, 0x44), _mm512_shuffle_ps(t0, t2, 0xEE),
                         _mm512_shuffle_ps(t1, t3, 0x44), _mm512_shuffle_ps(t1, t3, 0xEE)};
    for (int c = 0; c < 4; c++) {
        _mm_storeu_ps(d + c * ld, _mm512_extractf32x4_ps(u[c], 0));
        _mm_storeu_ps(d + (4 + c) * ld, _mm512_extractf32x4_ps(u[c], 1));
        _mm_storeu_ps(d + (8 + c) * ld, _mm512_extractf32x4_ps(u[c], 2));
        _mm_storeu_ps(d + (12 + c) * ld, _mm512_extractf32x4_ps(u[c], 3));
    }
}

AVX512 void ql_transpose_f32_avx512(const float *src, size_t rows, size_t cols, size_t ld, float *dst) {
    const size_t rb = rows / 4 * 4, cb = cols / 16 * 16;
    for (size_t j = 0; j < cb; j += 16)
        for (size_t i = 0; i < rb; i += 4) transpose4x16(src + i * ld + j, ld, dst + j * rows + i, rows);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = i < rb ? cb : 0; j < cols; j++) dst[j * rows + i] = src[i * ld + j];
}
