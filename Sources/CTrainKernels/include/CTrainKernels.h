// AVX-512 forms of quantlab's elementwise training kernels (ReLU and its masks,
// 2×2 max pooling, stochastic gradient rounding). Each computes exactly what the
// portable Swift loop beside its caller computes (selections, and the same float
// operations in the same order with no FMA contraction), so results are
// bit-identical whichever runs; callers choose by cpuid (avx512f + avx512bw + avx512vl).
#ifndef QUANTLAB_CTRAINKERNELS_H
#define QUANTLAB_CTRAINKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// y[i] = 0 ≥ x[i] ? 0 : x[i] in the tail, x < 0 ? 0 : x in full vectors (Swift's loop).
void ql_relu_avx512(const float *x, float *y, size_t n);
/// dx[i] = y[i] > 0 ? dy[i] : 0.
void ql_mask_positive_avx512(const float *y, const float *dy, float *dx, size_t n);
/// dx[i] = lo ≤ x[i] ≤ hi ? dy[i] : 0.
void ql_mask_in_range_avx512(const float *x, const float *dy, float *dx, size_t n, float lo, float hi);

/// 2×2 max pooling, stride 2, of `planes` planes h×w into oh×ow (oh = h/2, ow = w/2):
/// y = max(max(a, b), max(c, d)) with max(p, q) = q ≥ p ? q : p (Swift.max).
void ql_maxpool2_forward_avx512(const float *x, float *y, size_t planes, size_t h, size_t w);
/// Its backward: each dy goes to the first of a, b, c, d (row-major) equal to y, the
/// other three get 0. Writes every dx inside the 2·oh × 2·ow blocks. With
/// `positive_only`, windows with y > 0 false pass nothing (0 everywhere): the mask of a
/// ReLU below the pooling, whose output x is (see MaxPool.masksReLU).
void ql_maxpool2_backward_avx512(const float *x, const float *y, const float *dy, float *dx,
                                 size_t planes, size_t h, size_t w, int positive_only);

/// codes[i] = clamp(⌊g[i]·inverse + u_i⌋, −127, 127) (NaN → 0), values[i] = scale·codes[i],
/// u_i = (16-bit word i of `draws`)/2¹⁶: `draws` holds 2·⌈n/8⌉ 64-bit draws in order.
void ql_stochastic_codes_avx512(const float *g, size_t n, float inverse, float scale,
                                const uint64_t *draws, int8_t *codes, float *values);

/// im2col and col2im for stride 1 (Tensors/Im2col.swift has the layout and the
/// portable loops): the same loop order, so col2im adds each dx element's terms in
/// the same order and the sums are bit-identical. Rows go through masked 16-lane
/// loads and stores instead of memmove/memset calls on 8–32-float runs; "same"
/// convolutions (output plane = input plane) go through the flattened plane in 16-value
/// blocks across rows, taps in the same order.
void ql_im2col_s1_avx512(const float *x, size_t n, size_t channels, size_t height, size_t width,
                         size_t kernel_h, size_t kernel_w, size_t padding, float *col);
void ql_col2im_s1_avx512(const float *col, size_t n, size_t channels, size_t height, size_t width,
                         size_t kernel_h, size_t kernel_w, size_t padding, float *dx);

/// im2row of NHWC u8 codes [n, H, W, C] (Tensors/IntegerCodes.swift `im2row` has the
/// layout): rows[(b, i, j), (ki, kj, c)] = x[b, i·S − P + ki, j·S − P + kj, c], `pad`
/// outside the image. Each output position's tap row ki is one run of in-image bytes
/// between pad bytes; the AVX-512 form moves it in masked 64-byte steps (the portable
/// one with memset / memcpy). The same bytes.
void ql_im2row_u8(const uint8_t *x, size_t n, size_t channels, size_t height, size_t width, size_t kernel_h,
                  size_t kernel_w, size_t stride, size_t padding, uint8_t pad, uint8_t *rows);
