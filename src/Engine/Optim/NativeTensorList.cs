using ModelOps.Engine.Interop;

namespace ModelOps.Engine.Optim;

/// <summary>
/// Raw handles of a tensor list for one native call; each handle is ref-counted until disposal so a
/// concurrent Dispose cannot free a tensor while native code still reads its pointer.
/// </summary>
internal sealed class NativeTensorList : IDisposable
{
    private readonly Tensor[] tensors;
    private readonly bool[] added;

    internal NativeTensorList(IEnumerable<Tensor> source, string paramName)
    {
        ArgumentNullException.ThrowIfNull(source, paramName);
        tensors = source as Tensor[] ?? source.ToArray();
        added = new bool[tensors.Length];
        Raw = new IntPtr[tensors.Length];
        try
        {
            for (int i = 0; i < tensors.Length; i++)
            {
                if (tensors[i] is null) throw new ArgumentException($"parameter {i} is null", paramName);
                var handle = tensors[i].Handle;
                handle.DangerousAddRef(ref added[i]);
                Raw[i] = handle.DangerousGetHandle();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    internal IntPtr[] Raw { get; }

    internal int Count => tensors.Length;

    /// <summary>Keeps one optional tensor alive for a native call; returns its raw handle or zero.</summary>
    internal static IntPtr AddRef(Tensor? tensor, ref bool added)
    {
        if (tensor is null) return IntPtr.Zero;
        var handle = tensor.Handle;
        handle.DangerousAddRef(ref added);
        return handle.DangerousGetHandle();
    }

    internal static void Release(Tensor? tensor, bool added)
    {
        if (added) tensor!.Handle.DangerousRelease();
    }

    public void Dispose()
    {
        for (int i = 0; i < tensors.Length; i++)
        {
            if (!added[i]) continue;
            added[i] = false;
            tensors[i].Handle.DangerousRelease();
        }
    }
}
