namespace ModelOps.Engine;

/// <summary>
/// Disposes every tensor created on this thread while it is the innermost scope, except those moved
/// out with <see cref="MoveToOuter"/> or <see cref="Detach"/>. Use one per training step so native memory
/// is freed deterministically instead of by finalizers.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly DisposeScope? outer;
    // Slots instead of a hash set: registering a tensor is an append and leaving is one store, which keeps
    // the per-operation cost of small-tensor code low. Freed slots stay null until the scope ends.
    private readonly List<Tensor?> tensors = new();
    private int live;
    private bool disposed;

    internal DisposeScope()
    {
        outer = current;
        current = this;
    }

    internal static DisposeScope? Current => current;

    /// <summary>Number of live tensors this scope will dispose.</summary>
    public int Count => live;

    internal void Add(Tensor tensor)
    {
        tensor.Scope = this;
        tensor.ScopeSlot = tensors.Count;
        tensors.Add(tensor);
        live++;
    }

    internal void Forget(Tensor tensor)
    {
        int slot = tensor.ScopeSlot;
        if ((uint)slot < (uint)tensors.Count && ReferenceEquals(tensors[slot], tensor))
        {
            tensors[slot] = null;
            live--;
        }
    }

    /// <summary>Hands the tensor to the enclosing scope (or to the caller when there is none).</summary>
    public Tensor MoveToOuter(Tensor tensor)
    {
        if (ReferenceEquals(tensor.Scope, this))
        {
            Forget(tensor);
            tensor.Scope = null;
            outer?.Add(tensor);
        }
        return tensor;
    }

    /// <summary>Hands several tensors to the enclosing scope.</summary>
    public void MoveToOuter(params Tensor[] tensors)
    {
        foreach (var tensor in tensors) MoveToOuter(tensor);
    }

    /// <summary>Removes the tensor from every scope: the caller owns it.</summary>
    public Tensor Detach(Tensor tensor)
    {
        if (ReferenceEquals(tensor.Scope, this))
        {
            Forget(tensor);
            tensor.Scope = null;
        }
        return tensor;
    }

    /// <summary>Disposes every tensor still registered here and makes the enclosing scope current again.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (current == this) current = outer;
        // Index loop: disposing a tensor only nulls its own slot, so the list is never resized meanwhile.
        for (int i = 0; i < tensors.Count; i++)
        {
            var tensor = tensors[i];
            if (tensor is null) continue;
            tensors[i] = null;
            tensor.Scope = null;
            tensor.Dispose();
        }
        tensors.Clear();
        live = 0;
    }
}
