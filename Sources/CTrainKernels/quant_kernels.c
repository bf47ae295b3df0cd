// AVX-512 forms of the quantized-training passes (issue 11): the int32 → float
// epilogue of the integer forward, activation codes from on-grid floats, and the
// fused ReLU + quantizer backward mask. Each computes exactly what its portable
// Swift reference computes (Tensors/QuantKernels.swift): the same selections and the
// same float operations in the same order, no FMA contraction, so results are
// bit-identical whichever runs.
#include "CTrainKernels.h"
#include <immintrin.h>

#pragma clang fp contract(off)

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

AVX512 void ql_int32_epilogue_transpose_avx512(const int32_t *acc, size_t m, size_t p, size_t k,
                                               const float *scale, const float *bias, const int32_t *offset, float *y,
                                               float *maximum) {
    // The running maximum: a lane takes a value only when greater (NaN never is).
    __m512 mv = _mm512_set1_ps(-__builtin_inff());
    float ms = -__builtin_inff();
    // Lane l of a gather reads acc[(j + l)·k + o].
    const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32((int)k));
    for (size_t i = 0; i < m; i++) {
        const int32_t *src = acc + i * p * k;
        float *dst = y + i * k * p;
        for (size_t o = 0; o < k; o++) {
            const __m512 s = _mm512_set1_ps(scale[o]), b = _mm512_set1_ps(bias[o]);
            const int32_t off = offset ? offset[o] : 0;
            const __m512i ov = _mm512_set1_epi32(off);
            float *d = dst + o * p;
            size_t j = 0;
            for (; j + 16 <= p; j += 16) {
                __m512i v = _mm512_sub_epi32(_mm512_i32gather_epi32(stride, src + j * k + o, 4), ov);
                const __m512 r = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(v), s), b);
                _mm512_storeu_ps(d + j, r);
                if (maximum) mv = _mm512_mask_mov_ps(mv, _mm512_cmp_ps_mask(r, mv, _CMP_GT_OQ), r);
            }
            for (; j < p; j++) {
                d[j] = (float)(src[j * k + o] - off) * scale[o] + bias[o];
                ms = d[j] > ms ? d[j] : ms;
            }
        }
    }
    if (maximum) {
        const float v = _mm512_reduce_max_ps(mv);   // lanes hold no NaN
        ms = v > ms ? v : ms;
        *maximum = ms > *maximum ? ms : *maximum;
    }
}

void ql_int32_epilogue_rows(const int32_t *acc, size_t n, size_t k, const float *scale, const float *bias,
                            const int32_t *offset, float *y) {
    if (!offset) {
        for (size_t i = 0; i < n; i++)
            for (size_t o = 0; o < k; o++) y[i * k + o] = (float)acc[i * k + o] * scale[o] + bias[o];
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t o = 0; o < k; o++) y[i * k + o] = (float)(acc[i * k + o] - offset[o]) * scale[o] + bias[o];
}

/// The code of each lane (see the header); `bad` collects lanes off the grid.
AVX512 static inline __m512i grid_codes16(__m512 v, __m512 inverse, __m512 step, __m512 top, __mmask16 *bad) {
    const __m512 magic = _mm512_set1_ps(12582912.0f), zero = _mm512_setzero_ps();
    __m512 r = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(v, inverse), magic), magic);
    r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r, zero, _CMP_GE_OQ), r);
    r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(r, top, _CMP_GT_OQ), top);
    *bad |= _mm512_cmp_ps_mask(_mm512_mul_ps(r, step), v, _CMP_NEQ_UQ);
    return _mm512_cvtps_epi32(r);
}

static inline uint8_t grid_code(float v, float inverse, float step, float top, uint32_t *bad) {
    float r = (v * inverse + 12582912.0f) - 12582912.0f;
    r = r >= 0 ? r : 0;
    r = r > top ? top : r;
    *bad |= r * step == v ? 0 : 1;
    return (uint8_t)r;
}

