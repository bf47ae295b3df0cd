#include <oneapi/dnnl/dnnl.h>
// Debian's libdnnl runs on OpenMP (libgomp). The thread count is an OpenMP
// per-thread setting: a new thread starts with the process default (all cores),
// so every thread that calls oneDNN sets its own count first.
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);

/// Sets this thread's OpenMP thread count to `n` once (cheap on later calls).
static inline void quantlab_dnnl_thread_setup(int n) {
    static _Thread_local int current = 0;
    if (current != n) { omp_set_num_threads(n); current = n; }
}

// bfloat16 × bfloat16 → fp32 GEMM, row-major, with the contract of dnnl_sgemm
// (A and B as raw bfloat16 bits). libdnnl exports it (src/cpu/gemm/gemm.cpp, 2.x
// and 3.x) but its public header does not declare it; oneDNN's own gtests and Intel's
// TensorFlow extension declare it the same way. It runs avx512_bf16 `vdpbf16ps`
// where present and returns an error status where oneDNN has no bf16 GEMM.
dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M,
        dnnl_dim_t N, dnnl_dim_t K, float alpha, const uint16_t *A,
        dnnl_dim_t lda, const uint16_t *B, dnnl_dim_t ldb, float beta,
        float *C, dnnl_dim_t ldc);

// MARK: - Matmul primitives (Sources/Tensors/Matmul.swift)
//
// C = alpha · op(A) · op(B) + beta · C, row-major, as one oneDNN matmul primitive:
// A is the primitive's source, B its weights, both in their user layouts (strides
// from the transposes and leading dimensions), C plain with row stride ldc. Swift
// caches one per (kind, shape, transposes, strides, alpha, beta) and thread, and
// points its three memory objects at the caller's buffers on every call.

enum { QUANTLAB_MATMUL_U8S8S32 = 0, QUANTLAB_MATMUL_S8S8S32 = 1, QUANTLAB_MATMUL_BF16BF16F32 = 2 };

typedef struct quantlab_matmul {
    dnnl_primitive_t primitive;
    dnnl_memory_t a, b, c;
    char impl[48];   // oneDNN's implementation name, e.g. "brg:avx512_core_amx_int8"
    // The same product with B in the layout oneDNN picks (format_tag any), B reordered
    // into `packed` once and reused while B is unchanged (`quantlab_matmul_add_packing`).
    dnnl_primitive_t packed_primitive, reorder;
    dnnl_memory_t packed;
} quantlab_matmul;

static inline void quantlab_matmul_destroy(quantlab_matmul *mm) {
    if (mm->primitive) dnnl_primitive_destroy(mm->primitive);
    if (mm->packed_primitive) dnnl_primitive_destroy(mm->packed_primitive);
    if (mm->reorder) dnnl_primitive_destroy(mm->reorder);
    if (mm->a) dnnl_memory_destroy(mm->a);
    if (mm->b) dnnl_memory_destroy(mm->b);
    if (mm->c) dnnl_memory_destroy(mm->c);
    if (mm->packed) dnnl_memory_destroy(mm->packed);
    mm->primitive = mm->packed_primitive = mm->reorder = 0;
    mm->a = mm->b = mm->c = mm->packed = 0;
}

/// Copies the descriptor's implementation name into `impl`; returns whether it starts
/// with `prefix`.
static inline int quantlab_matmul_impl(dnnl_primitive_desc_t pd, char *impl, size_t size, const char *prefix) {
    const char *name = 0;
    impl[0] = 0;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name) return 0;
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++) impl[i] = name[i];
    impl[i] = 0;
    for (i = 0; prefix[i]; i++) if (impl[i] != prefix[i]) return 0;
    return 1;
}

