// The SplitMix64 kernels of grad_kernels.c, compiled twice there: RNG_SUFFIX avx512
// (64-bit products emulated with 32-bit ones: avx512f has no vpmullq) and avx512dq
// (vpmullq), the same draws either way. RNG_ATTR is the target attribute, RNG_MUL64
// the 64-bit low product. Private to the target.

#define RNG_CAT2(a, b) a##b
#define RNG_CAT(a, b) RNG_CAT2(a, b)
#define RNG_FN(name) RNG_CAT(name, RNG_SUFFIX)

/// SplitMix64's output function of eight states.
RNG_ATTR static inline __m512i RNG_FN(mix64_)(__m512i z) {
    const __m512i m1 = _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull);
    const __m512i m2 = _mm512_set1_epi64((long long)0x94D049BB133111EBull);
    z = RNG_MUL64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), m1);
    z = RNG_MUL64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), m2);
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

/// Draws d … d + 7 of the stream after `state` (draw d: the output of state + γ·(d + 1)).
RNG_ATTR static inline __m512i RNG_FN(draws8_)(uint64_t state, size_t d) {
    const uint64_t gamma = 0x9E3779B97F4A7C15ull;
    const __m512i steps = _mm512_setr_epi64(0, (long long)gamma, (long long)(2 * gamma), (long long)(3 * gamma),
                                            (long long)(4 * gamma), (long long)(5 * gamma), (long long)(6 * gamma),
                                            (long long)(7 * gamma));
    return RNG_FN(mix64_)(_mm512_add_epi64(_mm512_set1_epi64((long long)(state + gamma * (uint64_t)(d + 1))), steps));
}

/// The words of a run of 16-wide blocks of consecutive elements e0 + 16b + l (l < 16):
/// 8 draws (32 words) serve two blocks, so a block costs 4 draws, not the 8 that a
/// block's own 5 draws took in one vector. `cur` holds draws ⌊e0/4⌋ + 8⌊b/2⌋ …;
/// block b takes words s + 16(b mod 2) … of cur (s = e0 mod 4), an odd block
/// running into the next 8 draws, which then become cur.
typedef struct { __m512i cur; __m512i even, odd; size_t next; } RNG_FN(word_run_);

RNG_ATTR static inline RNG_FN(word_run_) RNG_FN(word_run_start_)(uint64_t state, size_t e0) {
    RNG_FN(word_run_) w;
    const __m256i base = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m256i s = _mm256_set1_epi16((short)(e0 & 3));
    w.even = _mm512_castsi256_si512(_mm256_add_epi16(base, s));
    w.odd = _mm512_castsi256_si512(_mm256_add_epi16(_mm256_add_epi16(base, s), _mm256_set1_epi16(16)));
    w.cur = RNG_FN(draws8_)(state, e0 >> 2);
    w.next = (e0 >> 2) + 8;
    return w;
}

/// The 16 words of block b (b = 0, 1, 2, … in turn), zero-extended to 32 bits.
RNG_ATTR static inline __m512i RNG_FN(word_run_block_)(RNG_FN(word_run_) *w, uint64_t state, size_t b) {
    __m512i v;
    if ((b & 1) == 0) {
        v = _mm512_permutexvar_epi16(w->even, w->cur);
    } else {
        const __m512i next = RNG_FN(draws8_)(state, w->next);
        v = _mm512_permutex2var_epi16(w->cur, w->odd, next);   // index ≥ 32: a word of `next`
        w->cur = next;
        w->next += 8;
    }
    return _mm512_cvtepu16_epi32(_mm512_castsi512_si256(v));
}

