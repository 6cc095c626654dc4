using ModelOps.Engine.Interop;

namespace ModelOps.Engine.NN;

internal static class ModuleFactory
{
    internal delegate int Create(out NativeModuleHandle handle);

    internal static NativeModuleHandle New(Create create)
    {
        NativeError.Check(create(out var handle));
        return handle;
    }
}

/// <summary>y = x Wᵀ + b. Parameters "weight" [out, in] and "bias" [out].</summary>
public sealed class Linear(long inFeatures, long outFeatures, bool bias = true)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_linear_new(inFeatures, outFeatures, bias ? 1 : 0, out h)))
{
    public long InFeatures { get; } = inFeatures;
    public long OutFeatures { get; } = outFeatures;
}

/// <summary>1-d convolution over [N, C, L] input.</summary>
public sealed class Conv1d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_conv1d_new(inChannels, outChannels, kernelSize, stride, padding, bias ? 1 : 0, out h)));

/// <summary>2-d convolution over [N, C, H, W] input with a square kernel.</summary>
public sealed class Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_conv2d_new(inChannels, outChannels, kernelSize, stride, padding, bias ? 1 : 0, out h)));

/// <summary>2-d max pooling; the stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(long kernelSize, long? stride = null, long padding = 0)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_maxpool2d_new(kernelSize, stride ?? kernelSize, padding, out h)));

/// <summary>2-d average pooling; the stride defaults to the kernel size.</summary>
public sealed class AvgPool2d(long kernelSize, long? stride = null, long padding = 0)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_avgpool2d_new(kernelSize, stride ?? kernelSize, padding, out h)));

/// <summary>Average pooling to a fixed output size [outputHeight, outputWidth] whatever the input size.</summary>
public sealed class AdaptiveAvgPool2d(long outputHeight, long outputWidth)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_adaptive_avgpool2d_new(outputHeight, outputWidth, out h)))
{
    /// <summary>Square output of <paramref name="outputSize"/> x <paramref name="outputSize"/>.</summary>
    public AdaptiveAvgPool2d(long outputSize) : this(outputSize, outputSize) { }
}

/// <summary>Batch normalization over [N, C] or [N, C, L]. Buffers "running_mean", "running_var", "num_batches_tracked".</summary>
public sealed class BatchNorm1d(long features, double eps = 1e-5, double momentum = 0.1)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_batchnorm1d_new(features, eps, momentum, out h)));

/// <summary>Batch normalization over [N, C, H, W].</summary>
public sealed class BatchNorm2d(long features, double eps = 1e-5, double momentum = 0.1)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_batchnorm2d_new(features, eps, momentum, out h)));

/// <summary>Layer normalization over the trailing <c>normalizedShape</c> dimensions.</summary>
public sealed class LayerNorm : Module
{
    public LayerNorm(long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
        : base(Create(normalizedShape, eps, elementwiseAffine)) { }

    /// <summary>Normalizes over a last dimension of size <paramref name="features"/>.</summary>
    public LayerNorm(long features, double eps = 1e-5, bool elementwiseAffine = true)
        : this([features], eps, elementwiseAffine) { }

    private static unsafe NativeModuleHandle Create(long[] shape, double eps, bool affine)
    {
        ArgumentNullException.ThrowIfNull(shape);
        NativeModuleHandle handle;
        fixed (long* p = shape) NativeError.Check(NativeMethods.mo_layernorm_new(p, shape.Length, eps, affine ? 1 : 0, out handle));
        return handle;
    }
}

/// <summary>Zeroes elements with probability p while training (scaling the rest by 1/(1-p)); identity in evaluation.</summary>
public sealed class Dropout(double p = 0.5)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_dropout_new(p, out h)));

/// <summary>Lookup table from int64 ids to vectors. Parameter "weight" [numEmbeddings, embeddingDim].</summary>
public sealed class Embedding(long numEmbeddings, long embeddingDim, long? paddingIdx = null)
    : Module(ModuleFactory.New((out NativeModuleHandle h) =>
        NativeMethods.mo_embedding_new(numEmbeddings, embeddingDim, paddingIdx.HasValue ? 1 : 0, paddingIdx ?? 0, out h)));

/// <summary>Flattens dimensions startDim..endDim into one.</summary>
public sealed class Flatten(long startDim = 1, long endDim = -1)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_flatten_new(startDim, endDim, out h)));

/// <summary>max(0, x).</summary>
public sealed class ReLU() : Module(ModuleFactory.New(NativeMethods.mo_relu_new));

/// <summary>Gaussian error linear unit (exact erf form).</summary>
public sealed class GELU() : Module(ModuleFactory.New(NativeMethods.mo_gelu_new));

/// <summary>Hyperbolic tangent.</summary>
public sealed class Tanh() : Module(ModuleFactory.New(NativeMethods.mo_tanh_new));

/// <summary>Logistic sigmoid.</summary>
public sealed class Sigmoid() : Module(ModuleFactory.New(NativeMethods.mo_sigmoid_new));

/// <summary>Softmax along <c>dim</c>.</summary>
public sealed class Softmax(long dim)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_softmax_new(dim, out h)));