void ql_im2row_u8_avx512(const uint8_t *x, size_t n, size_t channels, size_t height, size_t width,
                         size_t kernel_h, size_t kernel_w, size_t stride, size_t padding, uint8_t pad, uint8_t *rows);

/// Conv2D's float backward: dY of m images [m, K, P] → K-major [K, m·P], and
/// bias_grad[k] += Σ over the chunk in the order of the serial loop (images, then
/// positions), kept bit for bit: eight channels run as eight independent chains.
void ql_conv_gather_dy(const float *dy, size_t m, size_t filters, size_t p, float *kmajor, float *bias_grad);
/// The weight gradient of a stride-1 'same' k×k convolution (padding (k − 1)/2) over
/// float input, computed directly (conv_dw.c): for m images x [m, C, H, W] (NCHW) and
/// dy [m·H·W, K] (NHWC: a pixel's K filters adjacent), dw [K, C·k·k] (the weights'
/// layout, (c, ki, kj) row-major) += Σ over pixels of dy[p][f] · x_pad[c][p + (ki, kj)],
/// x_pad the image zero-padded (padding terms are dy · 0, as in im2col + GEMM).
/// Order, per image, filter and (c, ki, kj): row sums over j (fmaf chain from +0), the
/// image's sum of its row sums (from +0, rows in order), then dw += that sum, image by
/// image: the bits depend on neither the chunking of the batch nor the CPU (the AVX-512
/// form has filters across lanes, masked beyond K, and the same chains per lane).
/// Covered: k ∈ {3, 5} and 1 ≤ C ≤ 4 (ql_conv_dw_direct_covers; else dw is untouched).
/// pad: scratch of C·(H + k − 1)·(W + k − 1) floats.
int ql_conv_dw_direct_covers(size_t channels, size_t k);
void ql_conv_dw_direct(const float *x, const float *dy, size_t m, size_t channels, size_t h, size_t w,
                       size_t k, size_t filters, float *pad, float *dw);
void ql_conv_dw_direct_avx512(const float *x, const float *dy, size_t m, size_t channels, size_t h, size_t w,
                              size_t k, size_t filters, float *pad, float *dw);
/// The forward of the same convolutions (no bias): kmajor [K, m·P] (the im2col + sgemm
/// output's layout) = per filter and pixel an fmaf chain from +0 over (c, ki, kj) in order
/// of weights [K, C·k·k] · x_pad: the bits of OpenBLAS's sgemm NN for these shapes (K ≤ 100;
/// checked by tests). The AVX-512 form has 16 pixels of a row across lanes and 8, 4 or 1
/// filters per pass. Covered as ql_conv_dw_direct (else kmajor is untouched); pad as there.
void ql_conv_direct_forward(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                            const float *weights, size_t filters, float *pad, float *kmajor);
void ql_conv_direct_forward_avx512(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                                   const float *weights, size_t filters, float *pad, float *kmajor);
/// The forward straight into y [m, K, P] (NCHW), the bias added: y = the chain above
/// + (bias ? bias[f] : +0), one float add (ql_conv_scatter_bias's bits without the
/// K-major pass). With `maximum` (non-NULL), *maximum as ql_conv_scatter_bias_max_avx512
/// leaves it on the same chunk, bit for bit (±0 included: ql_conv_planes_max). Covered as
/// ql_conv_dw_direct (else y is untouched).
void ql_conv_direct_forward_bias(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                                 const float *weights, size_t filters, const float *bias, float *pad, float *y,
                                 float *maximum);
void ql_conv_direct_forward_bias_avx512(const float *x, size_t m, size_t channels, size_t h, size_t w, size_t k,
                                        const float *weights, size_t filters, const float *bias, float *pad,
                                        float *y, float *maximum);
