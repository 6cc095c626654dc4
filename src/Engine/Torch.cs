using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

/// <summary>Entry points in the spirit of TorchSharp's <c>torch</c>: tensor factories and global state.</summary>
public static partial class Torch
{
    /// <summary>Starts a scope that disposes every tensor created on this thread until it ends.</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Seeds every default generator (CPU and all CUDA devices).</summary>
    public static void ManualSeed(long seed) => NativeError.Check(NativeMethods.mo_manual_seed(seed));

    /// <summary>The state of the CPU generator and of every visible CUDA generator, for <see cref="SetRngState"/>.</summary>
    public static byte[] GetRngState()
    {
        NativeError.Check(NativeMethods.mo_rng_get_state(out IntPtr buffer, out long length));
        return NativeError.TakeBuffer(buffer, length);
    }

    /// <summary>Restores generators from <see cref="GetRngState"/> so the following draws repeat exactly.
    /// A malformed state throws <see cref="InvalidArgumentEngineException"/> and changes nothing.</summary>
    public static unsafe void SetRngState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        fixed (byte* p = state) NativeError.Check(NativeMethods.mo_rng_set_state(p, state.Length));
    }

    /// <summary>Intra-op threads libtorch uses.</summary>
    public static void SetNumThreads(int threads) => NativeError.Check(NativeMethods.mo_set_num_threads(threads));

    public static int GetNumThreads()
    {
        NativeError.Check(NativeMethods.mo_get_num_threads(out int threads));
        return threads;
    }

    /// <summary>Same as <see cref="Cuda.IsAvailable"/>.</summary>
    public static bool CudaIsAvailable() => Cuda.IsAvailable;

    /// <summary>Same as <see cref="Cuda.DeviceCount"/>.</summary>
    public static int CudaDeviceCount() => Cuda.DeviceCount;

    /// <summary>Turns autograd off on this thread until the returned guard is disposed.</summary>
    public static IDisposable NoGrad() => new GradModeGuard(false);

    /// <summary>Turns autograd on on this thread until the returned guard is disposed.</summary>
    public static IDisposable EnableGrad() => new GradModeGuard(true);

    /// <summary>Whether autograd records operations on this thread.</summary>
    public static bool IsGradEnabled
    {
        get
        {
            NativeError.Check(NativeMethods.mo_is_grad_enabled(out int enabled));
            return enabled != 0;
        }
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