/// The code u = s + 1 of each lane s ∈ {−1, 0, +1} (−0 included); `bad` collects other lanes.
AVX512 static inline __m512i sign_codes16(__m512 v, __mmask16 *bad) {
    const __mmask16 pos = _mm512_cmp_ps_mask(v, _mm512_set1_ps(1.0f), _CMP_EQ_OQ);
    const __mmask16 zero = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_EQ_OQ);
    const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_set1_ps(-1.0f), _CMP_EQ_OQ);
    *bad |= (__mmask16)~(pos | zero | neg);
    return _mm512_mask_mov_epi32(_mm512_maskz_mov_epi32(zero, _mm512_set1_epi32(1)), pos, _mm512_set1_epi32(2));
}

static inline uint8_t sign_code(float v, uint32_t *bad) {
    *bad |= (v == 1.0f || v == 0.0f || v == -1.0f) ? 0 : 1;
    return v == 1.0f ? 2 : (v == 0.0f ? 1 : 0);
}

/// codes of NCHW x into NHWC, 16 channels of a pixel per gather: sign codes when `sign`
/// (a constant at each caller, so the branch folds), else grid codes.
AVX512 static inline int nhwc_codes(const float *x, size_t n, size_t c, size_t hw, int sign,
                                    float inverse, float step, float top, uint8_t *codes) {
    const __m512 iv = _mm512_set1_ps(inverse), sv = _mm512_set1_ps(step), tv = _mm512_set1_ps(top);
    const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32((int)hw));
    __mmask16 bad16 = 0;
    uint32_t bad = 0;
    for (size_t b = 0; b < n; b++) {
        const float *image = x + b * c * hw;
        uint8_t *out = codes + b * hw * c;
        for (size_t i = 0; i < hw; i++) {
            uint8_t *d = out + i * c;
            size_t ch = 0;
            for (; ch + 16 <= c; ch += 16) {
                __m512 v = _mm512_i32gather_ps(stride, image + ch * hw + i, 4);
                __m512i k = sign ? sign_codes16(v, &bad16) : grid_codes16(v, iv, sv, tv, &bad16);
                _mm_storeu_si128((__m128i *)(d + ch), _mm512_cvtepi32_epi8(k));
            }
            for (; ch < c; ch++) {
                float v = image[ch * hw + i];
                d[ch] = sign ? sign_code(v, &bad) : grid_code(v, inverse, step, top, &bad);
            }
        }
    }
    return bad16 == 0 && bad == 0;
}

AVX512 int ql_activation_codes_nhwc_avx512(const float *x, size_t n, size_t c, size_t hw,
                                           float inverse, float step, float top, uint8_t *codes) {
    return nhwc_codes(x, n, c, hw, 0, inverse, step, top, codes);
}

AVX512 int ql_activation_codes_avx512(const float *x, size_t n, float inverse, float step, float top, uint8_t *codes) {
    const __m512 iv = _mm512_set1_ps(inverse), sv = _mm512_set1_ps(step), tv = _mm512_set1_ps(top);
    __mmask16 bad16 = 0;
    uint32_t bad = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm_storeu_si128((__m128i *)(codes + i), _mm512_cvtepi32_epi8(grid_codes16(_mm512_loadu_ps(x + i), iv, sv, tv, &bad16)));
    for (; i < n; i++) codes[i] = grid_code(x[i], inverse, step, top, &bad);
    return bad16 == 0 && bad == 0;
}

/// j = (v / s + 1.5·2²³) − 1.5·2²³ per lane, `bad` set where s·j ≠ v or |j| > 127.
AVX512 static inline __m512i weight_codes16(__m512 v, __m512 s, __mmask16 *bad) {
    const __m512 magic = _mm512_set1_ps(12582912.0f), top = _mm512_set1_ps(127.0f);
    __m512 j = _mm512_sub_ps(_mm512_add_ps(_mm512_div_ps(v, s), magic), magic);
    __mmask16 ok = _mm512_cmp_ps_mask(_mm512_mul_ps(s, j), v, _CMP_EQ_OQ)
                 & _mm512_cmp_ps_mask(_mm512_abs_ps(j), top, _CMP_LE_OQ);
    *bad |= (__mmask16)~ok;
    return _mm512_maskz_cvtps_epi32(ok, j);
}