RNG_ATTR void RNG_FN(ql_grad_codes_nhwc_)(const float *g, size_t m, size_t channels, size_t plane,
                                          float inverse, uint64_t state, int8_t *codes, int32_t *sums) {
    const __m512 inv = _mm512_set1_ps(inverse);
    const __m512i byte = _mm512_set1_epi32(0xFF);
    // Positions j..j+15 of channels k..k+3 go out as 16 dwords of 4 channel bytes each,
    // scattered to codes[(j + l)·K + k] (K a multiple of 4); other K byte by byte.
    const __m512i offsets = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32((int)channels));
    const size_t k4 = channels % 4 == 0 && channels * 16 < (1u << 30) ? channels : 0;
    int8_t lane_codes[16];
    for (size_t i = 0; i < m; i++) {
        int8_t *image = codes + i * plane * channels;
        size_t k = 0;
        for (; k < k4; k += 4) {
            const size_t src = (i * channels + k) * plane;
            RNG_FN(word_run_) w0 = RNG_FN(word_run_start_)(state, src), w1 = RNG_FN(word_run_start_)(state, src + plane);
            RNG_FN(word_run_) w2 = RNG_FN(word_run_start_)(state, src + 2 * plane), w3 = RNG_FN(word_run_start_)(state, src + 3 * plane);
            __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
            for (size_t j = 0, b = 0; j < plane; j += 16, b++) {
                const size_t left = plane - j;
                const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
                __m512i q0 = stochastic_codes16_words(g + src + j, RNG_FN(word_run_block_)(&w0, state, b), live, inv);
                __m512i q1 = stochastic_codes16_words(g + src + plane + j, RNG_FN(word_run_block_)(&w1, state, b), live, inv);
                __m512i q2 = stochastic_codes16_words(g + src + 2 * plane + j, RNG_FN(word_run_block_)(&w2, state, b), live, inv);
                __m512i q3 = stochastic_codes16_words(g + src + 3 * plane + j, RNG_FN(word_run_block_)(&w3, state, b), live, inv);
                s0 = _mm512_add_epi32(s0, q0); s1 = _mm512_add_epi32(s1, q1);
                s2 = _mm512_add_epi32(s2, q2); s3 = _mm512_add_epi32(s3, q3);
                __m512i packed = _mm512_or_si512(
                    _mm512_or_si512(_mm512_and_si512(q0, byte), _mm512_slli_epi32(_mm512_and_si512(q1, byte), 8)),
                    _mm512_or_si512(_mm512_slli_epi32(_mm512_and_si512(q2, byte), 16), _mm512_slli_epi32(q3, 24)));
                _mm512_mask_i32scatter_epi32(image + j * channels + k, live, offsets, packed, 1);
            }
            if (sums) {
                sums[k] += _mm512_reduce_add_epi32(s0); sums[k + 1] += _mm512_reduce_add_epi32(s1);
                sums[k + 2] += _mm512_reduce_add_epi32(s2); sums[k + 3] += _mm512_reduce_add_epi32(s3);
            }
        }
        for (; k < channels; k++) {
            const size_t src = (i * channels + k) * plane;
            RNG_FN(word_run_) wr = RNG_FN(word_run_start_)(state, src);
            __m512i sum = _mm512_setzero_si512();
            for (size_t j = 0, b = 0; j < plane; j += 16, b++) {
                const size_t left = plane - j, n = left < 16 ? left : 16;
                const __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
                __m512i q = stochastic_codes16_words(g + src + j, RNG_FN(word_run_block_)(&wr, state, b), live, inv);
                sum = _mm512_add_epi32(sum, q);
                _mm_storeu_si128((__m128i *)lane_codes, _mm512_cvtepi32_epi8(q));
                for (size_t l = 0; l < n; l++) image[(j + l) * channels + k] = lane_codes[l];
            }
            if (sums) sums[k] += _mm512_reduce_add_epi32(sum);
        }
    }
}

