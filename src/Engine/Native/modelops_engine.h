/*
 * modelops_engine.h - the C ABI of ModelOps.Engine over the libtorch C++ API.
 *
 * Return convention (every function unless stated otherwise):
 *   returns an mo_status: MO_OK (0) on success, or an error code. On error nothing is written to the
 *   out-parameters and a message is stored for the calling thread; fetch it with
 *   mo_last_error_message() (malloc'd, free it with mo_free_string) before the next call on the
 *   same thread. No C++ exception ever crosses this boundary.
 *
 * Ownership: every mo_tensor / mo_module / mo_optimizer returned through an out-parameter is a new
 *   owned handle; release it exactly once with its *_free function. Handles are not thread-safe:
 *   callers serialize use of one handle. Byte buffers returned by *_save are malloc'd; free them with
 *   mo_free_buffer.
 *
 * Enumerations passed as int:
 *   dtype:  0 = float32, 1 = int64, 2 = float64, 3 = int32, 4 = uint8, 5 = bool
 *   device: 0 = CPU, 1 = CUDA (with a device index)
 */
#ifndef MODELOPS_ENGINE_H
#define MODELOPS_ENGINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MO_EXPORT __attribute__((visibility("default")))

typedef int mo_status;
#define MO_OK 0
#define MO_ERR_GENERIC 1          /* any other failure (std::exception, unknown) */
#define MO_ERR_OUT_OF_MEMORY 2    /* CPU or CUDA allocation failed */
#define MO_ERR_SHAPE_MISMATCH 3   /* libtorch rejected tensor shapes/sizes */
#define MO_ERR_INVALID_ARGUMENT 4 /* null handle, bad enum value, other rejected argument */

typedef struct mo_tensor_s* mo_tensor;
typedef struct mo_module_s* mo_module;
typedef struct mo_optimizer_s* mo_optimizer;

/* ---- errors and buffers ------------------------------------------------------------------ */
/* Returns the calling thread's last error message (malloc'd) and clears it; NULL when none. */
MO_EXPORT char* mo_last_error_message(void);
MO_EXPORT void mo_free_string(char* s);            /* accepts NULL */
MO_EXPORT void mo_free_buffer(uint8_t* buffer);    /* accepts NULL */

/* ======== global state and tensors (engine_tensor.cpp) ======== */
/* ---- global state -------------------------------------------------------------------------- */
MO_EXPORT mo_status mo_manual_seed(int64_t seed);
MO_EXPORT mo_status mo_set_num_threads(int32_t threads);
MO_EXPORT mo_status mo_get_num_threads(int32_t* threads);
MO_EXPORT mo_status mo_cuda_is_available(int32_t* available);   /* 1 or 0 */
MO_EXPORT mo_status mo_cuda_device_count(int32_t* count);
/* Sets autograd on/off for the calling thread; *previous receives the former state (1 or 0). */
MO_EXPORT mo_status mo_set_grad_enabled(int32_t enabled, int32_t* previous);