static inline int8_t weight_code(float v, float s, uint32_t *bad) {
    float j = s != 0 ? (v / s + 12582912.0f) - 12582912.0f : 0.0f;
    int ok = s * j == v && __builtin_fabsf(j) <= 127.0f;
    *bad |= ok ? 0 : 1;
    return ok ? (int8_t)j : 0;
}

AVX512 int ql_weight_codes_avx512(const float *q, size_t rows, size_t channels, size_t taps,
                                  const float *scales, int per_row, int8_t *codes, int32_t *row_sums) {
    const size_t length = channels * taps;
    const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32((int)taps));
    __mmask16 bad16 = 0;
    uint32_t bad = 0;
    for (size_t k = 0; k < rows; k++) {
        const float scale = scales[per_row ? k : 0];
        const __m512 s = _mm512_set1_ps(scale);
        const float *src = q + k * length;
        int8_t *dst = codes + k * length;
        __m512i sum = _mm512_setzero_si512();
        int32_t tail = 0;
        // A zero scale (an all-zero row) takes the scalar form: code 0 where v == 0.
        const size_t vectorChannels = scale != 0 ? channels : 0;
        for (size_t t = 0; t < taps; t++) {
            size_t c = 0;
            for (; c + 16 <= vectorChannels; c += 16) {
                __m512 v = taps == 1 ? _mm512_loadu_ps(src + c) : _mm512_i32gather_ps(stride, src + c * taps + t, 4);
                __m512i j = weight_codes16(v, s, &bad16);
                sum = _mm512_add_epi32(sum, j);
                _mm_storeu_si128((__m128i *)(dst + t * channels + c), _mm512_cvtepi32_epi8(j));
            }
            for (; c < channels; c++) {
                int8_t j = weight_code(src[c * taps + t], scale, &bad);
                tail += j;
                dst[t * channels + c] = j;
            }
        }
        if (row_sums) row_sums[k] = _mm512_reduce_add_epi32(sum) + tail;
    }
    return bad16 == 0 && bad == 0;
}

AVX512 int ql_sign_codes_avx512(const float *x, size_t n, uint8_t *codes) {
    __mmask16 bad16 = 0;
    uint32_t bad = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm_storeu_si128((__m128i *)(codes + i), _mm512_cvtepi32_epi8(sign_codes16(_mm512_loadu_ps(x + i), &bad16)));
    for (; i < n; i++) codes[i] = sign_code(x[i], &bad);
    return bad16 == 0 && bad == 0;
}

AVX512 int ql_sign_codes_nhwc_avx512(const float *x, size_t n, size_t c, size_t hw, uint8_t *codes) {
    return nhwc_codes(x, n, c, hw, 1, 1.0f, 1.0f, 2.0f, codes);
}

AVX512 void ql_mask_open_closed_avx512(const float *x, const float *dy, float *dx, size_t n, float hi) {
    const __m512 zero = _mm512_setzero_ps(), h = _mm512_set1_ps(hi);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __mmask16 keep = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ) & _mm512_cmp_ps_mask(v, h, _CMP_LE_OQ);
        _mm512_storeu_ps(dx + i, _mm512_maskz_mov_ps(keep, _mm512_loadu_ps(dy + i)));
    }
    for (; i < n; i++) dx[i] = (x[i] > 0 && x[i] <= hi) ? dy[i] : 0.0f;
}

AVX512 float ql_maximum_avx512(const float *p, size_t n) {
    if (n == 0) return -__builtin_inff();
    // Lane j is the Swift loop's accumulator m_j (elements j, j + 8, …), unrolled by two
    // with the second group applied after the first, so every lane sees its elements in
    // the same order and keeps the same (first) of tied values.
    __m256 m = _mm256_set1_ps(p[0]);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(p + i), b = _mm256_loadu_ps(p + i + 8);
        m = _mm256_mask_mov_ps(m, _mm256_cmp_ps_mask(a, m, _CMP_GT_OQ), a);
        m = _mm256_mask_mov_ps(m, _mm256_cmp_ps_mask(b, m, _CMP_GT_OQ), b);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_loadu_ps(p + i);
        m = _mm256_mask_mov_ps(m, _mm256_cmp_ps_mask(a, m, _CMP_GT_OQ), a);
    }
    float l[8];
    _mm256_storeu_ps(l, m);
    for (; i < n; i++) l[0] = p[i] > l[0] ? p[i] : l[0];
    // Swift.max(x, y) = y ≥ x ? y : x, in the Swift loop's tree.
