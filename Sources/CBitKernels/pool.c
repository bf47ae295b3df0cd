#include "CBitKernels.h"
#include <immintrin.h>
#include <string.h>

// Max pooling on the packed engine's activations (PackedMaxPool): exact, since sign
// and the uniform activation quantizers are non-decreasing, the code of a window's
// maximum is the maximum of its codes (OR for sign bits). In C because the Swift
// loops over 1–2-word positions cost as much as a convolution's GEMM (perf).

void ql_maxpool_bits(const ql_maxpool_bits_args *a) {
    const size_t c32 = a->words_per_position, k = a->window, S = a->stride, W = a->width;
    const size_t oh = a->out_height, ow = a->out_width;
    for (size_t b = 0; b < a->batch; b++) {
        const uint32_t *image = a->x + b * a->in_half_words;
        uint32_t *out = a->y + b * a->out_half_words;
        if (k == 2 && S == 2 && c32 == 1) {
            // The common 2×2 window on up to 32 channels, one word per position.
            for (size_t y = 0; y < oh; y++) {
                const uint32_t *r0 = image + 2 * y * W, *r1 = r0 + W;
                for (size_t x = 0; x < ow; x++) out[y * ow + x] = r0[2 * x] | r0[2 * x + 1] | r1[2 * x] | r1[2 * x + 1];
            }
            if ((oh * ow) % 2 == 1) out[oh * ow] = 0;
            continue;
        }
        if (k == 2 && S == 2) {
            // 2×2 on several words a position (cifar3's 64 and 128 channels): the four
            // positions' words ORed word by word, without the general window loops.
            for (size_t y = 0; y < oh; y++) {
                const uint32_t *r0 = image + 2 * y * W * c32, *r1 = r0 + W * c32;
                for (size_t x = 0; x < ow; x++) {
                    const uint32_t *p0 = r0 + 2 * x * c32, *p1 = r1 + 2 * x * c32;
                    uint32_t *o = out + (y * ow + x) * c32;
                    for (size_t q = 0; q < c32; q++) o[q] = p0[q] | p0[c32 + q] | p1[q] | p1[c32 + q];
                }
            }
            if ((oh * ow * c32) % 2 == 1) out[oh * ow * c32] = 0;
            continue;
        }
        for (size_t y = 0; y < oh; y++) {
            for (size_t x = 0; x < ow; x++) {
                uint32_t *o = out + (y * ow + x) * c32;
                for (size_t q = 0; q < c32; q++) {
                    uint32_t v = 0;
                    for (size_t u = 0; u < k; u++)
                        for (size_t w = 0; w < k; w++) v |= image[((y * S + u) * W + x * S + w) * c32 + q];
                    o[q] = v;
                }
            }
        }
        if ((oh * ow * c32) % 2 == 1) out[oh * ow * c32] = 0;
    }
}

// The 2×2, stride 2 window with 64 channels at a time (masked at the end): the C loop
// below, for 32 channels, ran byte by byte (clang's vector loop wanted more than 32 per
// trip), 10.9 µs an image after cifar3 w8a8's conv1, 7% of its packed forward.
__attribute__((target("avx512f,avx512bw")))
static void ql_maxpool_codes_2x2_avx512(const ql_maxpool_codes_args *a) {
    const size_t c = a->channels, W = a->width, H = a->height, oh = a->out_height, ow = a->out_width;
    for (size_t b = 0; b < a->batch; b++) {
        const uint8_t *image = a->x + b * H * W * c;
        for (size_t y = 0; y < oh; y++) {
            const uint8_t *r0 = image + 2 * y * W * c, *r1 = r0 + W * c;
            uint8_t *o = a->y + (b * oh + y) * ow * c;
            for (size_t x = 0; x < ow; x++) {
                for (size_t q = 0; q < c; q += 64) {
                    __mmask64 m = c - q >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (c - q)) - 1);
                    const size_t at = 2 * x * c + q;
                    __m512i v = _mm512_max_epu8(_mm512_maskz_loadu_epi8(m, r0 + at), _mm512_maskz_loadu_epi8(m, r0 + at + c));
                    v = _mm512_max_epu8(v, _mm512_max_epu8(_mm512_maskz_loadu_epi8(m, r1 + at), _mm512_maskz_loadu_epi8(m, r1 + at + c)));
                    _mm512_mask_storeu_epi8(o + x * c + q, m, v);
                }
            }
        }
    }
}

