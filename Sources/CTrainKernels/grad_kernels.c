#include "grad_kernels.h"
#include <immintrin.h>
#include "column_lanes.h"
#include "transpose16.h"
#include <stdlib.h>

// Products and sums stay separate roundings, as in the Swift definitions (no FMA).
#pragma clang fp contract(off)

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define AVX512DQ __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

AVX512 void ql_splitmix64_fill_avx512(uint64_t *state, uint64_t *dst, size_t count) {
    const uint64_t gamma = 0x9E3779B97F4A7C15ull;
    uint64_t s = *state;
    const __m512i steps = _mm512_setr_epi64(1, 2, 3, 4, 5, 6, 7, 8);
    const __m512i g = _mm512_set1_epi64((long long)gamma);
    const __m512i m1 = _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull);
    const __m512i m2 = _mm512_set1_epi64((long long)0x94D049BB133111EBull);
    const __m512i g8 = _mm512_set1_epi64((long long)(gamma * 8));
    // Lane l holds the state after l + 1 steps.
    __m512i x = _mm512_add_epi64(_mm512_set1_epi64((long long)s), _mm512_mullox_epi64(steps, g));
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m512i z = x;
        z = _mm512_mullox_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), m1);
        z = _mm512_mullox_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), m2);
        _mm512_storeu_si512(dst + i, _mm512_xor_si512(z, _mm512_srli_epi64(z, 31)));
        x = _mm512_add_epi64(x, g8);
    }
    s += gamma * (uint64_t)i;
    for (; i < count; i++) {
        s += gamma;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        dst[i] = z ^ (z >> 31);
    }
    *state = s;
}

/// The codes of 16 gradient values (lanes `live`) with their 16-bit uniform words
/// (b, zero-extended to 32 bits).
AVX512 static inline __m512i stochastic_codes16_words(const float *g, __m512i b, __mmask16 live, __m512 inv) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);   // 1.5·2²³: adding it rounds to an integer
    const __m512i magic_bits = _mm512_set1_epi32(0x4B400000);
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f), zero = _mm512_setzero_ps();
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i one_bits = _mm512_set1_epi32(0x3F800000);
    __m512 gv = _mm512_maskz_loadu_ps(live, g);
    // u = b/2¹⁶ exactly: the float 1 + b·2⁻¹⁶ minus 1.
    __m512 uv = _mm512_sub_ps(_mm512_castsi512_ps(_mm512_or_si512(_mm512_slli_epi32(b, 7), one_bits)), one);
    __m512 t = _mm512_add_ps(_mm512_mul_ps(gv, inv), uv);
    __m512 c = _mm512_sub_ps(_mm512_add_ps(t, magic), magic);                 // round to nearest even
    c = _mm512_mask_sub_ps(c, _mm512_cmp_ps_mask(c, t, _CMP_GT_OQ), c, one);  // ⌊t⌋
    c = _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(c, lo, _CMP_LT_OQ), lo);
    c = _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(c, hi, _CMP_GT_OQ), hi);
    c = _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(c, c, _CMP_NEQ_UQ), zero); // NaN → 0
    return _mm512_maskz_sub_epi32(live, _mm512_castps_si512(_mm512_add_ps(c, magic)), magic_bits);
}

AVX512 float ql_abs_max_avx512(const float *g, size_t n) {
    __m512 m0 = _mm512_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
    size_t i = 0;
    // max(|x|, m) returns m when |x| is NaN (the second operand): NaN is skipped.
    for (; i + 64 <= n; i += 64) {
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(g + i)), m0);
        m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(g + i + 16)), m1);
        m2 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(g + i + 32)), m2);
        m3 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(g + i + 48)), m3);
    }
    for (; i < n; i += 16) {
        const size_t left = n - i;
        const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(live, g + i)), m0);
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

AVX512 float ql_routed_abs_max_avx512(const float *g, const uint8_t *routes, size_t n) {
    __m512 m0 = _mm512_setzero_ps(), m1 = m0;
    const __m512i four = _mm512_set1_epi32(4);
    size_t i = 0;
    // As ql_abs_max_avx512 over the routed values only (the others are +0 in the full tensor).
    for (; i + 32 <= n; i += 32) {
        const __mmask16 r0 = _mm512_cmplt_epu32_mask(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(routes + i))), four);
        const __mmask16 r1 = _mm512_cmplt_epu32_mask(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(routes + i + 16))), four);
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(r0, g + i)), m0);
        m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(r1, g + i + 16)), m1);
    }
    for (; i < n; i += 16) {
        const size_t left = n - i;
        const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        const __mmask16 r = live & _mm512_cmplt_epu32_mask(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(live, routes + i)), four);
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(r, g + i)), m0);
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}