/// The matmul descriptor and attributes of C = alpha · op(A) · op(B) + beta · C
/// (B in its user layout, or any layout), as a primitive descriptor: the first
/// implementation whose name starts with `prefer` (oneDNN's list in its order), else
/// (prefer NULL or empty, or none such) oneDNN's own first choice.
static inline dnnl_status_t quantlab_matmul_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
        const dnnl_memory_desc_t *ad, const dnnl_memory_desc_t *bd, const dnnl_memory_desc_t *cd,
        float alpha, float beta, const char *prefer) {
    *pd = 0;
    dnnl_matmul_desc_t md;
    dnnl_status_t s;
    if ((s = dnnl_matmul_desc_init(&md, ad, bd, 0, cd)) != dnnl_success) return s;
    dnnl_primitive_attr_t attr;
    if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success) return s;
    if (alpha != 1) s = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
    if (s == dnnl_success && beta != 0) {
        dnnl_post_ops_t po;
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success) {
            s = dnnl_post_ops_append_sum(po, beta);
            if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
            dnnl_post_ops_destroy(po);
        }
    }
    if (s == dnnl_success && prefer && prefer[0]) {
        dnnl_primitive_desc_iterator_t it;
        if (dnnl_primitive_desc_iterator_create(&it, &md, attr, engine, 0) == dnnl_success) {
            do {
                dnnl_primitive_desc_t candidate = dnnl_primitive_desc_iterator_fetch(it);
                char impl[48];
                if (candidate && quantlab_matmul_impl(candidate, impl, sizeof impl, prefer)) { *pd = candidate; break; }
                if (candidate) dnnl_primitive_desc_destroy(candidate);
            } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
            dnnl_primitive_desc_iterator_destroy(it);
        }
    }
    if (s == dnnl_success && !*pd) s = dnnl_primitive_desc_create(pd, &md, attr, engine, 0);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

/// Creates the primitive (zeroes `mm` first; on failure nothing is left to destroy).
static inline dnnl_status_t quantlab_matmul_create(quantlab_matmul *mm, dnnl_engine_t engine, int kind,
        int transA, int transB, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k,
        dnnl_dim_t lda, dnnl_dim_t ldb, dnnl_dim_t ldc, float alpha, float beta, const char *prefer) {
    mm->primitive = mm->packed_primitive = mm->reorder = 0;
    mm->a = mm->b = mm->c = mm->packed = 0;
    mm->impl[0] = 0;
    dnnl_data_type_t at = kind == QUANTLAB_MATMUL_U8S8S32 ? dnnl_u8 : kind == QUANTLAB_MATMUL_S8S8S32 ? dnnl_s8 : dnnl_bf16;
    dnnl_data_type_t bt = kind == QUANTLAB_MATMUL_BF16BF16F32 ? dnnl_bf16 : dnnl_s8;
    dnnl_data_type_t ct = kind == QUANTLAB_MATMUL_BF16BF16F32 ? dnnl_f32 : dnnl_s32;
    dnnl_memory_desc_t ad, bd, cd;
    dnnl_dims_t da = {m, k}, db = {k, n}, dc = {m, n};
    dnnl_dims_t sa = {transA ? 1 : lda, transA ? lda : 1}, sb = {transB ? 1 : ldb, transB ? ldb : 1}, sc = {ldc, 1};
    dnnl_status_t s;
    if ((s = dnnl_memory_desc_init_by_strides(&ad, 2, da, at, sa)) != dnnl_success) return s;
    if ((s = dnnl_memory_desc_init_by_strides(&bd, 2, db, bt, sb)) != dnnl_success) return s;
    if ((s = dnnl_memory_desc_init_by_strides(&cd, 2, dc, ct, sc)) != dnnl_success) return s;
    dnnl_primitive_desc_t pd;
    if ((s = quantlab_matmul_pd(&pd, engine, &ad, &bd, &cd, alpha, beta, prefer)) != dnnl_success) return s;
    quantlab_matmul_impl(pd, mm->impl, sizeof mm->impl, "");
    s = dnnl_primitive_create(&mm->primitive, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) { mm->primitive = 0; return s; }
    if ((s = dnnl_memory_create(&mm->a, &ad, engine, 0)) != dnnl_success
        || (s = dnnl_memory_create(&mm->b, &bd, engine, 0)) != dnnl_success
        || (s = dnnl_memory_create(&mm->c, &cd, engine, 0)) != dnnl_success) {
        quantlab_matmul_destroy(mm);
        return s;
    }
    return dnnl_success;
}