/// dst [cols, rows] = the transpose of src [rows, cols] (rows ld apart): an exact copy;
/// the AVX-512 form moves 16 × 16 blocks through registers.
void ql_transpose_f32(const float *src, size_t rows, size_t cols, size_t ld, float *dst);
void ql_transpose_f32_avx512(const float *src, size_t rows, size_t cols, size_t ld, float *dst);
/// Conv2D's float forward: K-major GEMM output [K, m·P] → y [m, K, P] plus bias[k]
/// (bias may be NULL: + 0).
void ql_conv_scatter_bias(const float *kmajor, size_t m, size_t filters, size_t p, const float *bias, float *y);
/// ql_conv_scatter_bias, and `maximum` becomes the largest of itself and every y written,
/// NaN ignored (the batch maximum an activation quantizer's clip needs, on the way).
void ql_conv_scatter_bias_max_avx512(const float *kmajor, size_t m, size_t filters, size_t p, const float *bias,
                                     float *y, float *maximum);
/// *maximum as ql_conv_scatter_bias_max_avx512 leaves it when it writes y [m, K, P]:
/// the same order (filters, images, positions; 16 lanes, the tails apart), the same bits,
/// ±0 included (portable C; the direct forward's rare path when a maximum is ±0).
void ql_conv_planes_max(const float *y, size_t m, size_t filters, size_t p, float *maximum);

/// Conv2D's float forward fused with the ReLU and 2×2 stride-2 max pooling above it
/// (h and w even): per channel k and image i of the K-major GEMM output [K, m·P]
/// (P = h·w), v = kmajor + bias[k] (NULL: + 0), r = v < 0 ? 0 : v (the ReLU's vector
/// form), pooled [m, K, h/2·w/2] = max(max(a, b), max(c, d)) of each 2×2 block's r
/// (Swift.max, ql_maxpool2_forward_avx512), and codes (same index) = the first corner
/// (0 a, 1 b, 2 c, 3 d, row-major) whose r equals a maximum > 0, else 4: where
/// MaxPool's backward under a ReLU mask routes the window's gradient.
void ql_conv_relu_pool2_avx512(const float *kmajor, size_t m, size_t filters, size_t h, size_t w,
                               const float *bias, float *pooled, uint8_t *codes);
/// Its backward, MaxPool's masked backward and ql_conv_gather_dy in one pass: the pooled
/// gradient dy [m, K, h/2·w/2] routed by codes to full planes (+0 elsewhere) in K-major
/// layout [K, m·P], and bias_grad[k] += their sum in ql_conv_gather_dy's serial order.
void ql_conv_unpool2_dy_avx512(const float *dy, const uint8_t *codes, size_t m, size_t filters, size_t h,
                               size_t w, float *kmajor, float *bias_grad);
/// MaxPool's backward from routes alone: per plane (h, w even), each pooled gradient
/// dy [planes, h/2·w/2] to the corner its route names (0 a, 1 b, 2 c, 3 d), +0 to the
/// other corners (all four for route 4); writes every dx [planes, h·w].
void ql_unpool2_avx512(const float *dy, const uint8_t *routes, size_t planes, size_t h, size_t w, float *dx);
/// An activation quantizer and the 2×2 stride-2 max pooling above it in one pass (h, w
/// even), over the quantizer's input x [planes, h·w]: q = the quantizer's vector form
/// (`sign`: x ≥ 0 ? 1 : −1; else v = x < 0 ? 0 : x, v = v > clip ? clip : v,
/// q = step·((v·inverse + 1.5·2²³) − 1.5·2²³), as ql_uniform_quantize_avx512),
/// pooled = max(max(qa, qb), max(qc, qd)) (Swift.max), and routes (same index) = the
/// first corner whose q equals the maximum (MaxPool's backward) when that corner's x
/// passes the quantizer's mask (sign: −1 ≤ x ≤ 1; else 0 < x ≤ clip, the mask of the
/// ReLU below and the clip together), else 4.
void ql_quant_pool2_avx512(const float *x, size_t planes, size_t h, size_t w, int sign,
                           float clip, float inverse, float step, float *pooled, uint8_t *routes);

#include "grad_kernels.h"   // the g8 / gbf16 backward kernels (grad_kernels.c)
#include "QuantKernels.h"   // quantized-training kernels (quant_kernels.c)

#endif
