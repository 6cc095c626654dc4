using ModelOps.Engine.Interop;

namespace ModelOps.Engine.Optim;

/// <summary>
/// Raw handles of a tensor list for one native call; each handle is ref-counted until disposal so a
/// concurrent Dispose cannot free a tensor while native code still reads its pointer.
/// </summary>
internal sealed class NativeTensorList : IDisposable
{
    // The SafeHandles themselves, not the tensors: a tensor disposed meanwhile refuses to hand out its
    // handle, but the reference taken here must still be released.
    private readonly TensorHandle[] handles;
    private readonly bool[] added;

    internal NativeTensorList(IEnumerable<Tensor> source, string paramName)
    {
        ArgumentNullException.ThrowIfNull(source, paramName);
        var tensors = source as IReadOnlyList<Tensor> ?? source.ToArray();
        handles = new TensorHandle[tensors.Count];
        added = new bool[tensors.Count];
        Raw = new IntPtr[tensors.Count];
        try
        {
            for (int i = 0; i < handles.Length; i++)
            {
                if (tensors[i] is null) throw new ArgumentException($"tensor {i} of the list is null", paramName);
                handles[i] = tensors[i].Handle;
                handles[i].DangerousAddRef(ref added[i]);
                Raw[i] = handles[i].DangerousGetHandle();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    internal IntPtr[] Raw { get; }

    internal int Count => handles.Length;

    /// <summary>Keeps one optional tensor alive for a native call; returns its raw handle or zero.</summary>
    internal static IntPtr AddRef(Tensor? tensor, out TensorHandle? handle, ref bool added)
    {
        handle = tensor?.Handle;
        if (handle is null) return IntPtr.Zero;
        handle.DangerousAddRef(ref added);
        return handle.DangerousGetHandle();
    }

    internal static void Release(TensorHandle? handle, bool added)
    {
        if (added) handle!.DangerousRelease();
    }

    public void Dispose()
    {
        for (int i = 0; i < handles.Length; i++)
        {
            if (!added[i]) continue;
            added[i] = false;
            handles[i].DangerousRelease();
        }
    }
}
