// nn leaf modules backed by libtorch modules. Containers (Sequential, residual blocks, custom modules)
// live in C#: the shim only builds leaves, runs them, and exposes their tensors.
#include "engine_internal.h"

#include <cstdlib>
#include <cstring>

using namespace mo;

namespace {

template <typename Holder, typename Forward>
mo_module make_leaf(Holder holder, Forward forward) {
    auto* m = new mo_module_s();
    m->module = holder.ptr();
    m->forward = [holder, forward](const at::Tensor& x) mutable { return forward(holder, x); };
    return m;
}

template <typename Holder>
mo_module make_leaf(Holder holder) {
    return make_leaf(holder, [](Holder& h, const at::Tensor& x) { return h->forward(x); });
}

template <typename F>
mo_status build(mo_module* out, F&& create) {
    return guard([&] { *require(out, "out") = create(); });
}

template <typename Impl>
Impl& leaf_as(mo_module m, const char* what) {
    auto* impl = dynamic_cast<Impl*>(require(m, "module")->module.get());
    if (impl == nullptr) throw invalid_argument_error(std::string("module is not ") + what);
    return *impl;
}

void check_positive(int64_t value, const char* name) {
    if (value <= 0) throw invalid_argument_error(std::string(name) + " must be positive, got " + std::to_string(value));
}

void check_probability(double p) {
    if (p < 0.0 || p > 1.0) throw invalid_argument_error("dropout probability must be in [0, 1], got " + std::to_string(p));
}

}  // namespace

extern "C" {

void mo_module_free(mo_module m) { delete m; }

mo_status mo_linear_new(int64_t in_features, int64_t out_features, int32_t bias, mo_module* out) {
    return build(out, [&] {
        check_positive(in_features, "in_features");
        check_positive(out_features, "out_features");
        return make_leaf(torch::nn::Linear(torch::nn::LinearOptions(in_features, out_features).bias(bias != 0)));
    });
}

mo_status mo_conv1d_new(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding, int32_t bias, mo_module* out) {
    return build(out, [&] {
        auto options = torch::nn::Conv1dOptions(in_channels, out_channels, kernel).stride(stride).padding(padding).bias(bias != 0);
        return make_leaf(torch::nn::Conv1d(options));
    });
}

mo_status mo_conv2d_new(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding, int32_t bias, mo_module* out) {
    return build(out, [&] {
        auto options = torch::nn::Conv2dOptions(in_channels, out_channels, kernel).stride(stride).padding(padding).bias(bias != 0);
        return make_leaf(torch::nn::Conv2d(options));
    });
}

mo_status mo_maxpool2d_new(int64_t kernel, int64_t stride, int64_t padding, mo_module* out) {
    return build(out, [&] { return make_leaf(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(kernel).stride(stride).padding(padding))); });
}

mo_status mo_avgpool2d_new(int64_t kernel, int64_t stride, int64_t padding, mo_module* out) {
    return build(out, [&] { return make_leaf(torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(kernel).stride(stride).padding(padding))); });
}

mo_status mo_adaptive_avgpool2d_new(int64_t out_h, int64_t out_w, mo_module* out) {
    return build(out, [&] {
        check_positive(out_h, "output height");
        check_positive(out_w, "output width");
        return make_leaf(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({out_h, out_w})));
    });
}

mo_status mo_batchnorm1d_new(int64_t features, double eps, double momentum, mo_module* out) {
    return build(out, [&] {
        check_positive(features, "features");
        return make_leaf(torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(features).eps(eps).momentum(momentum)));
    });
}

mo_status mo_batchnorm2d_new(int64_t features, double eps, double momentum, mo_module* out) {
    return build(out, [&] {
        check_positive(features, "features");
        return make_leaf(torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(features).eps(eps).momentum(momentum)));
    });
}

mo_status mo_layernorm_new(const int64_t* shape, int32_t ndim, double eps, int32_t affine, mo_module* out) {
    return build(out, [&] {
        if (ndim < 1) throw invalid_argument_error("normalized shape needs at least one dimension");
        std::vector<int64_t> normalized(require(shape, "shape"), shape + ndim);
        for (auto s : normalized) check_positive(s, "normalized shape size");
        return make_leaf(torch::nn::LayerNorm(torch::nn::LayerNormOptions(normalized).eps(eps).elementwise_affine(affine != 0)));
    });
}

mo_status mo_dropout_new(double p, mo_module* out) {
    return build(out, [&] {
        check_probability(p);
        return make_leaf(torch::nn::Dropout(torch::nn::DropoutOptions(p)));
    });
}