#define SWIFT_MAX(x, y) ((y) >= (x) ? (y) : (x))
    float a = SWIFT_MAX(SWIFT_MAX(l[0], l[1]), SWIFT_MAX(l[2], l[3]));
    float b = SWIFT_MAX(SWIFT_MAX(l[4], l[5]), SWIFT_MAX(l[6], l[7]));
    return SWIFT_MAX(a, b);
#undef SWIFT_MAX
}

AVX512 void ql_uniform_quantize_avx512(const float *x, float *y, size_t n, float clip, float inverse, float step) {
    const __m512 zero = _mm512_setzero_ps(), c = _mm512_set1_ps(clip), iv = _mm512_set1_ps(inverse);
    const __m512 sv = _mm512_set1_ps(step), magic = _mm512_set1_ps(12582912.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, c, _CMP_GT_OQ), c);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(sv, _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(v, iv), magic), magic)));
    }
    for (; i < n; i++) {
        float v = x[i];
        v = v < 0 ? 0 : v;
        v = v > clip ? clip : v;
        y[i] = step * ((v * inverse + 12582912.0f) - 12582912.0f);
    }
}

AVX512 void ql_sign_avx512(const float *x, float *y, size_t n) {
    const __m512 one = _mm512_set1_ps(1.0f), minus = _mm512_set1_ps(-1.0f), zero = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mask_mov_ps(minus, _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), zero, _CMP_GE_OQ), one));
    for (; i < n; i++) y[i] = x[i] >= 0 ? 1.0f : -1.0f;
}

// ---- Quantize → max-pool 2 (issue 11) -------------------------------------------------
// One vector of 16 pooling windows at a time, from the quantizer's inputs at the four
// corners a b / c d: the quantizer, Swift.max in MaxPool's order, and the route. Shared
// by the float-input form (ql_quant_pool2_avx512, moved here from kernels.c) and the
// integer-forward form (ql_int32_quant_pool2_avx512), so both compute the same bits.

#include "column_lanes.h"
#include "transpose16.h"
#include <stdlib.h>

/// Swift.max(p, q) = q ≥ p ? q : p (p when either is NaN).
AVX512 static inline __m512 qp_max16(__m512 p, __m512 q) {
    return _mm512_mask_mov_ps(p, _mm512_cmp_ps_mask(q, p, _CMP_GE_OQ), q);
}

/// The quantizer on one vector of a window corner (sign: x ≥ 0 ? 1 : −1).
AVX512 static inline __m512 quant_corner(__m512 v, int sign, __m512 clip, __m512 inverse, __m512 step) {
    const __m512 zero = _mm512_setzero_ps();
    if (sign) return _mm512_mask_mov_ps(_mm512_set1_ps(-1.0f), _mm512_cmp_ps_mask(v, zero, _CMP_GE_OQ), _mm512_set1_ps(1.0f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);
    v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, clip, _CMP_GT_OQ), clip);
    return _mm512_mul_ps(step, _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(v, inverse), magic), magic));
}

/// The quantizer's straight-through mask on a corner's input: 0 < v ≤ clip (uniform
/// after a ReLU), −1 ≤ v ≤ 1 (sign).
AVX512 static inline __mmask16 pass_corner(__m512 v, int sign, __m512 clip) {
    if (sign) return _mm512_cmp_ps_mask(v, _mm512_set1_ps(-1.0f), _CMP_GE_OQ) & _mm512_cmp_ps_mask(v, _mm512_set1_ps(1.0f), _CMP_LE_OQ);
    return _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ) & _mm512_cmp_ps_mask(v, clip, _CMP_LE_OQ);
}