/// The 16-bit words of 16 scattered elements e = e4·4 + j (j: int32 lanes, e4·4 a
/// multiple of 4), zero-extended: word j mod 4 of draw e4 + ⌊j/4⌋, one draw each.
RNG_ATTR static inline __m512i RNG_FN(words_at_)(uint64_t first, __m512i j) {
    const uint64_t gamma = 0x9E3779B97F4A7C15ull;
    // first = state + γ·(e4 + 1); + γ·d, d < 2³² (γ·d mod 2⁶⁴ from two 32 × 32 products).
    const __m512i glo = _mm512_set1_epi64((long long)(gamma & 0xFFFFFFFFull)), ghi = _mm512_set1_epi64((long long)(gamma >> 32));
    const __m512i f = _mm512_set1_epi64((long long)first);
    const __m512i d = _mm512_srli_epi32(j, 2);
    const __m512i shift = _mm512_slli_epi32(_mm512_and_si512(j, _mm512_set1_epi32(3)), 4);
    const __m512i d0 = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(d)), d1 = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(d, 1));
    const __m512i h0 = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(shift)), h1 = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(shift, 1));
    __m512i z0 = _mm512_add_epi64(f, _mm512_add_epi64(_mm512_mul_epu32(d0, glo), _mm512_slli_epi64(_mm512_mul_epu32(d0, ghi), 32)));
    __m512i z1 = _mm512_add_epi64(f, _mm512_add_epi64(_mm512_mul_epu32(d1, glo), _mm512_slli_epi64(_mm512_mul_epu32(d1, ghi), 32)));
    z0 = _mm512_srlv_epi64(RNG_FN(mix64_)(z0), h0);
    z1 = _mm512_srlv_epi64(RNG_FN(mix64_)(z1), h1);
    const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(z0)), _mm512_cvtepi64_epi32(z1), 1);
    return _mm512_and_si512(w, _mm512_set1_epi32(0xFFFF));
}