mo_status mo_embedding_new(int64_t num_embeddings, int64_t embedding_dim, int32_t has_padding, int64_t padding_idx, mo_module* out) {
    return build(out, [&] {
        check_positive(num_embeddings, "num_embeddings");
        check_positive(embedding_dim, "embedding_dim");
        auto options = torch::nn::EmbeddingOptions(num_embeddings, embedding_dim);
        if (has_padding != 0) {
            if (padding_idx < -num_embeddings || padding_idx >= num_embeddings)
                throw invalid_argument_error("padding_idx must be within [-num_embeddings, num_embeddings)");
            options.padding_idx(padding_idx);
        }
        return make_leaf(torch::nn::Embedding(options));
    });
}

mo_status mo_lstm_new(int64_t input_size, int64_t hidden_size, int64_t num_layers, int32_t bidirectional, int32_t batch_first, double dropout, mo_module* out) {
    return build(out, [&] {
        check_positive(input_size, "input_size");
        check_positive(hidden_size, "hidden_size");
        check_positive(num_layers, "num_layers");
        check_probability(dropout);
        auto options = torch::nn::LSTMOptions(input_size, hidden_size).num_layers(num_layers)
            .bidirectional(bidirectional != 0).batch_first(batch_first != 0).dropout(dropout);
        return make_leaf(torch::nn::LSTM(options), [](torch::nn::LSTM& h, const at::Tensor& x) { return std::get<0>(h->forward(x)); });
    });
}

mo_status mo_gru_new(int64_t input_size, int64_t hidden_size, int64_t num_layers, int32_t bidirectional, int32_t batch_first, double dropout, mo_module* out) {
    return build(out, [&] {
        check_positive(input_size, "input_size");
        check_positive(hidden_size, "hidden_size");
        check_positive(num_layers, "num_layers");
        check_probability(dropout);
        auto options = torch::nn::GRUOptions(input_size, hidden_size).num_layers(num_layers)
            .bidirectional(bidirectional != 0).batch_first(batch_first != 0).dropout(dropout);
        return make_leaf(torch::nn::GRU(options), [](torch::nn::GRU& h, const at::Tensor& x) { return std::get<0>(h->forward(x)); });
    });
}

mo_status mo_flatten_new(int64_t start_dim, int64_t end_dim, mo_module* out) {
    return build(out, [&] { return make_leaf(torch::nn::Flatten(torch::nn::FlattenOptions().start_dim(start_dim).end_dim(end_dim))); });
}

mo_status mo_relu_new(mo_module* out) {
    return build(out, [] { return make_leaf(torch::nn::ReLU()); });
}

mo_status mo_gelu_new(mo_module* out) {
    return build(out, [] { return make_leaf(torch::nn::GELU()); });
}

mo_status mo_tanh_new(mo_module* out) {
    return build(out, [] { return make_leaf(torch::nn::Tanh()); });
}

mo_status mo_sigmoid_new(mo_module* out) {
    return build(out, [] { return make_leaf(torch::nn::Sigmoid()); });
}

mo_status mo_softmax_new(int64_t dim, mo_module* out) {
    return build(out, [&] { return make_leaf(torch::nn::Softmax(torch::nn::SoftmaxOptions(dim))); });
}

mo_status mo_module_forward(mo_module m, mo_tensor input, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        *out = wrap(require(m, "module")->forward(require(input, "input")->tensor));
    });
}

mo_status mo_lstm_forward(mo_module m, mo_tensor input, mo_tensor h0, mo_tensor c0, mo_tensor* out, mo_tensor* h, mo_tensor* c) {
    return guard([&] {
        require(out, "out");
        require(h, "h");
        require(c, "c");
        auto& lstm = leaf_as<torch::nn::LSTMImpl>(m, "an LSTM");
        if ((h0 == nullptr) != (c0 == nullptr)) throw invalid_argument_error("pass both h0 and c0, or neither");
        torch::optional<std::tuple<at::Tensor, at::Tensor>> state;
        if (h0 != nullptr) state = std::make_tuple(h0->tensor, c0->tensor);
        auto result = lstm.forward(require(input, "input")->tensor, state);
        auto* o = wrap(std::get<0>(result));
        auto* hn = wrap(std::get<0>(std::get<1>(result)));
        auto* cn = wrap(std::get<1>(std::get<1>(result)));
        *out = o;
        *h = hn;
        *c = cn;
    });
}

