using System.Runtime.InteropServices;
using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

public static partial class Torch
{
    /// <summary>CUDA queries in the spirit of <c>torch.cuda</c>.</summary>
    public static class Cuda
    {
        /// <summary>True when this engine can use at least one CUDA device.</summary>
        public static bool IsAvailable
        {
            get
            {
                NativeError.Check(NativeMethods.mo_cuda_is_available(out int available));
                return available != 0;
            }
        }

        /// <summary>Visible CUDA devices (0 for a CPU-only build).</summary>
        public static int DeviceCount
        {
            get
            {
                NativeError.Check(NativeMethods.mo_cuda_device_count(out int count));
                return count;
            }
        }

        /// <summary>The device's marketing name, e.g. "NVIDIA H100". Throws
        /// <see cref="InvalidArgumentEngineException"/> for a missing device or a build without CUDA.</summary>
        public static string DeviceName(int device = 0)
        {
            NativeError.Check(NativeMethods.mo_cuda_device_name(device, out IntPtr name));
            try
            {
                return Marshal.PtrToStringUTF8(name) ?? "";
            }
            finally
            {
                NativeMethods.mo_free_string(name);
            }
        }

        /// <summary>Bytes currently held by tensors on the device (libtorch's caching allocator). Throws
        /// <see cref="InvalidArgumentEngineException"/> for a missing device or a build without CUDA.</summary>
        public static long MemoryAllocated(int device = 0)
        {
            NativeError.Check(NativeMethods.mo_cuda_memory_allocated(device, out long bytes));
            return bytes;
        }
    }
}
