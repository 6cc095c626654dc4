namespace ModelOps.Engine;

/// <summary>A failure inside the native engine; <see cref="Exception.Message"/> carries libtorch's message.</summary>
public class EngineException : Exception
{
    public EngineException(string message) : base(message) { }
    public EngineException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A CPU or GPU allocation failed inside the engine.</summary>
public sealed class EngineOutOfMemoryException : EngineException
{
    public EngineOutOfMemoryException(string message) : base(message) { }
}

/// <summary>libtorch rejected the shapes of the tensors it was given.</summary>
public sealed class ShapeMismatchException : EngineException
{
    public ShapeMismatchException(string message) : base(message) { }
}

/// <summary>The engine rejected an argument (null handle, bad value, unsupported type).</summary>
public sealed class InvalidArgumentEngineException : EngineException
{
    public InvalidArgumentEngineException(string message) : base(message) { }
}
