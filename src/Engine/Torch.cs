using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

/// <summary>Entry points in the spirit of TorchSharp's <c>torch</c>: tensor factories and global state.</summary>
public static class Torch
{
    public static DisposeScope NewDisposeScope() => new();

    public static void ManualSeed(long seed) => NativeError.Check(NativeMethods.mo_manual_seed(seed));

    public static void SetNumThreads(int threads) => NativeError.Check(NativeMethods.mo_set_num_threads(threads));

    public static int GetNumThreads()
    {
        NativeError.Check(NativeMethods.mo_get_num_threads(out int threads));
        return threads;
    }

    public static bool CudaIsAvailable()
    {
        NativeError.Check(NativeMethods.mo_cuda_is_available(out int available));
        return available != 0;
    }

    public static int CudaDeviceCount()
    {
        NativeError.Check(NativeMethods.mo_cuda_device_count(out int count));
        return count;
    }

    /// <summary>Turns autograd off on this thread until the returned guard is disposed.</summary>
    public static IDisposable NoGrad() => new GradModeGuard(false);

    public static Tensor Tensor(float[] data, params long[] shape) => FromData<float>(data, shape);
    public static Tensor Tensor(long[] data, params long[] shape) => FromData<long>(data, shape);
    public static Tensor Tensor(double[] data, params long[] shape) => FromData<double>(data, shape);
    public static Tensor Tensor(int[] data, params long[] shape) => FromData<int>(data, shape);
    public static Tensor Tensor(byte[] data, params long[] shape) => FromData<byte>(data, shape);

    public static Tensor Zeros(long[] shape, ScalarType dtype = ScalarType.Float32) => Fill(0, dtype, shape);
    public static Tensor Ones(long[] shape, ScalarType dtype = ScalarType.Float32) => Fill(1, dtype, shape);
    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(params long[] shape) => Fill(2, ScalarType.Float32, shape);
    /// <summary>Standard normal samples.</summary>
    public static Tensor Randn(params long[] shape) => Fill(3, ScalarType.Float32, shape);

    private static unsafe Tensor FromData<T>(ReadOnlySpan<T> data, long[] shape) where T : unmanaged
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (shape.Any(s => s < 0) || count != data.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {count} elements but {data.Length} were given", nameof(shape));
        TensorHandle result;
        fixed (T* d = data)
        fixed (long* s = shape)
            NativeError.Check(NativeMethods.mo_tensor_from_data(d, (int)ScalarTypes.Of<T>(), s, shape.Length, out result));
        return new Tensor(result);
    }

    private static unsafe Tensor Fill(int kind, ScalarType dtype, long[] shape)
    {
        TensorHandle result;
        fixed (long* s = shape)
            NativeError.Check(NativeMethods.mo_tensor_fill_new(kind, (int)dtype, s, shape.Length, out result));
        return new Tensor(result);
    }

    private sealed class GradModeGuard : IDisposable
    {
        private readonly int previous;
        private bool disposed;

        public GradModeGuard(bool enabled) =>
            NativeError.Check(NativeMethods.mo_set_grad_enabled(enabled ? 1 : 0, out previous));

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            NativeError.Check(NativeMethods.mo_set_grad_enabled(previous, out _));
        }
    }
}