/// 16 windows: *pooled = max(max(qa, qb), max(qc, qd)); returns the routes (epi32): the
/// first corner equal to the maximum (MaxPool's backward) where that corner's input passes
/// the quantizer's mask, else 4 (no corner takes dy).
AVX512 static inline __m512i quant_pool16(__m512 xa, __m512 xb, __m512 xc, __m512 xd, int sign,
                                          __m512 c, __m512 iv, __m512 sv, __m512 *pooled) {
    const __m512 qa = quant_corner(xa, sign, c, iv, sv), qb = quant_corner(xb, sign, c, iv, sv);
    const __m512 qc = quant_corner(xc, sign, c, iv, sv), qd = quant_corner(xd, sign, c, iv, sv);
    const __m512 mx = qp_max16(qp_max16(qa, qb), qp_max16(qc, qd));
    *pooled = mx;
    const __mmask16 ea = _mm512_cmp_ps_mask(qa, mx, _CMP_EQ_OQ), eb = _mm512_cmp_ps_mask(qb, mx, _CMP_EQ_OQ);
    const __mmask16 ec = _mm512_cmp_ps_mask(qc, mx, _CMP_EQ_OQ), ed = _mm512_cmp_ps_mask(qd, mx, _CMP_EQ_OQ);
    const __mmask16 fb = eb & ~ea, fc = ec & ~(ea | eb), fd = ed & ~(ea | eb | ec);
    __m512i r = _mm512_set1_epi32(4);
    r = _mm512_mask_mov_epi32(r, ea & pass_corner(xa, sign, c), _mm512_setzero_si512());
    r = _mm512_mask_mov_epi32(r, fb & pass_corner(xb, sign, c), _mm512_set1_epi32(1));
    r = _mm512_mask_mov_epi32(r, fc & pass_corner(xc, sign, c), _mm512_set1_epi32(2));
    r = _mm512_mask_mov_epi32(r, fd & pass_corner(xd, sign, c), _mm512_set1_epi32(3));
    return r;
}

/// One image's pooled codes, channel by channel in `tile` [k][stride] (o·stride + q), into
/// NHWC codes out [pp][k]: 16 channels of a pooled pixel per gather.
AVX512 static void codes_from_tile(const uint8_t *tile, size_t k, size_t stride, size_t pp, uint8_t *out) {
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int)stride));
    const __m512i low = _mm512_set1_epi32(0xff);
    for (size_t q = 0; q < pp; q++) {
        for (size_t o = 0; o < k; o += 16) {
            const __mmask16 live = lanes((long)o, (long)o, (long)k);
            // Lane l reads the 4 bytes at tile[(o + l)·stride + q] (the tile is padded).
            __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, rows, tile + o * stride + q, 1);
            _mm_mask_storeu_epi8(out + q * k + o, live, _mm512_cvtepi32_epi8(_mm512_and_si512(v, low)));
        }
    }
}

/// The codes of 16 pooled values (as ql_activation_codes_nhwc_avx512 / ql_sign_codes_nhwc_avx512).
AVX512 static inline __m128i pooled_codes16(__m512 v, int sign, __m512 iv, __m512 sv, __m512 top, __mmask16 *bad) {
    return _mm512_cvtepi32_epi8(sign ? sign_codes16(v, bad) : grid_codes16(v, iv, sv, top, bad));
}

/// Bytes of one image's code tile ([k][stride], stride = pp rounded up to 16) and the
/// gathers' 4-byte overrun; NULL when codes are not wanted or the allocation fails.
static uint8_t *code_tile(const uint8_t *codes, size_t k, size_t pp, size_t *stride) {
    *stride = (pp + 15) & ~(size_t)15;
    return codes ? malloc(k * *stride + 64) : NULL;
}

