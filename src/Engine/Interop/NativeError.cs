using System.Runtime.InteropServices;

namespace ModelOps.Engine.Interop;

/// <summary>The one place where native status codes become .NET exceptions.</summary>
internal static class NativeError
{
    internal const int Ok = 0;
    internal const int Generic = 1;
    internal const int OutOfMemory = 2;
    internal const int ShapeMismatch = 3;
    internal const int InvalidArgument = 4;

    internal static void Check(int status)
    {
        if (status != Ok) Throw(status);
    }

    private static void Throw(int status)
    {
        string message = TakeLastMessage() ?? $"native engine call failed with status {status}";
        throw status switch
        {
            OutOfMemory => new EngineOutOfMemoryException(message),
            ShapeMismatch => new ShapeMismatchException(message),
            InvalidArgument => new InvalidArgumentEngineException(message),
            _ => new EngineException(message),
        };
    }

    private static string? TakeLastMessage()
    {
        IntPtr text = NativeMethods.mo_last_error_message();
        if (text == IntPtr.Zero) return null;
        try
        {
            return Marshal.PtrToStringUTF8(text);
        }
        finally
        {
            NativeMethods.mo_free_string(text);
        }
    }

    /// <summary>Copies a malloc'd native buffer into managed memory and frees it.</summary>
    internal static byte[] TakeBuffer(IntPtr buffer, long length)
    {
        try
        {
            var bytes = new byte[checked((int)length)];
            Marshal.Copy(buffer, bytes, 0, bytes.Length);
            return bytes;
        }
        finally
        {
            NativeMethods.mo_free_buffer(buffer);
        }
    }
}
