// Errors, global state, tensors, autograd and losses.
#include "engine_internal.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ATen/ScalarOps.h>
#include <cmath>
#include <cstring>
#include <mutex>

// CUDA-only queries need the CUDA runtime headers, which CPU-only libtorch installs lack.
#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<cuda_runtime_api.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#define MO_WITH_CUDA 1
#else
#define MO_WITH_CUDA 0
#endif

namespace mo {

static thread_local std::string last_error;

void set_last_error(const std::string& message) { last_error = message; }

mo_status classify_torch_error(const c10::Error& e) {
    // Index errors cover out-of-range dims and indices; their messages mention sizes, but the caller
    // passed a bad argument rather than mismatched tensors.
    if (dynamic_cast<const c10::IndexError*>(&e) != nullptr || dynamic_cast<const c10::TypeError*>(&e) != nullptr)
        return MO_ERR_INVALID_ARGUMENT;
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

// Wraps a negative dim and rejects one outside [-ndim, ndim) before libtorch sees it.
static int64_t checked_dim(const at::Tensor& t, int64_t dim, const char* what) {
    int64_t n = std::max<int64_t>(t.dim(), 1);
    if (dim < -n || dim >= n)
        throw invalid_argument_error(std::string(what) + ": dim " + std::to_string(dim) + " is out of range for a tensor with " +
                                     std::to_string(t.dim()) + " dimensions");
    return dim < 0 ? dim + n : dim;
}

// libtorch 1.13 reports a bad reshape/view size as a bare std::runtime_error; re-raise it as a c10::Error
// so the guard classifies it by its message like every other shape check.
template <typename F>
static at::Tensor reshaping(F&& f) {
    try {
        return f();
    } catch (const c10::Error&) {
        throw;
    } catch (const std::runtime_error& e) {
        TORCH_CHECK(false, e.what());
    }
}

static std::vector<at::Tensor> to_tensors(const mo_tensor* tensors, int64_t count) {
    if (count < 0 || (count > 0 && tensors == nullptr)) throw invalid_argument_error("invalid tensor list");
    std::vector<at::Tensor> list;
    list.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) list.push_back(require(tensors[i], "tensor")->tensor);
    return list;
}

static torch::TensorOptions options_for(int32_t dtype, int32_t device_type, int32_t device_index) {
    return torch::TensorOptions().dtype(to_scalar_type(dtype)).device(to_device(device_type, device_index));
}

static char* copy_string(const std::string& s) {
    char* copy = static_cast<char*>(std::malloc(s.size() + 1));
    if (copy == nullptr) throw std::bad_alloc();
    std::memcpy(copy, s.c_str(), s.size() + 1);
    return copy;
}

// RNG state layout: "MORS", then per generator a header {int32 device type, int32 index, int64 length}
// and its bytes. One blob holds the CPU generator and every visible CUDA generator.
static const char rng_magic[4] = {'M', 'O', 'R', 'S'};

struct rng_entry_header {
    int32_t device_type;
    int32_t device_index;
    int64_t length;
};

static std::vector<c10::Device> rng_devices() {
    std::vector<c10::Device> devices{c10::Device(c10::kCPU)};
    if (torch::cuda::is_available()) {
        auto n = torch::cuda::device_count();
        for (size_t i = 0; i < n; ++i) devices.emplace_back(c10::kCUDA, static_cast<c10::DeviceIndex>(i));
    }
    return devices;
}

static at::Tensor generator_state(const c10::Device& device) {
    auto gen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state().contiguous();
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
    return guard([&] {
        require(out, "out");
        const at::Tensor& x = require(a, "a")->tensor;
        auto sizes = to_shape(shape, ndim);
        *out = wrap(reshaping([&] { return x.reshape(sizes); }));
    });
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

// ---- global state (additions) -------------------------------------------------------------------

mo_status mo_is_grad_enabled(int32_t* enabled) {
    return guard([&] { *require(enabled, "enabled") = at::GradMode::is_enabled() ? 1 : 0; });
}

mo_status mo_rng_get_state(uint8_t** buffer, int64_t* length) {
    return guard([&] {
        require(buffer, "buffer");
        require(length, "length");
        std::vector<std::pair<rng_entry_header, at::Tensor>> entries;
        size_t total = sizeof(rng_magic);
        for (const auto& device : rng_devices()) {
            at::Tensor state = generator_state(device);
            rng_entry_header h{device.is_cuda() ? 1 : 0, device.is_cuda() ? device.index() : 0, static_cast<int64_t>(state.nbytes())};
            total += sizeof(h) + state.nbytes();
            entries.emplace_back(h, state);
        }
        auto* out = static_cast<uint8_t*>(std::malloc(total));
        if (out == nullptr) throw std::bad_alloc();
        uint8_t* p = out;
        std::memcpy(p, rng_magic, sizeof(rng_magic));
        p += sizeof(rng_magic);
        for (const auto& [h, state] : entries) {
            std::memcpy(p, &h, sizeof(h));
            p += sizeof(h);
            std::memcpy(p, state.data_ptr(), state.nbytes());
            p += state.nbytes();
        }
        *buffer = out;
        *length = static_cast<int64_t>(total);
    });
}

mo_status mo_rng_set_state(const uint8_t* buffer, int64_t length) {
    return guard([&] {
        if (length < static_cast<int64_t>(sizeof(rng_magic)) || buffer == nullptr || std::memcmp(buffer, rng_magic, sizeof(rng_magic)) != 0)
            throw invalid_argument_error("not an engine RNG state (bad header)");
        // Parse and validate everything first so a bad blob leaves every generator untouched.
        std::vector<std::pair<c10::Device, at::Tensor>> parsed;
        const uint8_t* p = buffer + sizeof(rng_magic);
        const uint8_t* end = buffer + length;
        while (p < end) {
            rng_entry_header h;
            if (end - p < static_cast<std::ptrdiff_t>(sizeof(h))) throw invalid_argument_error("RNG state is truncated");
            std::memcpy(&h, p, sizeof(h));
            p += sizeof(h);
            if (h.length < 0 || end - p < h.length) throw invalid_argument_error("RNG state is truncated");
            if (h.device_type != 0 && h.device_type != 1) throw invalid_argument_error("RNG state names an unknown device type");
            c10::Device device = to_device(h.device_type, h.device_index);
            if (h.device_index < 0) throw invalid_argument_error("RNG state names a negative device index");
            // A checkpoint written on a GPU machine may be resumed on one with fewer (or no) GPUs: the
            // generators of absent devices have nothing to restore.
            if (device.is_cuda() && (!torch::cuda::is_available() || static_cast<size_t>(h.device_index) >= torch::cuda::device_count())) {
                p += h.length;
                continue;
            }
            at::Tensor expected = generator_state(device);
            if (static_cast<int64_t>(expected.nbytes()) != h.length)
                throw invalid_argument_error("RNG state for " + device.str() + " has " + std::to_string(h.length) + " bytes, expected " +
                                             std::to_string(expected.nbytes()));
            at::Tensor state = torch::empty({h.length}, torch::TensorOptions().dtype(at::kByte));
            if (h.length > 0) std::memcpy(state.data_ptr(), p, static_cast<size_t>(h.length));
            p += h.length;
            parsed.emplace_back(device, state);
        }
        if (parsed.empty() || !parsed.front().first.is_cpu()) throw invalid_argument_error("RNG state lacks the CPU generator");
        for (const auto& [device, state] : parsed) {
            auto gen = at::globalContext().defaultGenerator(device);
            std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(state);
        }
    });
}

mo_status mo_cuda_device_name(int32_t device, char** name) {
    return guard([&] {
        require(name, "name");
#if MO_WITH_CUDA
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count)
            throw invalid_argument_error("CUDA device " + std::to_string(device) + " does not exist");
        cudaDeviceProp props;
        if (cudaGetDeviceProperties(&props, device) != cudaSuccess) throw std::runtime_error("cudaGetDeviceProperties failed");
        *name = copy_string(props.name);
#else
        (void)device;
        throw invalid_argument_error("this engine was not built with CUDA support");
#endif
    });
}

mo_status mo_cuda_memory_allocated(int32_t device, int64_t* bytes) {
    return guard([&] {
        require(bytes, "bytes");
#if MO_WITH_CUDA
        if (!torch::cuda::is_available() || device < 0 || static_cast<size_t>(device) >= torch::cuda::device_count())
            throw invalid_argument_error("CUDA device " + std::to_string(device) + " does not exist");
        auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
        // Index 0 is StatType::AGGREGATE, whose namespace moved between libtorch versions.
        *bytes = stats.allocated_bytes[0].current;
#else
        (void)device;
        throw invalid_argument_error("this engine was not built with CUDA support");
#endif
    });
}

// ---- tensors: creation and data (additions) ------------------------------------------------------

mo_status mo_tensor_from_data_on(const void* data, int32_t dtype, const int64_t* shape, int32_t ndim, int32_t device_type,
                                 int32_t device_index, int32_t requires_grad, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        auto sizes = to_shape(shape, ndim);
        c10::Device device = to_device(device_type, device_index);
        at::Tensor t = torch::empty(sizes, torch::TensorOptions().dtype(to_scalar_type(dtype)));
        if (t.numel() > 0) {
            require(data, "data");
            std::memcpy(t.data_ptr(), data, t.numel() * t.element_size());
        }
        if (!device.is_cpu()) t = t.to(device);
        if (requires_grad != 0) t.set_requires_grad(true);
        *out = wrap(std::move(t));
    });
}

