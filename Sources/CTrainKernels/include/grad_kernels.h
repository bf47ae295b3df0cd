// AVX-512 kernels of the `g8` / `gbf16` backward passes (grad_kernels.c). Each
// computes exactly what its portable Swift definition computes (same integer
// results, and the same float operations in the same order with no FMA
// contraction), so results are bit-identical whichever runs; callers choose by
// cpuid (avx512f + avx512bw + avx512vl), as for kernels.c.
#ifndef QUANTLAB_GRAD_KERNELS_H
#define QUANTLAB_GRAD_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// dst[i] = the i-th next draw of SplitMix64 from *state (i < count); *state advances
/// by count steps. Eight streams positions at a time (64-bit multiplies through
/// 32-bit ones, exact).
void ql_splitmix64_fill_avx512(uint64_t *state, uint64_t *dst, size_t count);

/// g8 stochastic rounding of m images of an NCHW gradient g [m, K, P], written NHWC
/// (channel fastest): codes[(i·P + j)·K + k] = code of g[e], e = (i·K + k)·P + j, with
/// code = clamp(⌊g·inverse + u⌋, −127, 127) (NaN → 0), u = word e / 2¹⁶ (the arithmetic
/// of ql_stochastic_codes_avx512), word e = bits 16·(e mod 4) … of SplitMix64 draw ⌊e/4⌋
/// after `state` (the words of a buffer filled by ql_splitmix64_fill_avx512, here
/// computed where they are used: the buffer was a write and a read of 2 bytes a value);
/// sums (may be NULL) accumulates the codes of each channel k (+=).
/// Eight draws serve two blocks of 16 values (4 per block, where a block's own 5 took
/// a vector of 8). The _avx512dq form multiplies with vpmullq (CPUs with avx512dq),
/// the same results.
void ql_grad_codes_nhwc_avx512(const float *g, size_t m, size_t channels, size_t plane,
                               float inverse, uint64_t state, int8_t *codes, int32_t *sums);
void ql_grad_codes_nhwc_avx512dq(const float *g, size_t m, size_t channels, size_t plane,
                                 float inverse, uint64_t state, int8_t *codes, int32_t *sums);

/// ql_grad_codes_nhwc_avx512 of the full gradient [m, K, height, width] that a 2×2
/// stride-2 max pooling's backward would write (height, width even): the pooled
/// gradient g [m, K, height/2, width/2] at the corner routes[·] (0 … 3: row-major in
/// the window) names, +0 at the other corners and at all four where the route is 4 —
/// without writing it. A zero's code is 0 (⌊±0·inverse + u⌋ = 0), so only the routed
/// values draw: one draw each, at the element's own stream position (word e mod 4 of
/// draw ⌊e/4⌋, e its NCHW index in the full gradient), the same codes and sums.
/// 16 channels × 64 windows at a time, transposed in registers: four 16-byte stores
/// per window (one per corner), every code of the full NHWC tensor written.
void ql_grad_codes_pool2_nhwc_avx512(const float *g, const uint8_t *routes, size_t m, size_t channels,
                                     size_t height, size_t width, float inverse, uint64_t state,
                                     int8_t *codes, int32_t *sums);
void ql_grad_codes_pool2_nhwc_avx512dq(const float *g, const uint8_t *routes, size_t m, size_t channels,
                                       size_t height, size_t width, float inverse, uint64_t state,
                                       int8_t *codes, int32_t *sums);

/// max |g[i]| over i < n, NaN skipped (0 for n = 0 or all NaN): Kernels.absMax.
float ql_abs_max_avx512(const float *g, size_t n);

/// max |g[i]| over i < n with routes[i] < 4, NaN skipped (0 if none): ql_abs_max_avx512
/// of the full gradient a 2×2 pooling's routes spread g to (its other values are +0).
float ql_routed_abs_max_avx512(const float *g, const uint8_t *routes, size_t n);

/// codes[i] = q[i] / scale rounded to nearest even, when every q[i] = scale · code with
/// |code| ≤ 127 (returns 1); else returns 0, codes unspecified (LowPrecisionScratch.loadWeightCodes).
int ql_scaled_codes_avx512(const float *q, size_t n, float scale, int8_t *codes);

/// values[i] = (float)codes[i] · scale, i < n.
void ql_codes_to_values_avx512(const int8_t *codes, size_t n, float scale, float *values);

/// The rows of a stride-1 convolution over NHWC s8 codes [n, height, width, channels],
/// each code as the u8 code + 128 (code ^ 0x80), 128 (code 0) outside the image:
/// rows[(b, i, j), (ki, kj, c)], i < height + 2·padding − kernel + 1 (likewise j).
/// The left operand of the transposed convolution that gives a g8 input gradient.
void ql_im2row_offset_u8(const int8_t *codes, size_t n, size_t channels, size_t height, size_t width,
                       size_t kernel, size_t padding, uint8_t *rows);
/// The same rows, each tap row's in-image taps one run of consecutive bytes (64-byte
/// loads, xor 0x80), the border taps 0x80.
void ql_im2row_offset_u8_avx512(const int8_t *codes, size_t n, size_t channels, size_t height, size_t width,
                                size_t kernel, size_t padding, uint8_t *rows);

/// The u8 column matrix of a convolution over NHWC u8 activation codes [n, height,
/// width, channels], in im2col order: cols[(c·KH + ki)·KW + kj][b·OH·OW + i·OW + j] =
/// codes[b, i·stride − padding + ki, j·stride − padding + kj, c], 0 outside the image,
/// OH = (height + 2·padding − KH) / stride + 1 (likewise OW). The left operand of the
/// g8 weight gradient (rows × positions, positions the GEMM's inner dimension, so the
/// int8 matmul takes it as stored): 16 × 16 byte blocks, four at a time, transposed
/// in registers.
void ql_im2col_codes_u8_avx512(const uint8_t *codes, size_t n, size_t channels, size_t height, size_t width,
                        size_t kernel_h, size_t kernel_w, size_t stride, size_t padding, uint8_t *cols);

/// im2col (stride 1, the layout of ql_im2col_s1_avx512) straight into bf16 bits,
/// rounded to nearest even, NaN kept a quiet NaN (BFloat16.bits).
void ql_im2col_s1_bf16_avx512(const float *x, size_t n, size_t channels, size_t height, size_t width,
                              size_t kernel_h, size_t kernel_w, size_t padding, uint16_t *col);

/// The integer epilogue of a backward GEMM whose result is the transpose of the
/// layout wanted: dst[c·ld + r] = (float)(src[r·cols + c] − offset[c]) · scale
/// (offset NULL: 0), added to dst[c·ld + r] when accumulate ≠ 0 (product, then sum:
/// the Swift definition's order), for r < rows, c < cols.
void ql_s32_transpose_scale_avx512(const int32_t *src, size_t rows, size_t cols, const int32_t *offset,
                                   float scale, int accumulate, float *dst, size_t ld);

/// dst[r·cols + c] = (float)(src[r·cols + c] + row_offset[r]) · scale (row_offset NULL:
/// 0), added to dst[r·cols + c] when accumulate ≠ 0 (product, then sum).
void ql_s32_rows_scale_avx512(const int32_t *src, size_t rows, size_t cols, const int32_t *row_offset,
                              float scale, int accumulate, float *dst);

/// dst[i] = (float)src[i] · scale, i < n.
void ql_s32_scale_avx512(const int32_t *src, size_t n, float scale, float *dst);

#endif