AVX512 int ql_scaled_codes_avx512(const float *q, size_t n, float scale, int8_t *codes) {
    const __m512 s = _mm512_set1_ps(scale), limit = _mm512_set1_ps(127.0f);
    __mmask16 bad = 0;
    for (size_t i = 0; i < n; i += 16) {
        const size_t left = n - i;
        const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(live, q + i);
        const __m512 j = _mm512_roundscale_ps(_mm512_div_ps(v, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        bad |= live & (_mm512_cmp_ps_mask(_mm512_mul_ps(s, j), v, _CMP_NEQ_UQ) | _mm512_cmp_ps_mask(_mm512_abs_ps(j), limit, _CMP_GT_OQ));
        if (bad) return 0;
        _mm_mask_storeu_epi8(codes + i, live, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(j)));
    }
    return 1;
}

AVX512 void ql_codes_to_values_avx512(const int8_t *codes, size_t n, float scale, float *values) {
    const __m512 sv = _mm512_set1_ps(scale);
    for (size_t i = 0; i < n; i += 16) {
        const size_t left = n - i;
        const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        __m512i q = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(live, codes + i));
        _mm512_mask_storeu_ps(values + i, live, _mm512_mul_ps(_mm512_cvtepi32_ps(q), sv));
    }
}

void ql_im2row_offset_u8(const int8_t *codes, size_t n, size_t channels, size_t height, size_t width,
                       size_t kernel, size_t padding, uint8_t *rows) {
    const long k = (long)kernel, c = (long)channels, h = (long)height, w = (long)width, p = (long)padding;
    const long oh = h + 2 * p - k + 1, ow = w + 2 * p - k + 1, r = k * k * c;
    for (long b = 0; b < (long)n; b++) {
        const int8_t *image = codes + b * h * w * c;
        for (long i = 0; i < oh; i++)
            for (long j = 0; j < ow; j++) {
                uint8_t *dst = rows + ((b * oh + i) * ow + j) * r;
                for (long ki = 0; ki < k; ki++) {
                    const long ih = i - p + ki;
                    for (long kj = 0; kj < k; kj++) {
                        const long iw = j - p + kj;
                        uint8_t *d = dst + (ki * k + kj) * c;
                        if (ih < 0 || ih >= h || iw < 0 || iw >= w) {
                            for (long q = 0; q < c; q++) d[q] = 0x80;
                        } else {
                            const int8_t *s = image + (ih * w + iw) * c;
                            for (long q = 0; q < c; q++) d[q] = (uint8_t)s[q] ^ 0x80;
                        }
                    }
                }
            }
    }
}

/// d[0 … len) = s[0 … len) ^ 0x80 (s8 code → u8 code + 128), 64 bytes at a time.
AVX512 static inline void offset_copy_u8(uint8_t *d, const int8_t *s, long len) {
    const __m512i x80 = _mm512_set1_epi8((char)0x80);
    long q = 0;
    for (; q + 64 <= len; q += 64) _mm512_storeu_si512(d + q, _mm512_xor_si512(_mm512_loadu_si512(s + q), x80));
    if (q < len) {
        const __mmask64 tail = (1ull << (len - q)) - 1;
        _mm512_mask_storeu_epi8(d + q, tail, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, s + q), x80));
    }
}

/// d[0 … len) = 0x80 (code 0 + 128).
AVX512 static inline void offset_zero_u8(uint8_t *d, long len) {
    const __m512i x80 = _mm512_set1_epi8((char)0x80);
    long q = 0;
    for (; q + 64 <= len; q += 64) _mm512_storeu_si512(d + q, x80);
    if (q < len) _mm512_mask_storeu_epi8(d + q, (1ull << (len - q)) - 1, x80);
}