/// The float-input form over planes m·k (image-major), with codes when `codes`.
AVX512 static int quant_pool2_float(const float *x, size_t m, size_t k, size_t h, size_t w, int sign,
                                    float clip, float inverse, float step, float top,
                                    float *pooled, uint8_t *routes, uint8_t *codes) {
    const long oh = (long)h / 2, ow = (long)w / 2, pp = oh * ow;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 c = _mm512_set1_ps(clip), iv = _mm512_set1_ps(inverse), sv = _mm512_set1_ps(step);
    const __m512 tv = _mm512_set1_ps(top);
    size_t stride;
    uint8_t *tile = code_tile(codes, k, (size_t)pp, &stride);
    __mmask16 bad = 0;
    for (size_t i = 0; i < m; i++) {
        for (size_t o = 0; o < k; o++) {
            const size_t p = i * k + o;
            const float *src = x + p * h * w;
            float *dst = pooled + (long)p * pp;
            uint8_t *route = routes + (long)p * pp;
            for (long oi = 0; oi < oh; oi++) {
                const float *r0 = src + 2 * oi * (long)w, *r1 = r0 + w;
                for (long j = 0; j < ow; j += 16) {
                    const __mmask16 first = lanes(2 * j, 2 * j, 2 * ow), second = lanes(2 * j + 16, 2 * j, 2 * ow);
                    const __mmask16 out = lanes(j, j, ow);
                    const __m512 t0 = _mm512_maskz_loadu_ps(first, r0 + 2 * j), t1 = _mm512_maskz_loadu_ps(second, r0 + 2 * j + 16);
                    const __m512 b0 = _mm512_maskz_loadu_ps(first, r1 + 2 * j), b1 = _mm512_maskz_loadu_ps(second, r1 + 2 * j + 16);
                    __m512 mx;
                    const __m512i r = quant_pool16(_mm512_permutex2var_ps(t0, even, t1), _mm512_permutex2var_ps(t0, odd, t1),
                                                   _mm512_permutex2var_ps(b0, even, b1), _mm512_permutex2var_ps(b0, odd, b1),
                                                   sign, c, iv, sv, &mx);
                    _mm512_mask_storeu_ps(dst + oi * ow + j, out, mx);
                    _mm_mask_storeu_epi8(route + oi * ow + j, out, _mm512_cvtepi32_epi8(r));
                    if (tile) {
                        __mmask16 b = 0;
                        _mm_mask_storeu_epi8(tile + o * stride + oi * ow + j, out, pooled_codes16(mx, sign, iv, sv, tv, &b));
                        bad |= b & out;
                    }
                }
            }
        }
        if (tile) codes_from_tile(tile, k, stride, (size_t)pp, codes + i * (size_t)pp * k);
    }
    free(tile);
    return tile != NULL && bad == 0;
}

AVX512 void ql_quant_pool2_avx512(const float *x, size_t planes, size_t h, size_t w, int sign,
                                  float clip, float inverse, float step, float *pooled, uint8_t *routes) {
    quant_pool2_float(x, planes, 1, h, w, sign, clip, inverse, step, 0.0f, pooled, routes, NULL);
}

AVX512 int ql_quant_pool2_codes_avx512(const float *x, size_t m, size_t k, size_t h, size_t w, int sign,
                                       float clip, float inverse, float step, float top,
                                       float *pooled, uint8_t *routes, uint8_t *codes) {
    return quant_pool2_float(x, m, k, h, w, sign, clip, inverse, step, top, pooled, routes, codes);
}

/// Pooled values and routes of 16 windows × k channels (k ≤ 128), window-major in `tile`
/// (group g = channels 16g …: values at tile[32g + t], routes at tile[32g + 16 + t], t the
/// window), into their planes [k][pp] at window q0: 16 runs of one plane per group.
AVX512 static void planes_from_tile(const __m512i *tile, long k, long pp, long q0, float *pooled, uint8_t *routes) {
    const __mmask16 windows = lanes(q0, q0, pp);
    for (long o = 0; o < k; o += 16) {
        __m512i values[16], route[16];
        transpose16x16_epi32(tile + (o / 16) * 32, values);
        transpose16x16_epi32(tile + (o / 16) * 32 + 16, route);
        const long n = k - o < 16 ? k - o : 16;
        for (long l = 0; l < n; l++) {
            _mm512_mask_storeu_ps(pooled + (o + l) * pp + q0, windows, _mm512_castsi512_ps(values[l]));
            _mm_mask_storeu_epi8(routes + (o + l) * pp + q0, windows, _mm512_cvtepi32_epi8(route[l]));
        }
    }
}