RNG_ATTR void RNG_FN(ql_grad_codes_pool2_nhwc_)(const float *g, const uint8_t *routes, size_t m, size_t channels,
                                                size_t height, size_t width, float inverse, uint64_t state,
                                                int8_t *codes, int32_t *sums) {
    const uint64_t gamma = 0x9E3779B97F4A7C15ull;
    const long K = (long)channels, W = (long)width, PW = W / 2, PP = (long)(height / 2) * PW, P = (long)height * W;
    const __m512 inv = _mm512_set1_ps(inverse);
    const __m512i four = _mm512_set1_epi32(4), one = _mm512_set1_epi32(1), wv = _mm512_set1_epi32((int)W);
    int32_t pos[64];
    for (long i = 0; i < (long)m; i++) {
        int8_t *image = codes + i * P * K;
        // 64 windows q0 … q0 + 63 (lane L of the transposes: windows q0 + 16L …) × 16 channels.
        for (long q0 = 0; q0 < PP; q0 += 64) {
            const long nq = PP - q0 < 64 ? PP - q0 : 64;
            const __mmask64 live = nq == 64 ? ~0ull : (1ull << nq) - 1;
            long oi = q0 / PW, oj = q0 % PW;
            for (long l = 0; l < 64; l++) {
                pos[l] = l < nq ? (int32_t)(2 * oi * W + 2 * oj) : 0;   // corner 0 of window q0 + l
                if (++oj == PW) { oj = 0; oi++; }
            }
            for (long k0 = 0; k0 < K; k0 += 16) {
                const long nk = K - k0 < 16 ? K - k0 : 16;
                __m512i x[16], xr[16], y[16], yr[16];
                for (long t = 0; t < 16; t++) {
                    if (t >= nk) { x[t] = _mm512_setzero_si512(); xr[t] = _mm512_set1_epi8(4); continue; }
                    const long plane = i * K + k0 + t;
                    const float *gp = g + plane * PP + q0;
                    const __m512i rv = _mm512_maskz_loadu_epi8(live, routes + plane * PP + q0);
                    xr[t] = rv;
                    // Element e = plane·P + j (P a multiple of 4): draw plane·P/4 + ⌊j/4⌋.
                    const uint64_t first = state + gamma * ((uint64_t)(plane * P / 4) + 1);
                    __m512i sum = _mm512_setzero_si512(), codes64 = _mm512_setzero_si512();
                    for (long L = 0; L < 4 && 16 * L < nq; L++) {
                        const __m512i r = _mm512_cvtepu8_epi32(L == 0 ? _mm512_castsi512_si128(rv) : L == 1 ? _mm512_extracti32x4_epi32(rv, 1)
                                                               : L == 2 ? _mm512_extracti32x4_epi32(rv, 2) : _mm512_extracti32x4_epi32(rv, 3));
                        const __mmask16 routed = (__mmask16)(live >> (16 * L)) & _mm512_cmplt_epu32_mask(r, four);
                        // The routed corner: + W for the lower row, + 1 for the right column.
                        const __m512i j = _mm512_add_epi32(_mm512_loadu_si512(pos + 16 * L),
                                                           _mm512_add_epi32(_mm512_mullo_epi32(_mm512_srli_epi32(r, 1), wv), _mm512_and_si512(r, one)));
                        const __m512i q = stochastic_codes16_words(gp + 16 * L, RNG_FN(words_at_)(first, j), routed, inv);
                        sum = _mm512_add_epi32(sum, q);
                        // Lane L of codes64, in registers (16-byte stores read back as one
                        // 64-byte load stalled on store forwarding).
                        const __m128i c = _mm512_cvtepi32_epi8(q);
                        codes64 = L == 0 ? _mm512_inserti32x4(codes64, c, 0) : L == 1 ? _mm512_inserti32x4(codes64, c, 1)
                            : L == 2 ? _mm512_inserti32x4(codes64, c, 2) : _mm512_inserti32x4(codes64, c, 3);
                    }
                    x[t] = codes64;
                    if (sums) sums[k0 + t] += _mm512_reduce_add_epi32(sum);
                }
                transpose16x16x4_u8(x, y);
                transpose16x16x4_u8(xr, yr);
                // y[w] lane L: the codes of channels k0 … k0 + 15 at window q0 + 16L + w, yr[w] their routes:
                // one 16-byte store per corner, the code where the route names it, else 0.
                const __mmask16 kmask = nk == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nk) - 1u);
                for (long L = 0; L < 4 && 16 * L < nq; L++)
                    for (long w = 0; w < 16 && 16 * L + w < nq; w++) {
                        const __m128i c = L == 0 ? _mm512_castsi512_si128(y[w]) : L == 1 ? _mm512_extracti32x4_epi32(y[w], 1)
                            : L == 2 ? _mm512_extracti32x4_epi32(y[w], 2) : _mm512_extracti32x4_epi32(y[w], 3);
                        const __m128i r = L == 0 ? _mm512_castsi512_si128(yr[w]) : L == 1 ? _mm512_extracti32x4_epi32(yr[w], 1)
                            : L == 2 ? _mm512_extracti32x4_epi32(yr[w], 2) : _mm512_extracti32x4_epi32(yr[w], 3);
                        int8_t *d = image + (long)pos[16 * L + w] * K + k0;
                        store_codes16(d, kmask, _mm_maskz_mov_epi8(_mm_cmpeq_epi8_mask(r, _mm_setzero_si128()), c));
                        store_codes16(d + K, kmask, _mm_maskz_mov_epi8(_mm_cmpeq_epi8_mask(r, _mm_set1_epi8(1)), c));
                        store_codes16(d + W * K, kmask, _mm_maskz_mov_epi8(_mm_cmpeq_epi8_mask(r, _mm_set1_epi8(2)), c));
                        store_codes16(d + (W + 1) * K, kmask, _mm_maskz_mov_epi8(_mm_cmpeq_epi8_mask(r, _mm_set1_epi8(3)), c));
                    }
            }
        }
    }
}

#undef RNG_FN
#undef RNG_CAT
#undef RNG_CAT2