AVX512 void ql_im2row_offset_u8_avx512(const int8_t *codes, size_t n, size_t channels, size_t height, size_t width,
                                       size_t kernel, size_t padding, uint8_t *rows) {
    const long k = (long)kernel, c = (long)channels, h = (long)height, w = (long)width, p = (long)padding;
    const long oh = h + 2 * p - k + 1, ow = w + 2 * p - k + 1, r = k * k * c;
    for (long b = 0; b < (long)n; b++) {
        const int8_t *image = codes + b * h * w * c;
        for (long i = 0; i < oh; i++)
            for (long j = 0; j < ow; j++) {
                uint8_t *dst = rows + ((b * oh + i) * ow + j) * r;
                // Taps kj with 0 ≤ j − p + kj < w: lo ≤ kj < hi, consecutive pixels of one
                // image row, so one run of (hi − lo)·C bytes per tap row ki.
                long lo = p - j, hi = w + p - j;
                if (lo < 0) lo = 0;
                if (hi > k) hi = k;
                if (hi < lo) hi = lo;
                for (long ki = 0; ki < k; ki++) {
                    const long ih = i - p + ki;
                    uint8_t *d = dst + ki * k * c;
                    if (ih < 0 || ih >= h || hi == lo) { offset_zero_u8(d, k * c); continue; }
                    if (lo > 0) offset_zero_u8(d, lo * c);
                    offset_copy_u8(d + lo * c, image + (ih * w + j - p + lo) * c, (hi - lo) * c);
                    if (hi < k) offset_zero_u8(d + hi * c, (k - hi) * c);
                }
            }
    }
}

/// In each 128-bit lane L: y[j] byte i = x[i] byte j, the 16 × 16 byte transpose of
/// the lanes L of x[0 … 15] (four at once), in four rounds of unpacks (bytes, 16-bit
/// pairs, 32-bit quads, 64-bit halves).
AVX512 static inline void transpose16x16x4_u8(const __m512i x[16], __m512i y[16]) {
    __m512i a[16], b[16], c[16];
    // a[2g + h]: rows 2g, 2g + 1 interleaved, columns 8h … 8h + 7.
    for (int g = 0; g < 8; g++) {
        a[2 * g] = _mm512_unpacklo_epi8(x[2 * g], x[2 * g + 1]);
        a[2 * g + 1] = _mm512_unpackhi_epi8(x[2 * g], x[2 * g + 1]);
    }
    // b[4q + s]: rows 4q … 4q + 3, columns 4s … 4s + 3.
    for (int q = 0; q < 4; q++)
        for (int h = 0; h < 2; h++) {
            b[4 * q + 2 * h] = _mm512_unpacklo_epi16(a[4 * q + h], a[4 * q + 2 + h]);
            b[4 * q + 2 * h + 1] = _mm512_unpackhi_epi16(a[4 * q + h], a[4 * q + 2 + h]);
        }
    // c[8o + t]: rows 8o … 8o + 7, columns 2t, 2t + 1.
    for (int o = 0; o < 2; o++)
        for (int s = 0; s < 4; s++) {
            c[8 * o + 2 * s] = _mm512_unpacklo_epi32(b[8 * o + s], b[8 * o + 4 + s]);
            c[8 * o + 2 * s + 1] = _mm512_unpackhi_epi32(b[8 * o + s], b[8 * o + 4 + s]);
        }
    for (int t = 0; t < 8; t++) {
        y[2 * t] = _mm512_unpacklo_epi64(c[t], c[8 + t]);
        y[2 * t + 1] = _mm512_unpackhi_epi64(c[t], c[8 + t]);
    }
}

/// d[0 … 15] = v where `live` (channels of a pixel): a plain store when all 16 are (a
/// masked 16-byte store, four a window, was a quarter of the pooled-gradient codes
/// kernel's samples, perf, cifar3 g8).
AVX512 static inline void store_codes16(int8_t *d, __mmask16 live, __m128i v) {
    if (live == 0xFFFF) _mm_storeu_si128((__m128i *)d, v);
    else _mm_mask_storeu_epi8(d, live, v);
}

#define RNG_ATTR AVX512
#define RNG_MUL64 _mm512_mullox_epi64
#define RNG_SUFFIX avx512
#include "grad_rng.h"
#undef RNG_ATTR
#undef RNG_MUL64
#undef RNG_SUFFIX
#define RNG_ATTR AVX512DQ
#define RNG_MUL64 _mm512_mullo_epi64
#define RNG_SUFFIX avx512dq
#include "grad_rng.h"

