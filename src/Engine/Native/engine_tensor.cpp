// Errors, global state, tensors, autograd and losses.
#include "engine_internal.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

namespace mo {

static thread_local std::string last_error;

void set_last_error(const std::string& message) { last_error = message; }

mo_status classify_torch_error(const c10::Error& e) {
    std::string m = e.what_without_backtrace();
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (m.find("out of memory") != std::string::npos || m.find("can't allocate memory") != std::string::npos)
        return MO_ERR_OUT_OF_MEMORY;
    // libtorch has no dedicated shape error type: its shape checks all mention shapes, sizes or dims.
    static const char* shape_words[] = {"shape", "size", "dimension", "dims", "cannot be multiplied"};
    for (const char* w : shape_words)
        if (m.find(w) != std::string::npos) return MO_ERR_SHAPE_MISMATCH;
    return MO_ERR_INVALID_ARGUMENT;
}

at::ScalarType to_scalar_type(int32_t dtype) {
    switch (dtype) {
        case 0: return at::kFloat;
        case 1: return at::kLong;
        case 2: return at::kDouble;
        case 3: return at::kInt;
        case 4: return at::kByte;
        case 5: return at::kBool;
        default: throw invalid_argument_error("unknown dtype code " + std::to_string(dtype));
    }
}

int32_t from_scalar_type(at::ScalarType t) {
    switch (t) {
        case at::kFloat: return 0;
        case at::kLong: return 1;
        case at::kDouble: return 2;
        case at::kInt: return 3;
        case at::kByte: return 4;
        case at::kBool: return 5;
        default: throw invalid_argument_error(std::string("unsupported dtype ") + c10::toString(t));
    }
}

c10::Device to_device(int32_t device_type, int32_t device_index) {
    switch (device_type) {
        case 0: return c10::Device(c10::kCPU);
        case 1: return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(device_index));
        default: throw invalid_argument_error("unknown device type " + std::to_string(device_type));
    }
}

static std::vector<int64_t> to_shape(const int64_t* shape, int32_t ndim) {
    if (ndim < 0 || (ndim > 0 && shape == nullptr)) throw invalid_argument_error("invalid shape");
    return std::vector<int64_t>(shape, shape + ndim);
}

}  // namespace mo

using namespace mo;

extern "C" {

char* mo_last_error_message(void) {
    if (last_error.empty()) return nullptr;
    char* copy = static_cast<char*>(std::malloc(last_error.size() + 1));
    if (copy != nullptr) std::memcpy(copy, last_error.c_str(), last_error.size() + 1);
    last_error.clear();
    return copy;
}

void mo_free_string(char* s) { std::free(s); }
void mo_free_buffer(uint8_t* buffer) { std::free(buffer); }

mo_status mo_manual_seed(int64_t seed) {
    return guard([&] { torch::manual_seed(static_cast<uint64_t>(seed)); });
}

mo_status mo_set_num_threads(int32_t threads) {
    return guard([&] {
        if (threads < 1) throw invalid_argument_error("threads must be >= 1");
        at::set_num_threads(threads);
    });
}

mo_status mo_get_num_threads(int32_t* threads) {
    return guard([&] { *require(threads, "threads") = at::get_num_threads(); });
}

mo_status mo_cuda_is_available(int32_t* available) {
    return guard([&] { *require(available, "available") = torch::cuda::is_available() ? 1 : 0; });
}

mo_status mo_cuda_device_count(int32_t* count) {
    return guard([&] { *require(count, "count") = static_cast<int32_t>(torch::cuda::device_count()); });
}

mo_status mo_set_grad_enabled(int32_t enabled, int32_t* previous) {
    return guard([&] {
        bool was = at::GradMode::is_enabled();
        at::GradMode::set_enabled(enabled != 0);
        if (previous != nullptr) *previous = was ? 1 : 0;
    });
}

void mo_tensor_free(mo_tensor t) { delete t; }

mo_status mo_tensor_from_data(const void* data, int32_t dtype, const int64_t* shape, int32_t ndim, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        auto sizes = to_shape(shape, ndim);
        auto options = torch::TensorOptions().dtype(to_scalar_type(dtype));
        at::Tensor t = torch::empty(sizes, options);
        if (t.numel() > 0) {
            require(data, "data");
            std::memcpy(t.data_ptr(), data, t.numel() * t.element_size());
        }
        *out = wrap(std::move(t));
    });
}

mo_status mo_tensor_fill_new(int32_t kind, int32_t dtype, const int64_t* shape, int32_t ndim, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        auto sizes = to_shape(shape, ndim);
        auto options = torch::TensorOptions().dtype(to_scalar_type(dtype));
        at::Tensor t;
        switch (kind) {
            case 0: t = torch::zeros(sizes, options); break;
            case 1: t = torch::ones(sizes, options); break;
            case 2: t = torch::rand(sizes, options); break;
            case 3: t = torch::randn(sizes, options); break;
            default: throw invalid_argument_error("unknown fill kind " + std::to_string(kind));
        }
        *out = wrap(std::move(t));
    });
}

mo_status mo_tensor_dim(mo_tensor t, int32_t* ndim) {
    return guard([&] { *require(ndim, "ndim") = static_cast<int32_t>(require(t, "tensor")->tensor.dim()); });
}