/* ---- tensors: creation, inspection, data -------------------------------------------------- */
MO_EXPORT void mo_tensor_free(mo_tensor t);         /* accepts NULL */
/* Copies numel(shape) elements of `dtype` from data. */
MO_EXPORT mo_status mo_tensor_from_data(const void* data, int32_t dtype, const int64_t* shape, int32_t ndim, mo_tensor* out);
/* kind: 0 = zeros, 1 = ones, 2 = rand (uniform [0,1)), 3 = randn */
MO_EXPORT mo_status mo_tensor_fill_new(int32_t kind, int32_t dtype, const int64_t* shape, int32_t ndim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_dim(mo_tensor t, int32_t* ndim);
/* Writes dim() sizes into shape (caller provides at least mo_tensor_dim() slots). */
MO_EXPORT mo_status mo_tensor_shape(mo_tensor t, int64_t* shape);
MO_EXPORT mo_status mo_tensor_dtype(mo_tensor t, int32_t* dtype);
MO_EXPORT mo_status mo_tensor_device(mo_tensor t, int32_t* device_type, int32_t* device_index);
/* Converts to `dtype` on the CPU and copies exactly `count` elements; fails when numel != count. */
MO_EXPORT mo_status mo_tensor_copy_to(mo_tensor t, void* dst, int64_t count, int32_t dtype);
/* Value of a one-element tensor as double. */
MO_EXPORT mo_status mo_tensor_item(mo_tensor t, double* value);
MO_EXPORT mo_status mo_tensor_to(mo_tensor t, int32_t device_type, int32_t device_index, int32_t dtype /* -1 = keep */, mo_tensor* out);

/* ---- tensors: arithmetic and reductions (each result is a new handle) --------------------- */
MO_EXPORT mo_status mo_tensor_add(mo_tensor a, mo_tensor b, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_sub(mo_tensor a, mo_tensor b, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_mul(mo_tensor a, mo_tensor b, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_div(mo_tensor a, mo_tensor b, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_matmul(mo_tensor a, mo_tensor b, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_add_scalar(mo_tensor a, double s, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_mul_scalar(mo_tensor a, double s, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_eq(mo_tensor a, mo_tensor b, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_relu(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_exp(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_log(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_softmax(mo_tensor a, int64_t dim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_log_softmax(mo_tensor a, int64_t dim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_argmax(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_sum(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_mean(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_reshape(mo_tensor a, const int64_t* shape, int32_t ndim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_index_select(mo_tensor a, int64_t dim, mo_tensor index, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_detach(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_clone(mo_tensor a, mo_tensor* out);

/* ---- autograd ----------------------------------------------------------------------------- */
MO_EXPORT mo_status mo_tensor_requires_grad(mo_tensor t, int32_t* requires_grad);
MO_EXPORT mo_status mo_tensor_set_requires_grad(mo_tensor t, int32_t requires_grad);
MO_EXPORT mo_status mo_tensor_backward(mo_tensor t);
/* *out is NULL (and MO_OK is returned) when the tensor has no gradient. */
MO_EXPORT mo_status mo_tensor_grad(mo_tensor t, mo_tensor* out);

/* ---- global state (additions) -------------------------------------------------------------- */
MO_EXPORT mo_status mo_is_grad_enabled(int32_t* enabled);
/* Random state of the CPU generator and of every visible CUDA generator as one malloc'd blob
   (free with mo_free_buffer). mo_rng_set_state validates the whole blob before applying any of it and
   fails with MO_ERR_INVALID_ARGUMENT on a wrong header or length; generators of CUDA devices that are
   not present are skipped. */
MO_EXPORT mo_status mo_rng_get_state(uint8_t** buffer, int64_t* length);
MO_EXPORT mo_status mo_rng_set_state(const uint8_t* buffer, int64_t length);
/* Fail with MO_ERR_INVALID_ARGUMENT when the shim was built without CUDA headers or the device does not
   exist. *name is malloc'd: free it with mo_free_string. */
MO_EXPORT mo_status mo_cuda_device_name(int32_t device, char** name);
MO_EXPORT mo_status mo_cuda_memory_allocated(int32_t device, int64_t* bytes);

/* ---- tensors: creation and data (additions) ---------------------------------------------- */
MO_EXPORT mo_status mo_tensor_from_data_on(const void* data, int32_t dtype, const int64_t* shape, int32_t ndim, int32_t device_type, int32_t device_index, int32_t requires_grad, mo_tensor* out);
/* kind as in mo_tensor_fill_new */
MO_EXPORT mo_status mo_tensor_fill_on(int32_t kind, int32_t dtype, const int64_t* shape, int32_t ndim, int32_t device_type, int32_t device_index, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device_type, int32_t device_index, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_arange(double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_numel(mo_tensor t, int64_t* count);
/* *ndim always receives dim(); the sizes are written only when dim() <= capacity. */
MO_EXPORT mo_status mo_tensor_sizes(mo_tensor t, int64_t* shape, int32_t capacity, int32_t* ndim);
/* Writes the single element converted to dtype into dst; fails unless numel == 1. */
MO_EXPORT mo_status mo_tensor_item_as(mo_tensor t, int32_t dtype, void* dst);
/* In-place copies without autograd recording; count must equal numel, src is row-major `dtype`. */
MO_EXPORT mo_status mo_tensor_copy_from_data(mo_tensor t, const void* src, int64_t count, int32_t dtype);
MO_EXPORT mo_status mo_tensor_copy_(mo_tensor dst, mo_tensor src);

/* ---- tensors: views and joins (views share storage with their source) --------------------- */
MO_EXPORT mo_status mo_tensor_narrow(mo_tensor a, int64_t dim, int64_t start, int64_t length, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_slice(mo_tensor a, int64_t dim, int64_t start, int64_t end, int64_t step, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_select(mo_tensor a, int64_t dim, int64_t index, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_view(mo_tensor a, const int64_t* shape, int32_t ndim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_permute(mo_tensor a, const int64_t* dims, int32_t ndim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_transpose(mo_tensor a, int64_t dim0, int64_t dim1, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_contiguous(mo_tensor a, mo_tensor* out);
/* all != 0 squeezes every size-1 dim and ignores dim. */
MO_EXPORT mo_status mo_tensor_squeeze(mo_tensor a, int64_t dim, int32_t all, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_unsqueeze(mo_tensor a, int64_t dim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_flatten(mo_tensor a, int64_t start_dim, int64_t end_dim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_cat(const mo_tensor* tensors, int64_t count, int64_t dim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_stack(const mo_tensor* tensors, int64_t count, int64_t dim, mo_tensor* out);

/* ---- tensors: elementwise, comparisons and reductions (additions) ------------------------- */
MO_EXPORT mo_status mo_tensor_pow(mo_tensor a, mo_tensor b, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_sub_scalar(mo_tensor a, double s, mo_tensor* out);   /* a - s */
MO_EXPORT mo_status mo_tensor_rsub_scalar(mo_tensor a, double s, mo_tensor* out);  /* s - a */
MO_EXPORT mo_status mo_tensor_div_scalar(mo_tensor a, double s, mo_tensor* out);   /* a / s */
MO_EXPORT mo_status mo_tensor_rdiv_scalar(mo_tensor a, double s, mo_tensor* out);  /* s / a */
MO_EXPORT mo_status mo_tensor_pow_scalar(mo_tensor a, double s, mo_tensor* out);   /* a ^ s */
MO_EXPORT mo_status mo_tensor_rpow_scalar(mo_tensor a, double s, mo_tensor* out);  /* s ^ a */
MO_EXPORT mo_status mo_tensor_neg(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_abs(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_sqrt(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_tanh(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_sigmoid(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_clamp(mo_tensor a, int32_t has_min, double min, int32_t has_max, double max, mo_tensor* out);
/* op: 0 = eq, 1 = ne, 2 = lt, 3 = le, 4 = gt, 5 = ge; the result is a bool tensor. */
MO_EXPORT mo_status mo_tensor_compare(int32_t op, mo_tensor a, mo_tensor b, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_compare_scalar(int32_t op, mo_tensor a, double s, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_sum_dim(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_mean_dim(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_max_all(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_min_all(mo_tensor a, mo_tensor* out);
MO_EXPORT mo_status mo_tensor_argmax_all(mo_tensor a, mo_tensor* out);   /* index into the flattened tensor */
MO_EXPORT mo_status mo_tensor_max_dim(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* values, mo_tensor* indices);
MO_EXPORT mo_status mo_tensor_min_dim(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* values, mo_tensor* indices);

/* ---- autograd (additions) ------------------------------------------------------------------ */
/* Zeroes the accumulated gradient in place; no-op when there is none. */
MO_EXPORT mo_status mo_tensor_zero_grad(mo_tensor t);

/* ======== nn modules (engine_nn.cpp) ======== */
/* ---- nn modules ---------------------------------------------------------------------------- */
/* Leaf layers only: containers (Sequential, residual blocks, user modules) are composed in C#. */
MO_EXPORT void mo_module_free(mo_module m);         /* accepts NULL */
MO_EXPORT mo_status mo_linear_new(int64_t in_features, int64_t out_features, int32_t bias, mo_module* out);
MO_EXPORT mo_status mo_conv1d_new(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding, int32_t bias, mo_module* out);
MO_EXPORT mo_status mo_conv2d_new(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding, int32_t bias, mo_module* out);
MO_EXPORT mo_status mo_maxpool2d_new(int64_t kernel, int64_t stride, int64_t padding, mo_module* out);
MO_EXPORT mo_status mo_avgpool2d_new(int64_t kernel, int64_t stride, int64_t padding, mo_module* out);
MO_EXPORT mo_status mo_adaptive_avgpool2d_new(int64_t out_h, int64_t out_w, mo_module* out);
MO_EXPORT mo_status mo_batchnorm1d_new(int64_t features, double eps, double momentum, mo_module* out);
MO_EXPORT mo_status mo_batchnorm2d_new(int64_t features, double eps, double momentum, mo_module* out);
MO_EXPORT mo_status mo_layernorm_new(const int64_t* shape, int32_t ndim, double eps, int32_t affine, mo_module* out);
MO_EXPORT mo_status mo_dropout_new(double p, mo_module* out);
/* padding_idx is used only when has_padding != 0. Input ids are int64. */
MO_EXPORT mo_status mo_embedding_new(int64_t num_embeddings, int64_t embedding_dim, int32_t has_padding, int64_t padding_idx, mo_module* out);
MO_EXPORT mo_status mo_lstm_new(int64_t input_size, int64_t hidden_size, int64_t num_layers, int32_t bidirectional, int32_t batch_first, double dropout, mo_module* out);
MO_EXPORT mo_status mo_gru_new(int64_t input_size, int64_t hidden_size, int64_t num_layers, int32_t bidirectional, int32_t batch_first, double dropout, mo_module* out);
MO_EXPORT mo_status mo_flatten_new(int64_t start_dim, int64_t end_dim, mo_module* out);
MO_EXPORT mo_status mo_relu_new(mo_module* out);
MO_EXPORT mo_status mo_gelu_new(mo_module* out);
MO_EXPORT mo_status mo_tanh_new(mo_module* out);
MO_EXPORT mo_status mo_sigmoid_new(mo_module* out);
MO_EXPORT mo_status mo_softmax_new(int64_t dim, mo_module* out);
/* Runs the leaf; recurrent layers return only their output sequence here. */
MO_EXPORT mo_status mo_module_forward(mo_module m, mo_tensor input, mo_tensor* out);
/* Recurrent layers with explicit state; h0/c0 may be NULL (zeros). LSTM needs both or neither. */
MO_EXPORT mo_status mo_lstm_forward(mo_module m, mo_tensor input, mo_tensor h0, mo_tensor c0, mo_tensor* out, mo_tensor* h, mo_tensor* c);
MO_EXPORT mo_status mo_gru_forward(mo_module m, mo_tensor input, mo_tensor h0, mo_tensor* out, mo_tensor* h);
MO_EXPORT mo_status mo_module_train(mo_module m, int32_t training);
/* Moves the leaf's parameters and buffers in place: handles already returned keep aliasing them. */
MO_EXPORT mo_status mo_module_to(mo_module m, int32_t device_type, int32_t device_index);
/* Two-call pattern: with out == NULL only *count is written. Otherwise capacity must be >= count;
   out receives aliases of the live parameters (buffers != 0: the buffers) in libtorch's order, and
   *names a malloc'd buffer (free with mo_free_buffer) of their NUL-terminated names. */
MO_EXPORT mo_status mo_module_named_tensors(mo_module m, int32_t buffers, mo_tensor* out, int64_t capacity, int64_t* count, uint8_t** names, int64_t* names_length);
/* Moves a tensor (and its gradient) to a device in place, so every alias sees the new data. */
MO_EXPORT mo_status mo_nn_move_tensor(mo_tensor t, int32_t device_type, int32_t device_index);
/* Drops the gradients of the given tensors (PyTorch's zero_grad(set_to_none=True)). */
MO_EXPORT mo_status mo_nn_zero_grad(const mo_tensor* tensors, int64_t count);
/* In-place copy without autograd of `count` elements of `dtype` (must equal dst's dtype and numel). */
MO_EXPORT mo_status mo_nn_copy_into(mo_tensor dst, const void* data, int32_t dtype, int64_t count);
/* In-place copy without autograd from src (same shape; converted to dst's dtype and device). */
MO_EXPORT mo_status mo_nn_copy_tensor(mo_tensor dst, mo_tensor src);
/* Copies the raw bytes (CPU, contiguous, native byte order) of t; length must be numel * element size. */
MO_EXPORT mo_status mo_nn_read_bytes(mo_tensor t, void* dst, int64_t length);

/* ======== losses and optimizers (engine_optim.cpp) ======== */
/* ---- losses --------------------------------------------------------------------------------- */
/* reduction: 0 = none, 1 = mean, 2 = sum, 3 = batchmean (mo_kl_div only). Optional tensors may be NULL. */
/* logits [N, C, ...]; target int64 class ids [N, ...] or class probabilities shaped like logits. */
MO_EXPORT mo_status mo_cross_entropy(mo_tensor logits, mo_tensor target, mo_tensor weight, double label_smoothing, int32_t reduction, mo_tensor* out);
MO_EXPORT mo_status mo_bce_with_logits(mo_tensor logits, mo_tensor target, mo_tensor pos_weight, int32_t reduction, mo_tensor* out);
MO_EXPORT mo_status mo_mse_loss(mo_tensor input, mo_tensor target, int32_t reduction, mo_tensor* out);
MO_EXPORT mo_status mo_l1_loss(mo_tensor input, mo_tensor target, int32_t reduction, mo_tensor* out);
/* input holds log-probabilities; target holds probabilities (log-probabilities when log_target != 0). */
MO_EXPORT mo_status mo_kl_div(mo_tensor input, mo_tensor target, int32_t log_target, int32_t reduction, mo_tensor* out);

/* ---- optimizers ---------------------------------------------------------------------------- */
MO_EXPORT void mo_optimizer_free(mo_optimizer o);   /* accepts NULL */
MO_EXPORT mo_status mo_adam_new(const mo_tensor* params, int64_t count, double lr, double beta1, double beta2, double eps, double weight_decay, mo_optimizer* out);
MO_EXPORT mo_status mo_adamw_new(const mo_tensor* params, int64_t count, double lr, double beta1, double beta2, double eps, double weight_decay, mo_optimizer* out);
MO_EXPORT mo_status mo_sgd_new(const mo_tensor* params, int64_t count, double lr, double momentum, double weight_decay, int32_t nesterov, mo_optimizer* out);
MO_EXPORT mo_status mo_optimizer_step(mo_optimizer o);
/* Sets every parameter's gradient to undefined (PyTorch's set_to_none=True): backward then writes
   fresh gradients instead of accumulating into zeroed ones. */
MO_EXPORT mo_status mo_optimizer_zero_grad(mo_optimizer o);
MO_EXPORT mo_status mo_optimizer_set_lr(mo_optimizer o, double lr);
/* Learning rate of the first parameter group (all groups share one here). */
MO_EXPORT mo_status mo_optimizer_get_lr(mo_optimizer o, double* lr);
MO_EXPORT mo_status mo_optimizer_save(mo_optimizer o, uint8_t** buffer, int64_t* length);
MO_EXPORT mo_status mo_optimizer_load(mo_optimizer o, const uint8_t* buffer, int64_t length);

/* ---- gradient utilities --------------------------------------------------------------------- */
/* Scales the gradients of params so their joint norm is at most max_norm (libtorch clip_grad_norm_);
   *total_norm receives the norm before clipping. norm_type may be +inf. */
MO_EXPORT mo_status mo_clip_grad_norm(const mo_tensor* params, int64_t count, double max_norm, double norm_type, double* total_norm);

#ifdef __cplusplus
}
#endif
#endif