/// The bytes c … c + 15 (lanes `live`) of the pixel at image + at, zero where at < 0.
AVX512 static inline __m128i pixel_codes16(const uint8_t *image, long at, long c, __mmask16 live) {
    return _mm_maskz_loadu_epi8(at < 0 ? 0 : live, image + (at < 0 ? 0 : at) + c);
}

/// y[q] (q < 16): byte c + q (lanes `live`) of the 64 pixels at image + at[t] (t < 64,
/// zero where at[t] < 0), as 64 bytes in t order: lane L of x[q] holds pixel 16L + q,
/// so after the transpose y[q] is channel c + q of all 64, one 64-byte store a channel.
AVX512 static inline void channel_rows64(const uint8_t *image, const long at[64], long c, __mmask16 live, __m512i y[16]) {
    __m512i x[16];
    for (long q = 0; q < 16; q++) {
        const __m512i v = _mm512_castsi128_si512(pixel_codes16(image, at[q], c, live));
        x[q] = _mm512_inserti32x4(_mm512_inserti32x4(_mm512_inserti32x4(v,
                   pixel_codes16(image, at[16 + q], c, live), 1),
                   pixel_codes16(image, at[32 + q], c, live), 2),
                   pixel_codes16(image, at[48 + q], c, live), 3);
    }
    transpose16x16x4_u8(x, y);
}

/// Bits from …< to of the bitmap m (64 bits a word) set.
static inline void set_bits(uint64_t *m, long from, long to) {
    while (from < to) {
        const long bit = from % 64, count = to - from < 64 - bit ? to - from : 64 - bit;
        m[from / 64] |= (count == 64 ? ~0ull : ((1ull << count) - 1)) << bit;
        from += count;
    }
}

/// ql_im2col_codes_u8_avx512 where every tap reads its image at one fixed shift (stride
/// 1 and OW = W: position t = i·W + j reads pixel t + (ki − P)·W + (kj − P)): each image's
/// codes are transposed once into channel planes (scratch), then a tap's row of an image
/// is its channel plane read at the shift, 64 positions a masked load (the mask: positions
/// whose tap is inside the image) and one store. The general form transposes every tap's
/// pixels again (KH·KW transposes of each image where this does one: cifar3 conv2 and
/// conv3 shapes, 5.3 % of g8 training, perf). Returns 0 (nothing written) when the
/// scratch cannot be allocated.
AVX512 static int im2col_codes_shifted(const uint8_t *codes, long n, long C, long H, long W, long KH, long KW, long P,
                                       uint8_t *cols) {
    const long OH = H + 2 * P - KH + 1, plane = OH * W, np = n * plane, hw = H * W;
    const long blocks = (plane + 63) / 64, taps = KH * KW;
    // A plane: `before` bytes (the most negative shift), the pixels, then room for the
    // last block's load at the most positive shift (and for 64-byte stores of the pixels).
    const long before = P * W + P, after = (KH - 1 - P) * W + (KW - 1 - P);
    const long pixels = (hw + 63) / 64 * 64, reach = 64 * blocks + (after > 0 ? after : 0);
    const long stride = before + (pixels > reach ? pixels : reach);
    uint64_t *masks = malloc((size_t)(taps * blocks) * sizeof(uint64_t) + (size_t)(C * stride));
    if (!masks) return 0;
    uint8_t *planes = (uint8_t *)(masks + taps * blocks);
    for (long ki = 0; ki < KH; ki++)
        for (long kj = 0; kj < KW; kj++) {
            uint64_t *m = masks + (ki * KW + kj) * blocks;
            long lo, hi;
            valid_columns(P, kj, W, W, &lo, &hi);
            for (long b = 0; b < blocks; b++) m[b] = 0;
            for (long i = 0; i < OH; i++)
                if (i - P + ki >= 0 && i - P + ki < H) set_bits(m, i * W + lo, i * W + hi);
        }
    long at[64];
    for (long b = 0; b < n; b++) {
        const uint8_t *image = codes + b * hw * C;
        for (long p0 = 0; p0 < hw; p0 += 64) {
            for (long t = 0; t < 64; t++) at[t] = p0 + t < hw ? (p0 + t) * C : -1;
            for (long c = 0; c < C; c += 16) {
                const long nc = C - c < 16 ? C - c : 16;
                __m512i y[16];
                channel_rows64(image, at, c, nc == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1u), y);
                for (long q = 0; q < nc; q++) _mm512_storeu_si512(planes + (c + q) * stride + before + p0, y[q]);
            }
        }
        for (long c = 0; c < C; c++)
            for (long ki = 0; ki < KH; ki++)
                for (long kj = 0; kj < KW; kj++) {
                    const uint8_t *src = planes + c * stride + before + (ki - P) * W + (kj - P);
                    const uint64_t *m = masks + (ki * KW + kj) * blocks;
                    uint8_t *dst = cols + ((c * KH + ki) * KW + kj) * np + b * plane;
                    for (long k = 0; k < blocks; k++) {
                        const __m512i v = _mm512_maskz_loadu_epi8(m[k], src + 64 * k);
                        if (64 * k + 64 <= plane) _mm512_storeu_si512(dst + 64 * k, v);
                        else _mm512_mask_storeu_epi8(dst + 64 * k, (1ull << (plane - 64 * k)) - 1, v);
                    }
                }
    }
    free(masks);
    return 1;
}

