// Binary (XNOR-popcount) kernels and CPU feature detection for quantlab's packed
// inference engine, with run-time dispatch over instruction sets.
#ifndef QUANTLAB_CBITKERNELS_H
#define QUANTLAB_CBITKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// CPU features, read once with cpuid (and xgetbv: a feature counts only when the
/// operating system saves the registers it needs).
enum {
    QL_CPU_POPCNT = 1u << 0,
    QL_CPU_AVX2 = 1u << 1,
    QL_CPU_FMA = 1u << 2,
    QL_CPU_AVX512F = 1u << 3,
    QL_CPU_AVX512BW = 1u << 4,
    QL_CPU_AVX512VL = 1u << 5,
    QL_CPU_AVX512_VNNI = 1u << 6,
    QL_CPU_AVX512_BF16 = 1u << 7,
    QL_CPU_AVX512_VPOPCNTDQ = 1u << 8,
    QL_CPU_AVX_VNNI = 1u << 9,
    QL_CPU_AMX_INT8 = 1u << 10,
    QL_CPU_AMX_BF16 = 1u << 11,
    QL_CPU_AVX512DQ = 1u << 12,
};
uint32_t ql_cpu_features(void);

/// Implementations of the XNOR-popcount GEMM, slowest first.
enum {
    QL_XNOR_PORTABLE = 0,   // C, no popcnt instruction (bit tricks)
    QL_XNOR_POPCNT = 1,     // scalar popcnt, one 64-bit word at a time
    QL_XNOR_AVX2 = 2,       // 256-bit, nibble-table popcount (vpshufb + vpsadbw)
    QL_XNOR_AVX512 = 3,     // 512-bit ternary logic + VPOPCNTDQ
};
/// Whether this CPU runs `level`.
int ql_xnor_supported(int level);

/// Filters are packed in blocks of 8: wb[(b·words + j)·8 + f] = word j of filter 8b + f
/// (filters padded to a multiple of 8 with zero words). Returns the wb length in words.
size_t ql_xnor_packed_length(size_t filters, size_t words);
void ql_xnor_pack_filters(const uint64_t *w, size_t filters, size_t words, uint64_t *wb);

/// out[i·ldo + f] = valid_i − 2·popcount((x_i ⊕ w_f) ∧ mask_i) over `words` 64-bit words,
/// for rows i < rows and filters f < filters: the dot product of ±1 vectors whose bits
/// are 1 for +1, restricted to the `valid_i` positions set in mask_i (mask NULL: all
/// positions; valid_i = valid[i], or valid_all when valid is NULL). Rows x_i and mask_i
/// are `words` words each, consecutive; wb comes from ql_xnor_pack_filters.
void ql_xnor_gemm(int level, const uint64_t *x, const uint64_t *mask, const int32_t *valid, int32_t valid_all,
                  size_t rows, size_t words, const uint64_t *wb, size_t filters, int32_t *out, size_t ldo);

/// Max pooling of NHWC sign bits: output position (y, x) of sample b is the OR of the
/// window×window input positions (y·S + u, x·S + v), words_per_position words each
/// (the maximum of ±1 values is +1 when any is). Samples are in_half_words and
/// out_half_words 32-bit words apart; an odd output count's padding word is zeroed.
typedef struct {
    const uint32_t *x; size_t batch, height, width, words_per_position, window, stride;
    size_t out_height, out_width, in_half_words, out_half_words; uint32_t *y;
} ql_maxpool_bits_args;
void ql_maxpool_bits(const ql_maxpool_bits_args *a);

/// Sign bits (NHWC, words_per_position 32-bit words a position, samples
/// half_words_per_sample apart) to the ±1 floats they stand for, NCHW:
/// y[(b·channels + c)·positions + p] = bit c of position p ? +1 : −1.
void ql_bits_to_floats(const uint32_t *x, size_t batch, size_t channels, size_t positions, size_t words_per_position,
                       size_t half_words_per_sample, float *y);

/// NHWC u8 codes to the floats step·code they stand for, NCHW:
/// y[(b·channels + c)·positions + p] = step · x[(b·positions + p)·channels + c].
void ql_codes_to_floats(const uint8_t *x, size_t batch, size_t channels, size_t positions, float step, float *y);
/// Max pooling of NHWC u8 codes: y[b, y, x, c] = max over the window of x[b, ·, ·, c].
typedef struct {
    const uint8_t *x; size_t batch, height, width, channels, window, stride;
    size_t out_height, out_width; uint8_t *y;
} ql_maxpool_codes_args;
void ql_maxpool_codes(const ql_maxpool_codes_args *a);

#endif