void ql_maxpool_codes(const ql_maxpool_codes_args *a) {
    const size_t c = a->channels, k = a->window, S = a->stride, W = a->width, H = a->height;
    const size_t oh = a->out_height, ow = a->out_width;
    uint32_t f = ql_cpu_features();
    if (k == 2 && S == 2 && (f & QL_CPU_AVX512F) && (f & QL_CPU_AVX512BW)) { ql_maxpool_codes_2x2_avx512(a); return; }
    for (size_t b = 0; b < a->batch; b++) {
        const uint8_t *image = a->x + b * H * W * c;
        for (size_t y = 0; y < oh; y++) {
            for (size_t x = 0; x < ow; x++) {
                uint8_t *o = a->y + ((b * oh + y) * ow + x) * c;
                memcpy(o, image + ((y * S) * W + x * S) * c, c);
                for (size_t u = 0; u < k; u++)
                    for (size_t w = 0; w < k; w++) {
                        if (u + w == 0) continue;
                        const uint8_t *p = image + ((y * S + u) * W + x * S + w) * c;
                        for (size_t q = 0; q < c; q++) o[q] = o[q] > p[q] ? o[q] : p[q];
                    }
            }
        }
    }
}

// 16 positions at a time: their words q gathered into one register, then each of the 32
// channels' bits over those positions is one mask, blended into ±1 and stored contiguously
// (the loop below reads a bit per float: 6.4 µs an image before cifar3 w1a1's dense layer,
// 11% of its packed forward).
__attribute__((target("avx512f")))
static void ql_bits_to_floats_avx512(const uint32_t *x, size_t batch, size_t channels, size_t positions,
                                     size_t words_per_position, size_t half_words_per_sample, float *y) {
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i index = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)words_per_position));
    const __m512 plus = _mm512_set1_ps(1.0f), minus = _mm512_set1_ps(-1.0f);
    for (size_t b = 0; b < batch; b++) {
        const uint32_t *image = x + b * half_words_per_sample;
        for (size_t p0 = 0; p0 < positions; p0 += 16) {
            __mmask16 m = positions - p0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (positions - p0)) - 1);
            for (size_t q = 0; q * 32 < channels; q++) {
                __m512i words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, index,
                                                            image + p0 * words_per_position + q, 4);
                size_t end = channels - 32 * q < 32 ? channels - 32 * q : 32;
                for (size_t s = 0; s < end; s++) {
                    __mmask16 set = _mm512_test_epi32_mask(words, _mm512_set1_epi32((int)(1u << s)));
                    _mm512_mask_storeu_ps(y + (b * channels + 32 * q + s) * positions + p0, m,
                                          _mm512_mask_blend_ps(set, minus, plus));
                }
            }
        }
    }
}

void ql_bits_to_floats(const uint32_t *x, size_t batch, size_t channels, size_t positions, size_t words_per_position,
                       size_t half_words_per_sample, float *y) {
    if (ql_cpu_features() & QL_CPU_AVX512F) {
        ql_bits_to_floats_avx512(x, batch, channels, positions, words_per_position, half_words_per_sample, y);
        return;
    }
    for (size_t b = 0; b < batch; b++) {
        const uint32_t *image = x + b * half_words_per_sample;
        for (size_t c = 0; c < channels; c++) {
            float *dst = y + (b * channels + c) * positions;
            const uint32_t *src = image + c / 32;
            const unsigned shift = (unsigned)(c % 32);
            for (size_t p = 0; p < positions; p++) dst[p] = (src[p * words_per_position] >> shift) & 1 ? 1.0f : -1.0f;
        }
    }
}

void ql_codes_to_floats(const uint8_t *x, size_t batch, size_t channels, size_t positions, float step, float *y) {
    for (size_t b = 0; b < batch; b++) {
        const uint8_t *image = x + b * positions * channels;
        float *dst = y + b * channels * positions;
        for (size_t c = 0; c < channels; c++)
            for (size_t p = 0; p < positions; p++) dst[c * positions + p] = step * (float)image[p * channels + c];
    }
}
