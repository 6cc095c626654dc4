using ModelOps.Engine.Interop;

namespace ModelOps.Engine.NN;

/// <summary>A libtorch module owned through a SafeHandle. Subclasses are the concrete layers.</summary>
public abstract class Module : IDisposable
{
    private readonly NativeModuleHandle handle;

    private protected Module(NativeModuleHandle handle) => this.handle = handle;

    internal NativeModuleHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    public Tensor Forward(Tensor input)
    {
        NativeError.Check(NativeMethods.mo_module_forward(Handle, input.Handle, out var result));
        return new Tensor(result);
    }

    public bool IsTraining
    {
        get
        {
            NativeError.Check(NativeMethods.mo_module_is_training(Handle, out int training));
            return training != 0;
        }
    }

    /// <summary>Switches dropout and batch-norm to training behaviour (or evaluation when false).</summary>
    public Module Train(bool training = true)
    {
        NativeError.Check(NativeMethods.mo_module_train(Handle, training ? 1 : 0));
        return this;
    }

    public Module Eval() => Train(false);

    public Module To(Device device)
    {
        NativeError.Check(NativeMethods.mo_module_to(Handle, (int)device.Type, device.Index));
        return this;
    }

    /// <summary>Live parameter tensors (aliases: updating them updates the module). Dispose them or use a scope.</summary>
    public unsafe IReadOnlyList<Tensor> Parameters()
    {
        NativeError.Check(NativeMethods.mo_module_parameters(Handle, null, 0, out long count));
        var raw = new IntPtr[count];
        fixed (IntPtr* p = raw) NativeError.Check(NativeMethods.mo_module_parameters(Handle, p, count, out count));
        return raw.Select(h => new Tensor(new TensorHandle(h))).ToArray();
    }

    /// <summary>Total number of scalar parameters.</summary>
    public long ParameterCount()
    {
        long total = 0;
        foreach (var parameter in Parameters())
        {
            using (parameter) total += parameter.NumberOfElements;
        }
        return total;
    }

    /// <summary>Parameters and buffers (e.g. batch-norm statistics) as libtorch archive bytes.</summary>
    public byte[] SaveState()
    {
        NativeError.Check(NativeMethods.mo_module_save(Handle, out IntPtr buffer, out long length));
        return NativeError.TakeBuffer(buffer, length);
    }

    /// <summary>Loads bytes from <see cref="SaveState"/> into a module of the same architecture.</summary>
    public unsafe void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        fixed (byte* p = state) NativeError.Check(NativeMethods.mo_module_load(Handle, p, state.Length));
    }

    public void Save(string path) => File.WriteAllBytes(path, SaveState());

    public void Load(string path) => LoadState(File.ReadAllBytes(path));

    public virtual void Dispose()
    {
        handle.Dispose();
        GC.SuppressFinalize(this);
    }
}