AVX512 void ql_im2col_codes_u8_avx512(const uint8_t *codes, size_t n, size_t channels, size_t height, size_t width,
                                      size_t kernel_h, size_t kernel_w, size_t stride, size_t padding, uint8_t *cols) {
    const long C = (long)channels, H = (long)height, W = (long)width, KH = (long)kernel_h, KW = (long)kernel_w;
    const long S = (long)stride, P = (long)padding;
    const long OH = (H + 2 * P - KH) / S + 1, OW = (W + 2 * P - KW) / S + 1;
    if (S == 1 && OW == W && im2col_codes_shifted(codes, (long)n, C, H, W, KH, KW, P, cols)) return;
    const long plane = OH * OW, np = (long)n * plane, channel_stride = KH * KW * np;
    // Positions (i, j) of a tap's plane are consecutive in its rows (i·OW + j): blocks of
    // 64 positions × 16 channels transposed (channel_rows64), one 64-byte store per channel
    // row. (16-byte stores, one per row and 16 positions, spread over every row of the
    // columns were most of this pass: perf.)
    long at[64];   // byte offset of each position's pixel in an image, −1 outside it (the same for every image)
    for (long ki = 0; ki < KH; ki++)
        for (long kj = 0; kj < KW; kj++)
            for (long p0 = 0; p0 < plane; p0 += 64) {
                for (long t = 0, i = p0 / OW, j = p0 % OW; t < 64; t++) {
                    const long ih = i * S - P + ki, iw = j * S - P + kj;
                    at[t] = p0 + t < plane && ih >= 0 && ih < H && iw >= 0 && iw < W ? (ih * W + iw) * C : -1;
                    if (++j == OW) { j = 0; i++; }
                }
                const __mmask64 positions = plane - p0 >= 64 ? ~0ull : (1ull << (plane - p0)) - 1;
                for (long b = 0; b < (long)n; b++) {
                    const uint8_t *image = codes + b * H * W * C;
                    uint8_t *tap = cols + (ki * KW + kj) * np + b * plane + p0;   // channel c: + c·channel_stride
                    for (long c = 0; c < C; c += 16) {
                        const long nc = C - c < 16 ? C - c : 16;
                        __m512i y[16];
                        channel_rows64(image, at, c, nc == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1u), y);
                        for (long q = 0; q < nc; q++) _mm512_mask_storeu_epi8(tap + (c + q) * channel_stride, positions, y[q]);
                    }
                }
            }
}

/// BFloat16.bits of 16 floats: round to nearest even, NaN → its top half | 0x40.
AVX512 static inline __m256i bf16_bits(__m512 v) {
    const __m512i b = _mm512_castps_si512(v);
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(b, _mm512_set1_epi32(0x7FFF)),
                                                          _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1))), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(b, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x7F800000));
    const __m512i q = _mm512_or_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(r, nan, q));
}