/// Runs the primitive on the caller's buffers (synchronously: a CPU stream, one thread).
static inline dnnl_status_t quantlab_matmul_execute(quantlab_matmul *mm, dnnl_stream_t stream,
        const void *a, const void *b, void *c) {
    dnnl_status_t s;
    if ((s = dnnl_memory_set_data_handle(mm->a, (void *)a)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(mm->b, (void *)b)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(mm->c, c)) != dnnl_success) return s;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, mm->a}, {DNNL_ARG_WEIGHTS, mm->b}, {DNNL_ARG_DST, mm->c}};
    if ((s = dnnl_primitive_execute(mm->primitive, stream, 3, args)) != dnnl_success) return s;
    return dnnl_stream_wait(stream);
}


/// Adds the packed form to a created `mm`: the primitive with B in oneDNN's layout
/// (the implementation chosen as for `prefer`), the reorder into it and its memory.
/// Returns 0 (nothing added) unless that primitive's implementation name starts with
/// `prefix` too.
static inline int quantlab_matmul_add_packing(quantlab_matmul *mm, dnnl_engine_t engine, float alpha, float beta,
        const char *prefix, const char *prefer) {
    const dnnl_memory_desc_t *ad, *bd, *cd;
    if (dnnl_memory_get_memory_desc(mm->a, &ad) != dnnl_success || dnnl_memory_get_memory_desc(mm->b, &bd) != dnnl_success
        || dnnl_memory_get_memory_desc(mm->c, &cd) != dnnl_success) return 0;
    dnnl_memory_desc_t any;
    if (dnnl_memory_desc_init_by_tag(&any, 2, bd->dims, bd->data_type, dnnl_format_tag_any) != dnnl_success) return 0;
    dnnl_primitive_desc_t pd, rpd;
    if (quantlab_matmul_pd(&pd, engine, ad, &any, cd, alpha, beta, prefer) != dnnl_success) return 0;
    char impl[48];
    const dnnl_memory_desc_t *wd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    int ok = quantlab_matmul_impl(pd, impl, sizeof impl, prefix) && wd
        && dnnl_primitive_create(&mm->packed_primitive, pd) == dnnl_success;
    if (ok) ok = dnnl_memory_create(&mm->packed, wd, engine, DNNL_MEMORY_ALLOCATE) == dnnl_success;
    if (ok) ok = dnnl_reorder_primitive_desc_create(&rpd, bd, engine, wd, engine, 0) == dnnl_success;
    if (ok) {
        ok = dnnl_primitive_create(&mm->reorder, rpd) == dnnl_success;
        dnnl_primitive_desc_destroy(rpd);
    }
    dnnl_primitive_desc_destroy(pd);
    if (!ok) {
        if (mm->packed_primitive) dnnl_primitive_destroy(mm->packed_primitive);
        if (mm->reorder) dnnl_primitive_destroy(mm->reorder);
        if (mm->packed) dnnl_memory_destroy(mm->packed);
        mm->packed_primitive = mm->reorder = 0; mm->packed = 0;
    }
    return ok;
}

/// Reorders B (user layout) into the packed memory.
static inline dnnl_status_t quantlab_matmul_pack(quantlab_matmul *mm, dnnl_stream_t stream, const void *b) {
    dnnl_status_t s;
    if ((s = dnnl_memory_set_data_handle(mm->b, (void *)b)) != dnnl_success) return s;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, mm->b}, {DNNL_ARG_TO, mm->packed}};
    if ((s = dnnl_primitive_execute(mm->reorder, stream, 2, args)) != dnnl_success) return s;
    return dnnl_stream_wait(stream);
}

/// Runs the packed primitive: A and C the caller's, B the packed memory.
static inline dnnl_status_t quantlab_matmul_execute_packed(quantlab_matmul *mm, dnnl_stream_t stream,
        const void *a, void *c) {
    dnnl_status_t s;
    if ((s = dnnl_memory_set_data_handle(mm->a, (void *)a)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(mm->c, c)) != dnnl_success) return s;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, mm->a}, {DNNL_ARG_WEIGHTS, mm->packed}, {DNNL_ARG_DST, mm->c}};
    if ((s = dnnl_primitive_execute(mm->packed_primitive, stream, 3, args)) != dnnl_success) return s;
    return dnnl_stream_wait(stream);
}