#ifndef QUANTLAB_CBITKERNELS_EPILOGUE
#define QUANTLAB_CBITKERNELS_EPILOGUE
/// The packed engine's most common epilogue, vectorised: for rows r < rows and
/// channels k < channels,
///     v = (float)acc[r·ld + k] · scale[k] + bias[k]      (acc != NULL)
///     v = fsrc[r·ld + k·ldk] + bias[k]                   (otherwise)
///     v = v < 0 ? 0 : v                                  (relu != 0)
/// then, output 0: codes[(first_row + r)·channels + k] = roundEven(clamp(v, 0, clip)·inverse)
/// (NaN → 0, at most top); output 1: bit k of position (first_row + r) of the NHWC sign
/// bits (v ≥ 0 → 1), positions per sample, words_per_position 32-bit words per position,
/// samples half_words_per_sample 32-bit words apart (a padding word after an odd count
/// is zeroed). Float arithmetic in the order written, no contraction: the same values
/// as the Swift epilogue and the float path.
typedef struct {
    const int32_t *acc; const float *fsrc; size_t ld, ldk; size_t rows; size_t channels;
    const float *scale; const float *bias; int relu;
    int output; float clip, inverse, top; uint8_t *codes;
    uint32_t *half; size_t first_row, positions, words_per_position, half_words_per_sample;
    float *scratch;   /* channels floats */
} ql_epilogue_args;
void ql_epilogue(const ql_epilogue_args *a);
#endif

#ifndef QUANTLAB_CBITKERNELS_CONV_DIRECT
#define QUANTLAB_CBITKERNELS_CONV_DIRECT
/// Direct float convolution, position-major output (conv_direct.c): for image b < batch,
/// output position (i, j) and filter k < filters,
///     out[((b·OH + i)·OW + j)·ldo + k] = Σ over taps (c, ki, kj) inside the image, in that
///         order, acc = fmaf(x[b, c, i·S − P + ki, j·S − P + kj], wt[r·filters_padded + k], acc)
/// with r = (c·KH + ki)·KW + kj, x NCHW, wt the weights [R, filters_padded] (transposed,
/// zero past `filters`; filters_padded from ql_conv_direct_padded_filters). Level 2 uses
/// AVX-512, 1 AVX2 + FMA, 0 plain C, each only where the CPU has it; all give the same bits.
/// With `bits` set, no floats are written: bit k of position p of sample b, in the NHWC
/// sign-bit layout of ql_epilogue (words_per_position 32-bit words per position, samples
/// half_words_per_sample words apart, an odd count's padding word zeroed), is
/// (out + bias[k] ≥ 0), NaN → 0: the epilogue of a layer with no operations fused in.
/// With `codes` set instead, codes[((b·OH + i)·OW + j)·filters + k] (NHWC u8) is the
/// code of out + bias[k] as ql_epilogue's output 0 computes it (clip, inverse, top; a
/// ReLU before it changes nothing, the clamp at 0 includes it).
typedef struct {
    const float *x; size_t batch, channels, height, width;
    size_t kernel_h, kernel_w, stride, padding, out_height, out_width;
    const float *wt; size_t filters, filters_padded;
    float *out; size_t ldo;
    const float *bias; uint32_t *bits; size_t words_per_position, half_words_per_sample;
    uint8_t *codes; float clip, inverse, top;
} ql_conv_direct_args;
size_t ql_conv_direct_padded_filters(size_t filters);
void ql_conv_direct(int level, const ql_conv_direct_args *a);
#endif

#ifndef QUANTLAB_CBITKERNELS_XNOR_CONV
#define QUANTLAB_CBITKERNELS_XNOR_CONV
/// Direct binary convolution over NHWC sign bits (xnor_conv.c): for sample b < batch
/// (x: words_per_position 32-bit words per input position, samples half_words_per_sample
/// words apart; bits past `channels` 0), output position (i, j) and filter k < filters,
///     dot = Σ over taps (ki, kj) inside the image, words q < words_per_position, of
///           32 − 2·popcount(x[(ih·W + iw)·C32 + q] ⊕ wt[((ki·KW + kj)·C32 + q)·filters_padded + k])
///         = channels · (taps inside) − 2 · Σ popcount(…)
/// (the ±1 dot product; weights' bits past `channels` 0, filters_padded from
/// ql_xnor_conv_padded_filters, zero words past `filters`). bits NULL: out[((b·OH + i)·OW
/// + j)·ldo + k] = dot. Otherwise bit k of the position's words in the NHWC sign-bit
/// layout of ql_epilogue (out_words_per_position ≤ 64 words a position, samples
/// out_half_words_per_sample apart, an odd count's padding word zeroed) is
/// ((float)dot · scale[k] + bias[k] ≥ 0), NaN → 0: ql_epilogue's arithmetic for a layer
/// with no operations before its sign quantizer. Levels as ql_xnor_gemm (AVX-512
/// VPOPCNTDQ, else scalar popcnt, else portable C), each only where the CPU has it; all
/// give the same results.
typedef struct {
    const uint32_t *x; size_t batch, half_words_per_sample, channels, words_per_position;
    size_t height, width, kernel_h, kernel_w, stride, padding, out_height, out_width;
    const uint32_t *wt; size_t filters, filters_padded;
    int32_t *out; size_t ldo;
    const float *scale, *bias; uint32_t *bits; size_t out_words_per_position, out_half_words_per_sample;
} ql_xnor_conv_args;
size_t ql_xnor_conv_padded_filters(size_t filters);
void ql_xnor_conv(int level, const ql_xnor_conv_args *a);
#endif
