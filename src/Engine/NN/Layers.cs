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

public sealed class Linear(long inFeatures, long outFeatures, bool bias = true)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_linear_new(inFeatures, outFeatures, bias ? 1 : 0, out h)))
{
    public long InFeatures { get; } = inFeatures;
    public long OutFeatures { get; } = outFeatures;
}

public sealed class Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_conv2d_new(inChannels, outChannels, kernelSize, stride, padding, bias ? 1 : 0, out h)));

public sealed class MaxPool2d(long kernelSize, long? stride = null)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_maxpool2d_new(kernelSize, stride ?? kernelSize, out h)));

public sealed class ReLU()
    : Module(ModuleFactory.New(NativeMethods.mo_relu_new));

public sealed class Flatten(long startDim = 1, long endDim = -1)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_flatten_new(startDim, endDim, out h)));

public sealed class Dropout(double p = 0.5)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_dropout_new(p, out h)));

public sealed class BatchNorm1d(long features)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_batchnorm1d_new(features, out h)));

public sealed class BatchNorm2d(long features)
    : Module(ModuleFactory.New((out NativeModuleHandle h) => NativeMethods.mo_batchnorm2d_new(features, out h)));