mo_status mo_tensor_fill_on(int32_t kind, int32_t dtype, const int64_t* shape, int32_t ndim, int32_t device_type, int32_t device_index,
                            mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        auto sizes = to_shape(shape, ndim);
        auto options = options_for(dtype, device_type, device_index);
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

mo_status mo_tensor_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device_type, int32_t device_index,
                         mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        *out = wrap(torch::full(to_shape(shape, ndim), value, options_for(dtype, device_type, device_index)));
    });
}

mo_status mo_tensor_arange(double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        if (step == 0 || std::isnan(step)) throw invalid_argument_error("arange: step must be non-zero");
        *out = wrap(torch::arange(start, end, step, options_for(dtype, device_type, device_index)));
    });
}

mo_status mo_tensor_numel(mo_tensor t, int64_t* count) {
    return guard([&] { *require(count, "count") = require(t, "tensor")->tensor.numel(); });
}

mo_status mo_tensor_sizes(mo_tensor t, int64_t* shape, int32_t capacity, int32_t* ndim) {
    return guard([&] {
        auto sizes = require(t, "tensor")->tensor.sizes();
        *require(ndim, "ndim") = static_cast<int32_t>(sizes.size());
        if (static_cast<int64_t>(sizes.size()) <= capacity && !sizes.empty())
            std::memcpy(require(shape, "shape"), sizes.data(), sizes.size() * sizeof(int64_t));
    });
}

