// Quantized-training kernels (quant_kernels.c): AVX-512 forms chosen at run time by
// the callers (cpuid), with bit-identical portable references in Tensors/QuantKernels.swift.
#ifndef QUANTLAB_QUANTKERNELS_H
#define QUANTLAB_QUANTKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// y[i, o, j] = (float)(acc[i, j, o] − offset[o]) · scale[o] + bias[o] for i < m, j < p,
/// o < k: the integer GEMM's [m, P, K] int32 result into NCHW floats (two roundings, no
/// FMA). `offset` NULL: no offset (sign-activation inputs subtract the weights' row sums).
/// `maximum` (NULL: skipped) becomes the largest of itself and every y written, NaN ignored.
void ql_int32_epilogue_transpose_avx512(const int32_t *acc, size_t m, size_t p, size_t k,
                                        const float *scale, const float *bias, const int32_t *offset, float *y,
                                        float *maximum);
/// y[i, o] = (float)(acc[i, o] − offset[o]) · scale[o] + bias[o] for i < n, o < k
/// (portable C; `offset` NULL: none).
void ql_int32_epilogue_rows(const int32_t *acc, size_t n, size_t k, const float *scale, const float *bias,
                            const int32_t *offset, float *y);

/// Codes of values on the grid {step·j}: r = (v·inverse + 1.5·2²³) − 1.5·2²³, then
/// r = r ≥ 0 ? r : 0, r = r > top ? top : r, code = r; returns 1 when every r·step == v,
/// else 0 (codes then unspecified). The NCHW form writes NHWC codes (channel fastest).
int ql_activation_codes_nhwc_avx512(const float *x, size_t n, size_t c, size_t hw,
                                    float inverse, float step, float top, uint8_t *codes);
int ql_activation_codes_avx512(const float *x, size_t n, float inverse, float step, float top, uint8_t *codes);
/// Signed weight codes of Q(W), rows × (channels · taps) in source order (c, t), into
/// destination order (t, c): j = (v / s + 1.5·2²³) − 1.5·2²³ (s = scales[k] with
/// `per_row`, else scales[0]; j = 0 where s = 0); a value with s·j ≠ v or |j| > 127
/// gets code 0 and makes the result 0 (else 1). `row_sums` (NULL: skipped) receives Σ codes per row.
int ql_weight_codes_avx512(const float *q, size_t rows, size_t channels, size_t taps,
                           const float *scales, int per_row, int8_t *codes, int32_t *row_sums);
/// Codes u = s + 1 ∈ {0, 1, 2} of sign / ternary activations s ∈ {−1, 0, +1} (−0 is 0);
/// returns 1 when every value is one of those, else 0 (codes then unspecified). The
/// NCHW form writes NHWC codes (channel fastest).
int ql_sign_codes_avx512(const float *x, size_t n, uint8_t *codes);
int ql_sign_codes_nhwc_avx512(const float *x, size_t n, size_t c, size_t hw, uint8_t *codes);

/// dx[i] = 0 < x[i] ≤ hi ? dy[i] : 0: a ReLU's and a [0, hi] clip's straight-through
/// masks in one pass (x is the ReLU's input).
void ql_mask_open_closed_avx512(const float *x, const float *dy, float *dx, size_t n, float hi);

/// max p[i] exactly as the Swift loop `QuantKernels.Portable.maximum`: eight accumulators
/// m_j = p[i] > m_j ? p[i] : m_j from p[0], the tail into m_0, then Swift.max in its
/// tree (NaN only when p[0] is NaN; the same zero of a zero maximum); −∞ for n = 0.
float ql_maximum_avx512(const float *p, size_t n);
/// y[i] = step · ((v·inverse + 1.5·2²³) − 1.5·2²³), v = x[i] clamped to [0, clip]
/// (v < 0 → 0, v > clip → clip; NaN stays NaN): the uniform activation quantizer.
void ql_uniform_quantize_avx512(const float *x, float *y, size_t n, float clip, float inverse, float step);

/// y[i] = x[i] ≥ 0 ? 1 : −1 (NaN → −1): binary (sign) activations.
void ql_sign_avx512(const float *x, float *y, size_t n);

/// ql_quant_pool2_avx512 (CTrainKernels.h) over planes m·k (image-major), also writing
/// codes [m, h/2·w/2, k] (NHWC, channel fastest): the codes of the pooled values as
/// ql_activation_codes_nhwc_avx512 computes them (inverse, step, top), or as
/// ql_sign_codes_nhwc_avx512 when `sign`. Returns 1 when every code is on its grid (the
/// codes are then exactly those), else 0 (codes unspecified; pooled and routes written).
int ql_quant_pool2_codes_avx512(const float *x, size_t m, size_t k, size_t h, size_t w, int sign,
                                float clip, float inverse, float step, float top,
                                float *pooled, uint8_t *routes, uint8_t *codes);
/// The integer forward's epilogue and ql_quant_pool2_avx512 in one pass, never writing the
/// full-size float output: from the GEMM's accumulators acc [m, h·w, k] (h, w even), each
/// y = (float)(acc − offset[o])·scale[o] + bias[o] (ql_int32_epilogue_transpose_avx512's
/// operations; `offset` NULL: none) is quantized and pooled exactly as
/// ql_quant_pool2_avx512 does on the NCHW y, into pooled and routes [m, k, h/2·w/2]; codes
/// (NULL: skipped) and the return value as ql_quant_pool2_codes_avx512 (0 without codes).
int ql_int32_quant_pool2_avx512(const int32_t *acc, size_t m, size_t h, size_t w, size_t k,
                                const float *scale, const float *bias, const int32_t *offset, int sign,
                                float clip, float inverse, float step, float top,
                                float *pooled, uint8_t *routes, uint8_t *codes);
/// colmax[o] = max(colmax[o], acc[r, o]) for r < rows, o < k (int32); `copy` (NULL: none)
/// gets acc [rows, k] on the way.
void ql_s32_column_max_avx512(const int32_t *acc, size_t rows, size_t k, int32_t *colmax, int32_t *copy);

#endif