mo_status mo_gru_forward(mo_module m, mo_tensor input, mo_tensor h0, mo_tensor* out, mo_tensor* h) {
    return guard([&] {
        require(out, "out");
        require(h, "h");
        auto& gru = leaf_as<torch::nn::GRUImpl>(m, "a GRU");
        at::Tensor state = h0 == nullptr ? at::Tensor() : h0->tensor;
        auto result = gru.forward(require(input, "input")->tensor, state);
        auto* o = wrap(std::get<0>(result));
        auto* hn = wrap(std::get<1>(result));
        *out = o;
        *h = hn;
    });
}

mo_status mo_module_train(mo_module m, int32_t training) {
    return guard([&] { require(m, "module")->module->train(training != 0); });
}

mo_status mo_module_to(mo_module m, int32_t device_type, int32_t device_index) {
    return guard([&] { require(m, "module")->module->to(to_device(device_type, device_index)); });
}

mo_status mo_module_named_tensors(mo_module m, int32_t buffers, mo_tensor* out, int64_t capacity, int64_t* count, uint8_t** names, int64_t* names_length) {
    return guard([&] {
        auto& module = *require(m, "module")->module;
        auto items = buffers != 0 ? module.named_buffers(true) : module.named_parameters(true);
        *require(count, "count") = static_cast<int64_t>(items.size());
        if (out == nullptr) return;
        require(names, "names");
        require(names_length, "names_length");
        if (capacity < static_cast<int64_t>(items.size())) throw invalid_argument_error("capacity is smaller than the tensor count");
        std::string joined;
        for (const auto& item : items) {
            joined += item.key();
            joined.push_back('\0');
        }
        auto* buffer = static_cast<uint8_t*>(std::malloc(joined.empty() ? 1 : joined.size()));
        if (buffer == nullptr) throw std::bad_alloc();
        std::memcpy(buffer, joined.data(), joined.size());
        size_t i = 0;
        for (const auto& item : items) out[i++] = wrap(item.value());
        *names = buffer;
        *names_length = static_cast<int64_t>(joined.size());
    });
}

mo_status mo_nn_move_tensor(mo_tensor t, int32_t device_type, int32_t device_index) {
    return guard([&] {
        torch::NoGradGuard no_grad;
        auto& tensor = require(t, "tensor")->tensor;
        auto device = to_device(device_type, device_index);
        if (tensor.device() == device) return;
        tensor.set_data(tensor.to(device));
        if (tensor.grad().defined()) tensor.mutable_grad() = tensor.grad().to(device);
    });
}

mo_status mo_nn_zero_grad(const mo_tensor* tensors, int64_t count) {
    return guard([&] {
        if (count > 0) require(tensors, "tensors");
        for (int64_t i = 0; i < count; ++i) {
            auto& tensor = require(tensors[i], "tensor")->tensor;
            if (tensor.grad().defined()) tensor.mutable_grad() = at::Tensor();
        }
    });
}

mo_status mo_nn_copy_into(mo_tensor dst, const void* data, int32_t dtype, int64_t count) {
    return guard([&] {
        auto& target = require(dst, "dst")->tensor;
        auto type = to_scalar_type(dtype);
        if (target.scalar_type() != type) throw invalid_argument_error("source dtype differs from the destination's");
        if (target.numel() != count)
            throw invalid_argument_error("destination has " + std::to_string(target.numel()) + " elements, source holds " + std::to_string(count));
        if (count == 0) return;
        require(data, "data");
        // from_blob does not own the memory: the copy below finishes before the caller's buffer is unpinned.
        auto source = torch::from_blob(const_cast<void*>(data), {count}, torch::TensorOptions().dtype(type));
        torch::NoGradGuard no_grad;
        target.copy_(source.view(target.sizes()));
    });
}

mo_status mo_nn_copy_tensor(mo_tensor dst, mo_tensor src) {
    return guard([&] {
        auto& target = require(dst, "dst")->tensor;
        const auto& source = require(src, "src")->tensor;
        if (!target.sizes().equals(source.sizes())) throw invalid_argument_error("source and destination shapes differ");
        torch::NoGradGuard no_grad;
        target.copy_(source);
    });
}

mo_status mo_nn_read_bytes(mo_tensor t, void* dst, int64_t length) {
    return guard([&] {
        at::Tensor source = require(t, "tensor")->tensor.detach().to(c10::kCPU).contiguous();
        int64_t needed = source.numel() * static_cast<int64_t>(source.element_size());
        if (needed != length) throw invalid_argument_error("tensor holds " + std::to_string(needed) + " bytes, destination " + std::to_string(length));
        if (length > 0) std::memcpy(require(dst, "dst"), source.data_ptr(), static_cast<size_t>(length));
    });
}

}  // extern "C"