mo_status mo_tensor_item_as(mo_tensor t, int32_t dtype, void* dst) {
    return guard([&] {
        const at::Tensor& x = require(t, "tensor")->tensor;
        require(dst, "dst");
        if (x.numel() != 1)
            throw invalid_argument_error("item() needs a tensor with one element, this one has " + std::to_string(x.numel()));
        at::Tensor v = x.detach().to(c10::kCPU, to_scalar_type(dtype));
        std::memcpy(dst, v.data_ptr(), v.element_size());
    });
}

mo_status mo_tensor_copy_from_data(mo_tensor t, const void* src, int64_t count, int32_t dtype) {
    return guard([&] {
        at::Tensor& dst = require(t, "tensor")->tensor;
        if (dst.numel() != count)
            throw invalid_argument_error("tensor has " + std::to_string(dst.numel()) + " elements, the source holds " + std::to_string(count));
        if (count == 0) return;
        require(src, "src");
        at::Tensor staged = torch::empty(dst.sizes(), torch::TensorOptions().dtype(to_scalar_type(dtype)));
        std::memcpy(staged.data_ptr(), src, static_cast<size_t>(count) * staged.element_size());
        at::NoGradGuard no_grad;
        dst.copy_(staged);
    });
}

mo_status mo_tensor_copy_(mo_tensor dst, mo_tensor src) {
    return guard([&] {
        at::Tensor& d = require(dst, "dst")->tensor;
        const at::Tensor& s = require(src, "src")->tensor;
        at::NoGradGuard no_grad;
        d.copy_(s);
    });
}

// ---- views and joins ------------------------------------------------------------------------------

