#include "CBitKernels.h"
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

void ql_maxpool_codes(const ql_maxpool_codes_args *a) {
    const size_t c = a->channels, k = a->window, S = a->stride, W = a->width, H = a->height;
    const size_t oh = a->out_height, ow = a->out_width;
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

void ql_bits_to_floats(const uint32_t *x, size_t batch, size_t channels, size_t positions, size_t words_per_position,
                       size_t half_words_per_sample, float *y) {
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
