using ModelOps.Engine.Interop;

namespace ModelOps.Engine.Optim;

/// <summary>A libtorch optimizer over a fixed list of parameters.</summary>
public abstract class Optimizer : IDisposable
{
    private readonly OptimizerHandle handle;
    private double learningRate;

    private protected Optimizer(OptimizerHandle handle, double learningRate)
    {
        this.handle = handle;
        this.learningRate = learningRate;
    }

    private protected delegate int Create(IntPtr[] parameters, out OptimizerHandle handle);

    private protected static unsafe OptimizerHandle New(IEnumerable<Tensor> parameters, Create create)
    {
        var list = parameters.ToArray();
        if (list.Length == 0) throw new ArgumentException("an optimizer needs at least one parameter", nameof(parameters));
        // Keep every parameter handle alive while its raw pointer is in native hands.
        var refs = new bool[list.Length];
        try
        {
            var raw = new IntPtr[list.Length];
            for (int i = 0; i < list.Length; i++)
            {
                list[i].Handle.DangerousAddRef(ref refs[i]);
                raw[i] = list[i].Handle.DangerousGetHandle();
            }
            NativeError.Check(create(raw, out var handle));
            return handle;
        }
        finally
        {
            for (int i = 0; i < list.Length; i++)
                if (refs[i]) list[i].Handle.DangerousRelease();
        }
    }

    internal OptimizerHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    public double LearningRate
    {
        get => learningRate;
        set
        {
            NativeError.Check(NativeMethods.mo_optimizer_set_lr(Handle, value));
            learningRate = value;
        }
    }

    public void Step() => NativeError.Check(NativeMethods.mo_optimizer_step(Handle));

    public void ZeroGrad() => NativeError.Check(NativeMethods.mo_optimizer_zero_grad(Handle));

    /// <summary>The optimizer's state (moments, momentum buffers) as libtorch archive bytes.</summary>
    public byte[] SaveState()
    {
        NativeError.Check(NativeMethods.mo_optimizer_save(Handle, out IntPtr buffer, out long length));
        return NativeError.TakeBuffer(buffer, length);
    }

    public unsafe void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        fixed (byte* p = state) NativeError.Check(NativeMethods.mo_optimizer_load(Handle, p, state.Length));
    }

    public void Save(string path) => File.WriteAllBytes(path, SaveState());

    public void Load(string path) => LoadState(File.ReadAllBytes(path));

    public void Dispose()
    {
        handle.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class Adam : Optimizer
{
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base(New(parameters, (IntPtr[] p, out OptimizerHandle h) => NewNative(p, lr, beta1, beta2, eps, weightDecay, out h)), lr) { }

    private static unsafe int NewNative(IntPtr[] p, double lr, double beta1, double beta2, double eps, double weightDecay, out OptimizerHandle h)
    {
        fixed (IntPtr* raw = p) return NativeMethods.mo_adam_new(raw, p.Length, lr, beta1, beta2, eps, weightDecay, out h);
    }
}

public sealed class SGD : Optimizer
{
    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double weightDecay = 0, bool nesterov = false)
        : base(New(parameters, (IntPtr[] p, out OptimizerHandle h) => NewNative(p, lr, momentum, weightDecay, nesterov, out h)), lr) { }

    private static unsafe int NewNative(IntPtr[] p, double lr, double momentum, double weightDecay, bool nesterov, out OptimizerHandle h)
    {
        fixed (IntPtr* raw = p) return NativeMethods.mo_sgd_new(raw, p.Length, lr, momentum, weightDecay, nesterov ? 1 : 0, out h);
    }
}