mo_status mo_tensor_narrow(mo_tensor a, int64_t dim, int64_t start, int64_t length, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        const at::Tensor& x = require(a, "a")->tensor;
        if (x.dim() == 0) throw invalid_argument_error("narrow() cannot be applied to a 0-dim tensor");
        int64_t d = checked_dim(x, dim, "narrow");
        int64_t size = x.size(d);
        if (start < 0) start += size;
        if (start < 0 || length < 0 || start > size || length > size - start)
            throw invalid_argument_error("narrow(): start " + std::to_string(start) + " and length " + std::to_string(length) +
                                         " are out of range for dimension " + std::to_string(d) + " of size " + std::to_string(size));
        *out = wrap(x.narrow(d, start, length));
    });
}

mo_status mo_tensor_slice(mo_tensor a, int64_t dim, int64_t start, int64_t end, int64_t step, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        const at::Tensor& x = require(a, "a")->tensor;
        if (x.dim() == 0) throw invalid_argument_error("slice() cannot be applied to a 0-dim tensor");
        if (step <= 0) throw invalid_argument_error("slice(): step must be positive");
        *out = wrap(x.slice(checked_dim(x, dim, "slice"), start, end, step));
    });
}

mo_status mo_tensor_select(mo_tensor a, int64_t dim, int64_t index, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        const at::Tensor& x = require(a, "a")->tensor;
        if (x.dim() == 0) throw invalid_argument_error("select() cannot be applied to a 0-dim tensor");
        int64_t d = checked_dim(x, dim, "select");
        int64_t size = x.size(d);
        if (index < -size || index >= size)
            throw invalid_argument_error("select(): index " + std::to_string(index) + " is out of range for dimension " + std::to_string(d) +
                                         " of size " + std::to_string(size));
        *out = wrap(x.select(d, index));
    });
}

mo_status mo_tensor_view(mo_tensor a, const int64_t* shape, int32_t ndim, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        const at::Tensor& x = require(a, "a")->tensor;
        auto sizes = to_shape(shape, ndim);
        *out = wrap(reshaping([&] { return x.view(sizes); }));
    });
}

mo_status mo_tensor_permute(mo_tensor a, const int64_t* dims, int32_t ndim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor.permute(to_shape(dims, ndim))); });
}

mo_status mo_tensor_transpose(mo_tensor a, int64_t dim0, int64_t dim1, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor.transpose(dim0, dim1)); });
}

mo_status mo_tensor_squeeze(mo_tensor a, int64_t dim, int32_t all, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        const at::Tensor& x = require(a, "a")->tensor;
        *out = wrap(all != 0 ? x.squeeze() : x.squeeze(dim));
    });
}

mo_status mo_tensor_unsqueeze(mo_tensor a, int64_t dim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor.unsqueeze(dim)); });
}

mo_status mo_tensor_flatten(mo_tensor a, int64_t start_dim, int64_t end_dim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor.flatten(start_dim, end_dim)); });
}

mo_status mo_tensor_cat(const mo_tensor* tensors, int64_t count, int64_t dim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(torch::cat(to_tensors(tensors, count), dim)); });
}

mo_status mo_tensor_stack(const mo_tensor* tensors, int64_t count, int64_t dim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(torch::stack(to_tensors(tensors, count), dim)); });
}

// ---- elementwise (additions) ------------------------------------------------------------------------

MO_BINARY(mo_tensor_pow, torch::pow(x, y))
MO_UNARY(mo_tensor_contiguous, x.contiguous())
MO_UNARY(mo_tensor_neg, torch::neg(x))
MO_UNARY(mo_tensor_abs, torch::abs(x))
MO_UNARY(mo_tensor_sqrt, torch::sqrt(x))
MO_UNARY(mo_tensor_tanh, torch::tanh(x))
MO_UNARY(mo_tensor_sigmoid, torch::sigmoid(x))
MO_UNARY(mo_tensor_max_all, x.max())
MO_UNARY(mo_tensor_min_all, x.min())
MO_UNARY(mo_tensor_argmax_all, torch::argmax(x))

#define MO_SCALAR(name, expr)                                                          \
    mo_status name(mo_tensor a, double s, mo_tensor* out) {                            \
        return guard([&] {                                                             \
            require(out, "out");                                                       \
            const at::Tensor& x = require(a, "a")->tensor;                            \
            *out = wrap(expr);                                                         \
        });                                                                            \
    }