mo_status mo_tensor_shape(mo_tensor t, int64_t* shape) {
    return guard([&] {
        auto sizes = require(t, "tensor")->tensor.sizes();
        if (!sizes.empty()) std::memcpy(require(shape, "shape"), sizes.data(), sizes.size() * sizeof(int64_t));
    });
}

mo_status mo_tensor_dtype(mo_tensor t, int32_t* dtype) {
    return guard([&] { *require(dtype, "dtype") = from_scalar_type(require(t, "tensor")->tensor.scalar_type()); });
}

mo_status mo_tensor_device(mo_tensor t, int32_t* device_type, int32_t* device_index) {
    return guard([&] {
        auto d = require(t, "tensor")->tensor.device();
        *require(device_type, "device_type") = d.is_cuda() ? 1 : 0;
        *require(device_index, "device_index") = d.has_index() ? d.index() : 0;
    });
}

mo_status mo_tensor_copy_to(mo_tensor t, void* dst, int64_t count, int32_t dtype) {
    return guard([&] {
        at::Tensor src = require(t, "tensor")->tensor.detach().to(c10::kCPU, to_scalar_type(dtype)).contiguous();
        if (src.numel() != count)
            throw invalid_argument_error("tensor has " + std::to_string(src.numel()) + " elements, destination holds " + std::to_string(count));
        if (count > 0) std::memcpy(require(dst, "dst"), src.data_ptr(), count * src.element_size());
    });
}

mo_status mo_tensor_item(mo_tensor t, double* value) {
    return guard([&] { *require(value, "value") = require(t, "tensor")->tensor.item<double>(); });
}

mo_status mo_tensor_to(mo_tensor t, int32_t device_type, int32_t device_index, int32_t dtype, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        const at::Tensor& src = require(t, "tensor")->tensor;
        auto type = dtype < 0 ? src.scalar_type() : to_scalar_type(dtype);
        *out = wrap(src.to(to_device(device_type, device_index), type));
    });
}

#define MO_BINARY(name, expr)                                                          \
    mo_status name(mo_tensor a, mo_tensor b, mo_tensor* out) {                         \
        return guard([&] {                                                             \
            require(out, "out");                                                       \
            const at::Tensor& x = require(a, "a")->tensor;                            \
            const at::Tensor& y = require(b, "b")->tensor;                            \
            *out = wrap(expr);                                                         \
        });                                                                            \
    }

#define MO_UNARY(name, expr)                                                           \
    mo_status name(mo_tensor a, mo_tensor* out) {                                      \
        return guard([&] {                                                             \
            require(out, "out");                                                       \
            const at::Tensor& x = require(a, "a")->tensor;                            \
            *out = wrap(expr);                                                         \
        });                                                                            \
    }

MO_BINARY(mo_tensor_add, x + y)
MO_BINARY(mo_tensor_sub, x - y)
MO_BINARY(mo_tensor_mul, x * y)
MO_BINARY(mo_tensor_div, x / y)
MO_BINARY(mo_tensor_matmul, torch::matmul(x, y))
MO_BINARY(mo_tensor_eq, torch::eq(x, y))
MO_UNARY(mo_tensor_relu, torch::relu(x))
MO_UNARY(mo_tensor_exp, torch::exp(x))
MO_UNARY(mo_tensor_log, torch::log(x))
MO_UNARY(mo_tensor_sum, x.sum())
MO_UNARY(mo_tensor_mean, x.mean())
MO_UNARY(mo_tensor_detach, x.detach())
MO_UNARY(mo_tensor_clone, x.clone())

mo_status mo_tensor_add_scalar(mo_tensor a, double s, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor + s); });
}

mo_status mo_tensor_mul_scalar(mo_tensor a, double s, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor * s); });
}

mo_status mo_tensor_softmax(mo_tensor a, int64_t dim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(torch::softmax(require(a, "a")->tensor, dim)); });
}

mo_status mo_tensor_log_softmax(mo_tensor a, int64_t dim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(torch::log_softmax(require(a, "a")->tensor, dim)); });
}

mo_status mo_tensor_argmax(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(torch::argmax(require(a, "a")->tensor, dim, keepdim != 0)); });
}

mo_status mo_tensor_reshape(mo_tensor a, const int64_t* shape, int32_t ndim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor.reshape(to_shape(shape, ndim))); });
}

mo_status mo_tensor_index_select(mo_tensor a, int64_t dim, mo_tensor index, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        *out = wrap(torch::index_select(require(a, "a")->tensor, dim, require(index, "index")->tensor));
    });
}

mo_status mo_tensor_requires_grad(mo_tensor t, int32_t* requires_grad) {
    return guard([&] { *require(requires_grad, "requires_grad") = require(t, "tensor")->tensor.requires_grad() ? 1 : 0; });
}

mo_status mo_tensor_set_requires_grad(mo_tensor t, int32_t requires_grad) {
    return guard([&] { require(t, "tensor")->tensor.set_requires_grad(requires_grad != 0); });
}

mo_status mo_tensor_backward(mo_tensor t) {
    return guard([&] { require(t, "tensor")->tensor.backward(); });
}

mo_status mo_tensor_grad(mo_tensor t, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        const at::Tensor& g = require(t, "tensor")->tensor.grad();
        *out = g.defined() ? wrap(g) : nullptr;
    });
}

}  // extern "C"
