namespace ModelOps.Engine;

/// <summary>
/// Disposes every tensor created on this thread while it is the innermost scope, except those moved
/// out with <see cref="MoveToOuter"/>. Use one per training step so native memory is freed
/// deterministically instead of by finalizers.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly DisposeScope? outer;
    private readonly HashSet<Tensor> tensors = new(ReferenceEqualityComparer.Instance);
    private bool disposed;

    internal DisposeScope()
    {
        outer = current;
        current = this;
    }

    internal static DisposeScope? Current => current;

    /// <summary>Number of live tensors this scope will dispose.</summary>
    public int Count => tensors.Count;

    internal void Add(Tensor tensor)
    {
        tensors.Add(tensor);
        tensor.Scope = this;
    }

    internal void Forget(Tensor tensor) => tensors.Remove(tensor);

    /// <summary>Hands the tensor to the enclosing scope (or to the caller when there is none).</summary>
    public Tensor MoveToOuter(Tensor tensor)
    {
        if (tensors.Remove(tensor))
        {
            tensor.Scope = null;
            outer?.Add(tensor);
        }
        return tensor;
    }

    /// <summary>Removes the tensor from every scope: the caller owns it.</summary>
    public Tensor Detach(Tensor tensor)
    {
        if (tensors.Remove(tensor)) tensor.Scope = null;
        return tensor;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (current == this) current = outer;
        foreach (var tensor in tensors.ToArray())
        {
            tensor.Scope = null;
            tensor.Dispose();
        }
        tensors.Clear();
    }
}
