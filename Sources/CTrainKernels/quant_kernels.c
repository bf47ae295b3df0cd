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