AVX512 int ql_int32_quant_pool2_avx512(const int32_t *acc, size_t m, size_t h, size_t w, size_t k,
                                       const float *scale, const float *bias, const int32_t *offset, int sign,
                                       float clip, float inverse, float step, float top,
                                       float *pooled, uint8_t *routes, uint8_t *codes) {
    // 16 channels of one window per step, straight from the accumulators' rows (channel
    // fastest: contiguous loads, where a plane-by-plane pass gathers); the codes leave in
    // that order (NHWC). The pooled values and routes of 16 windows wait in a tile and
    // leave transposed in registers, 16 windows of one plane per store (a scatter and 16
    // byte stores per window and channel group were 4.3 % of cifar3 g8 training, perf).
    const long ow = (long)w / 2, pp = (long)(h / 2) * ow, kk = (long)k;
    const __m512 c = _mm512_set1_ps(clip), iv = _mm512_set1_ps(inverse), sv = _mm512_set1_ps(step);
    const __m512 tv = _mm512_set1_ps(top);
    // Up to 128 channels a sweep over 16 windows (16 KiB of tile: all of cifar3's).
    __attribute__((aligned(64))) __m512i tile[8 * 32];
    __mmask16 bad = 0;
    for (size_t i = 0; i < m; i++) {
        const int32_t *image = acc + (long)i * (long)(h * w) * kk;
        for (long q0 = 0; q0 < pp; q0 += 16)
            for (long o0 = 0; o0 < kk; o0 += 128) {
                const long o1 = kk - o0 < 128 ? kk : o0 + 128;
                for (long t = 0; t < 16; t++) {
                    const long q = q0 + t;
                    if (q >= pp) {   // windows past the plane: transposed, never stored
                        for (long g = 0; g < (o1 - o0 + 15) / 16; g++) tile[g * 32 + t] = tile[g * 32 + 16 + t] = _mm512_setzero_si512();
                        continue;
                    }
                    const int32_t *a = image + ((2 * (q / ow)) * (long)w + 2 * (q % ow)) * kk, *cc = a + (long)w * kk;
                    for (long o = o0; o < o1; o += 16) {
                        const __mmask16 live = lanes(o, o, kk);
                        const __m512 s = _mm512_maskz_loadu_ps(live, scale + o), b = _mm512_maskz_loadu_ps(live, bias + o);
                        const __m512i ov = offset ? _mm512_maskz_loadu_epi32(live, offset + o) : _mm512_setzero_si512();
                        // The epilogue's y = (float)(acc − offset)·scale + bias at each corner.
#define CORNER(p) _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_maskz_loadu_epi32(live, p), ov)), s), b)
                        __m512 mx;
                        const __m512i r = quant_pool16(CORNER(a + o), CORNER(a + kk + o), CORNER(cc + o), CORNER(cc + kk + o),
                                                       sign, c, iv, sv, &mx);
#undef CORNER
                        tile[((o - o0) / 16) * 32 + t] = _mm512_castps_si512(mx);
                        tile[((o - o0) / 16) * 32 + 16 + t] = r;
                        if (codes) {
                            __mmask16 bb = 0;
                            _mm_mask_storeu_epi8(codes + ((long)i * pp + q) * kk + o, live, pooled_codes16(mx, sign, iv, sv, tv, &bb));
                            bad |= bb & live;
                        }
                    }
                }
                planes_from_tile(tile, o1 - o0, pp, q0, pooled + ((long)i * kk + o0) * pp, routes + ((long)i * kk + o0) * pp);
            }
    }
    return codes != NULL && bad == 0;
}

AVX512 void ql_s32_column_max_avx512(const int32_t *acc, size_t rows, size_t k, int32_t *colmax, int32_t *copy) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t *row = acc + r * k;
        for (size_t o = 0; o < k; o += 16) {
            const __mmask16 live = lanes((long)o, (long)o, (long)k);
            const __m512i v = _mm512_maskz_loadu_epi32(live, row + o);
            _mm512_mask_storeu_epi32(colmax + o, live, _mm512_max_epi32(_mm512_maskz_loadu_epi32(live, colmax + o), v));
            if (copy) _mm512_mask_storeu_epi32(copy + r * k + o, live, v);
        }
    }
}