AVX512 void ql_im2col_s1_bf16_avx512(const float *x, size_t n, size_t channels, size_t height, size_t width,
                                     size_t kernel_h, size_t kernel_w, size_t padding, uint16_t *col) {
    const long oh = (long)height + 2 * (long)padding - (long)kernel_h + 1;
    const long ow = (long)width + 2 * (long)padding - (long)kernel_w + 1;
    const long plane = oh * ow, cols = (long)n * plane, hw = (long)(height * width), p = (long)padding;
    for (long c = 0; c < (long)channels; c++)
        for (long b = 0; b < (long)n; b++) {
            const float *src = x + (b * (long)channels + c) * hw;
            for (long ki = 0; ki < (long)kernel_h; ki++)
                for (long kj = 0; kj < (long)kernel_w; kj++) {
                    const long row = (c * (long)kernel_h + ki) * (long)kernel_w + kj;
                    uint16_t *d = col + row * cols + b * plane;
                    long lo, hi;
                    valid_columns(p, kj, (long)width, ow, &lo, &hi);
                    for (long i = 0; i < oh; i++) {
                        const long ih = i - p + ki;
                        uint16_t *drow = d + i * ow;
                        if (ih < 0 || ih >= (long)height) {
                            for (long j = 0; j < ow; j += 16)
                                _mm256_mask_storeu_epi16(drow + j, lanes(j, 0, ow), _mm256_setzero_si256());
                            continue;
                        }
                        const float *srow = src + ih * (long)width - p + kj;   // srow[j]: column j's tap
                        for (long j = 0; j < ow; j += 16) {
                            __m512 v = _mm512_maskz_loadu_ps(lanes(j, lo, hi), srow + j);
                            _mm256_mask_storeu_epi16(drow + j, lanes(j, 0, ow), bf16_bits(v));
                        }
                    }
                }
        }
}

AVX512 void ql_s32_transpose_scale_avx512(const int32_t *src, size_t rows, size_t cols, const int32_t *offset,
                                          float scale, int accumulate, float *dst, size_t ld) {
    const __m512 sv = _mm512_set1_ps(scale);
    // Blocks of 16 rows × 16 columns, transposed in registers: column c of the block
    // becomes 16 consecutive floats of dst row c (rows past the end load as 0 and are
    // not stored). The gathers this replaces (one per column of 16 rows) were 2.8 % of
    // cifar3 g8 training (perf).
    for (size_t r = 0; r < rows; r += 16) {
        const size_t left = rows - r, nr = left < 16 ? left : 16;
        const __mmask16 live = (__mmask16)((1u << nr) - 1u);
        for (size_t c = 0; c < cols; c += 16) {
            const size_t nc = cols - c < 16 ? cols - c : 16;
            const __mmask16 cl = (__mmask16)((1u << nc) - 1u);
            __m512i x[16], y[16];
            for (size_t i = 0; i < 16; i++)
                x[i] = i < nr ? _mm512_maskz_loadu_epi32(cl, src + (r + i) * cols + c) : _mm512_setzero_si512();
            transpose16x16_epi32(x, y);
            for (size_t j = 0; j < nc; j++) {
                __m512i v = y[j];
                if (offset) v = _mm512_sub_epi32(v, _mm512_set1_epi32(offset[c + j]));
                __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), sv);
                float *d = dst + (c + j) * ld + r;
                if (accumulate) f = _mm512_add_ps(_mm512_maskz_loadu_ps(live, d), f);
                _mm512_mask_storeu_ps(d, live, f);
            }
        }
    }
}

AVX512 void ql_s32_scale_avx512(const int32_t *src, size_t n, float scale, float *dst) {
    const __m512 sv = _mm512_set1_ps(scale);
    for (size_t i = 0; i < n; i += 16) {
        const size_t left = n - i;
        const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        __m512i v = _mm512_maskz_loadu_epi32(live, src + i);
        _mm512_mask_storeu_ps(dst + i, live, _mm512_mul_ps(_mm512_cvtepi32_ps(v), sv));
    }
}

AVX512 void ql_s32_rows_scale_avx512(const int32_t *src, size_t rows, size_t cols, const int32_t *row_offset,
                                     float scale, int accumulate, float *dst) {
    const __m512 sv = _mm512_set1_ps(scale);
    for (size_t r = 0; r < rows; r++) {
        const __m512i off = _mm512_set1_epi32(row_offset ? row_offset[r] : 0);
        const int32_t *s = src + r * cols;
        float *d = dst + r * cols;
        for (size_t c = 0; c < cols; c += 16) {
            const size_t left = cols - c;
            const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
            __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(live, s + c), off);
            __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), sv);
            if (accumulate) f = _mm512_add_ps(_mm512_maskz_loadu_ps(live, d + c), f);
            _mm512_mask_storeu_ps(d + c, live, f);
        }
    }
}