MO_SCALAR(mo_tensor_sub_scalar, x - s)
MO_SCALAR(mo_tensor_rsub_scalar, torch::rsub(x, s))
MO_SCALAR(mo_tensor_div_scalar, x / s)
// s / x with the scalar promoted like a Python number, so int tensors divide to floats as torch does.
static at::Tensor scalar_over(double s, const at::Tensor& x) {
    at::Tensor wrapped = at::scalar_to_tensor(c10::Scalar(s), x.device());
    wrapped.unsafeGetTensorImpl()->set_wrapped_number(true);
    return torch::div(wrapped, x);
}

MO_SCALAR(mo_tensor_rdiv_scalar, scalar_over(s, x))
MO_SCALAR(mo_tensor_pow_scalar, torch::pow(x, s))
MO_SCALAR(mo_tensor_rpow_scalar, torch::pow(c10::Scalar(s), x))

mo_status mo_tensor_clamp(mo_tensor a, int32_t has_min, double min, int32_t has_max, double max, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        c10::optional<c10::Scalar> lo = has_min != 0 ? c10::optional<c10::Scalar>(min) : c10::nullopt;
        c10::optional<c10::Scalar> hi = has_max != 0 ? c10::optional<c10::Scalar>(max) : c10::nullopt;
        if (!lo && !hi) throw invalid_argument_error("clamp(): at least one of min and max must be given");
        *out = wrap(torch::clamp(require(a, "a")->tensor, lo, hi));
    });
}

static at::Tensor compare(int32_t op, const at::Tensor& x, const at::Tensor& y) {
    switch (op) {
        case 0: return torch::eq(x, y);
        case 1: return torch::ne(x, y);
        case 2: return torch::lt(x, y);
        case 3: return torch::le(x, y);
        case 4: return torch::gt(x, y);
        case 5: return torch::ge(x, y);
        default: throw invalid_argument_error("unknown comparison " + std::to_string(op));
    }
}

static at::Tensor compare_with_scalar(int32_t op, const at::Tensor& x, double y) {
    switch (op) {
        case 0: return torch::eq(x, y);
        case 1: return torch::ne(x, y);
        case 2: return torch::lt(x, y);
        case 3: return torch::le(x, y);
        case 4: return torch::gt(x, y);
        case 5: return torch::ge(x, y);
        default: throw invalid_argument_error("unknown comparison " + std::to_string(op));
    }
}

mo_status mo_tensor_compare(int32_t op, mo_tensor a, mo_tensor b, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(compare(op, require(a, "a")->tensor, require(b, "b")->tensor)); });
}

mo_status mo_tensor_compare_scalar(int32_t op, mo_tensor a, double s, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(compare_with_scalar(op, require(a, "a")->tensor, s)); });
}

// ---- reductions (additions) --------------------------------------------------------------------------

mo_status mo_tensor_sum_dim(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor.sum(dim, keepdim != 0)); });
}

mo_status mo_tensor_mean_dim(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* out) {
    return guard([&] { require(out, "out"); *out = wrap(require(a, "a")->tensor.mean(dim, keepdim != 0)); });
}

mo_status mo_tensor_max_dim(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* values, mo_tensor* indices) {
    return guard([&] {
        require(values, "values");
        require(indices, "indices");
        auto [v, i] = torch::max(require(a, "a")->tensor, dim, keepdim != 0);
        auto* wv = wrap(std::move(v));
        *indices = wrap(std::move(i));
        *values = wv;
    });
}

mo_status mo_tensor_min_dim(mo_tensor a, int64_t dim, int32_t keepdim, mo_tensor* values, mo_tensor* indices) {
    return guard([&] {
        require(values, "values");
        require(indices, "indices");
        auto [v, i] = torch::min(require(a, "a")->tensor, dim, keepdim != 0);
        auto* wv = wrap(std::move(v));
        *indices = wrap(std::move(i));
        *values = wv;
    });
}

// ---- autograd (additions) ------------------------------------------------------------------------------

mo_status mo_tensor_zero_grad(mo_tensor t) {
    return guard([&] {
        at::Tensor& g = require(t, "tensor")->tensor.mutable_grad();
        if (g.defined()) {
            at::NoGradGuard no_grad;
            g.detach_();
            g.zero_();
        }
    });
}

}  // extern "C"
