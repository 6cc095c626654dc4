using System.Runtime.InteropServices;

namespace ModelOps.Engine.Interop;

/// <summary>
/// Declarations of the native shim (Native/modelops_engine.h), grouped by area across partial files.
/// Every mo_status result goes through <see cref="NativeError.Check"/>.
/// </summary>
internal static partial class NativeMethods
{
    internal const string Library = "modelops_engine";

    // errors and buffers
    [LibraryImport(Library)] internal static partial IntPtr mo_last_error_message();
    [LibraryImport(Library)] internal static partial void mo_free_string(IntPtr s);
    [LibraryImport(Library)] internal static partial void mo_free_buffer(IntPtr buffer);

    // global state
    [LibraryImport(Library)] internal static partial int mo_manual_seed(long seed);
    [LibraryImport(Library)] internal static partial int mo_set_num_threads(int threads);
    [LibraryImport(Library)] internal static partial int mo_get_num_threads(out int threads);
    [LibraryImport(Library)] internal static partial int mo_cuda_is_available(out int available);
    [LibraryImport(Library)] internal static partial int mo_cuda_device_count(out int count);
    [LibraryImport(Library)] internal static partial int mo_set_grad_enabled(int enabled, out int previous);
    [LibraryImport(Library)] internal static partial int mo_is_grad_enabled(out int enabled);
    [LibraryImport(Library)] internal static partial int mo_rng_get_state(out IntPtr buffer, out long length);
    [LibraryImport(Library)] internal static unsafe partial int mo_rng_set_state(byte* buffer, long length);
    [LibraryImport(Library)] internal static partial int mo_cuda_device_name(int device, out IntPtr name);
    [LibraryImport(Library)] internal static partial int mo_cuda_memory_allocated(int device, out long bytes);
}
