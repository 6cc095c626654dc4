using System.Runtime.InteropServices;

namespace ModelOps.Engine;

/// <summary>A failure inside libtorch; <see cref="Exception.Message"/> carries libtorch's own first line.</summary>
public class EngineException : Exception
{
    public EngineException(string message) : base(message) { }
    public EngineException(string message, Exception inner) : base(message, inner) { }

    /// <summary>
    /// TorchSharp reports libtorch's C++ exceptions as <see cref="ExternalException"/> with the whole C++
    /// message and backtrace; this keeps its first line and sorts out the failures a user can act on.
    /// </summary>
    public static EngineException From(ExternalException e)
    {
        string first = e.Message.Split('\n', 2)[0].Trim();
        if (first.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
            || first.Contains("DefaultCPUAllocator: can't allocate", StringComparison.Ordinal))
            return new EngineOutOfMemoryException(first, e);
        if (first.Contains("shape", StringComparison.OrdinalIgnoreCase) || first.Contains("size mismatch", StringComparison.OrdinalIgnoreCase)
            || first.Contains("must match the size", StringComparison.Ordinal) || first.Contains("Expected", StringComparison.Ordinal))
            return new ShapeMismatchException(first, e);
        return new EngineException(first, e);
    }
}

/// <summary>A CPU or GPU allocation failed inside libtorch.</summary>
public sealed class EngineOutOfMemoryException(string message, Exception inner) : EngineException(message, inner);

/// <summary>libtorch rejected the shapes of the tensors it was given.</summary>
public sealed class ShapeMismatchException(string message, Exception inner) : EngineException(message, inner);
