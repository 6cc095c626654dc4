using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ModelOps.Engine.Interop;

namespace ModelOps.Engine.Optim;

/// <summary>
/// A libtorch optimizer over a fixed list of parameters. The parameters are referenced, not owned:
/// the optimizer updates them in place and never disposes them.
/// </summary>
public abstract class Optimizer : IDisposable
{
    // State envelope: magic "MOOS", u16 version, u16 kind, i32 parameter count, u32 shape fingerprint,
    // i64 payload length, f64 learning rate, u32 CRC-32 of the preceding 32 bytes and the payload; then
    // libtorch's archive. libtorch's own loader fails late and vaguely (or not at all) on damaged or foreign
    // archives, and libtorch 1.13 does not restore the learning rate from it.
    private const uint Magic = 0x534F4F4D; // "MOOS" little-endian
    private const ushort EnvelopeVersion = 1;
    private const int HeaderSize = 36;
    private const int CrcOffset = 32;

    private readonly OptimizerHandle handle;
    private readonly OptimizerKind kind;
    private readonly uint shapeFingerprint;
    private double learningRate;

    private protected enum OptimizerKind : ushort
    {
        Sgd = 1,
        Adam = 2,
        AdamW = 3,
    }

    private protected delegate int Create(IntPtr[] parameters, out OptimizerHandle handle);

    private protected Optimizer(OptimizerKind kind, IEnumerable<Tensor> parameters, double learningRate, Create create)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CheckLearningRate(learningRate);
        var list = parameters.ToArray();
        if (list.Length == 0) throw new ArgumentException("an optimizer needs at least one parameter", nameof(parameters));
        using var native = new NativeTensorList(list, nameof(parameters));
        shapeFingerprint = Fingerprint(list);
        NativeError.Check(create(native.Raw, out handle));
        this.kind = kind;
        this.learningRate = learningRate;
        InitialLearningRate = learningRate;
        ParameterCount = list.Length;
    }

    internal OptimizerHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    /// <summary>Number of parameter tensors this optimizer updates.</summary>
    public int ParameterCount { get; }

    /// <summary>
    /// The learning rate given to the constructor: the base rate of schedulers, whatever <see cref="LearningRate"/>
    /// or <see cref="LoadState"/> set since (like PyTorch's initial_lr), so a schedule resumes the same either side of
    /// loading a checkpoint.
    /// </summary>
    public double InitialLearningRate { get; }

    /// <summary>Learning rate of every parameter; a scheduler sets it once per step.</summary>
    public double LearningRate
    {
        get => learningRate;
        set
        {
            CheckLearningRate(value);
            NativeError.Check(NativeMethods.mo_optimizer_set_lr(Handle, value));
            learningRate = value;
        }
    }

    /// <summary>Updates every parameter from its gradient (one native call).</summary>
    public void Step() => NativeError.Check(NativeMethods.mo_optimizer_step(Handle));

    /// <summary>
    /// Clears every parameter's gradient (one native call). Like PyTorch 2's default set_to_none=True,
    /// gradients become undefined (<see cref="Tensor.Grad"/> is null) rather than zero-filled.
    /// </summary>
    public void ZeroGrad() => NativeError.Check(NativeMethods.mo_optimizer_zero_grad(Handle));

    /// <summary>
    /// The optimizer's state (moments, momentum buffers, step counts, learning rate) as libtorch archive
    /// bytes inside a checked envelope (optimizer kind, parameter count and shapes, length, CRC-32).
    /// </summary>
    public byte[] SaveState()
    {
        NativeError.Check(NativeMethods.mo_optimizer_save(Handle, out IntPtr buffer, out long length));
        byte[] state;
        try
        {
            state = new byte[HeaderSize + checked((int)length)];
            Marshal.Copy(buffer, state, HeaderSize, (int)length);
        }
        finally
        {
            NativeMethods.mo_free_buffer(buffer);
        }
        var header = state.AsSpan(0, HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[0..], Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], EnvelopeVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)kind);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], ParameterCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], shapeFingerprint);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], length);
        BinaryPrimitives.WriteDoubleLittleEndian(header[24..], learningRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[CrcOffset..], Checksum(state));
        return state;
    }

    /// <summary>
    /// Restores state from <see cref="SaveState"/> of an optimizer of the same kind over parameters of the
    /// same shapes, including its learning rate. Throws <see cref="InvalidDataException"/> for truncated,
    /// corrupt or mismatched state before libtorch reads any of it.
    /// </summary>
    public unsafe void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Verify(state);
        fixed (byte* p = state)
            NativeError.Check(NativeMethods.mo_optimizer_load(Handle, p + HeaderSize, state.Length - HeaderSize));
        LearningRate = BinaryPrimitives.ReadDoubleLittleEndian(state.AsSpan(24));
    }

    public void Save(string path) => File.WriteAllBytes(path, SaveState());

    public void Load(string path) => LoadState(File.ReadAllBytes(path));

    public void Dispose()
    {
        handle.Dispose();
        GC.SuppressFinalize(this);
    }

    private void Verify(byte[] state)
    {
        if (state.Length < HeaderSize)
            throw new InvalidDataException($"optimizer state is truncated: {state.Length} bytes, shorter than its {HeaderSize}-byte header");
        var header = state.AsSpan(0, HeaderSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
            throw new InvalidDataException("not a ModelOps optimizer state (bad magic number); raw libtorch archives are not accepted");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != EnvelopeVersion)
            throw new InvalidDataException($"optimizer state has envelope version {version}; this engine reads version {EnvelopeVersion}");
        long length = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        if (length != state.Length - HeaderSize)
            throw new InvalidDataException(length > state.Length - HeaderSize
                ? $"optimizer state is truncated: {state.Length - HeaderSize} of {length} payload bytes present"
                : $"optimizer state has {state.Length - HeaderSize - length} unexpected trailing bytes");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header[CrcOffset..]) != Checksum(state))
            throw new InvalidDataException("optimizer state is corrupt: CRC-32 mismatch");
        var savedKind = (OptimizerKind)BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        if (savedKind != kind)
            throw new InvalidDataException($"optimizer state was saved by {Describe(savedKind)} and cannot be loaded into {Describe(kind)}");
        int count = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (count != ParameterCount)
            throw new InvalidDataException($"optimizer state is for {count} parameter tensors, this optimizer has {ParameterCount}");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header[12..]) != shapeFingerprint)
            throw new InvalidDataException("optimizer state was saved for parameters of different shapes");
    }

    private static uint Checksum(byte[] state) =>
        Crc32.Append(Crc32.Compute(state.AsSpan(0, CrcOffset)), state.AsSpan(HeaderSize));

    private static uint Fingerprint(Tensor[] parameters)
    {
        uint crc = 0;
        Span<byte> buffer = stackalloc byte[8];
        foreach (var parameter in parameters)
        {
            var shape = parameter.Shape;
            BinaryPrimitives.WriteInt64LittleEndian(buffer, shape.Length);
            crc = Crc32.Append(crc, buffer);
            foreach (long size in shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(buffer, size);
                crc = Crc32.Append(crc, buffer);
            }
        }
        return crc;
    }

    private static string Describe(OptimizerKind kind) => kind switch
    {
        OptimizerKind.Sgd => "SGD",
        OptimizerKind.Adam => "Adam",
        OptimizerKind.AdamW => "AdamW",
        _ => $"an unknown optimizer (kind {(ushort)kind})",
    };

    private protected static void CheckLearningRate(double lr)
    {
        if (!(lr >= 0) || double.IsInfinity(lr))
            throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be a finite non-negative number");
    }

    private protected static void CheckNonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite non-negative number");
    }

    private protected static void CheckBeta(double value, string name)
    {
        if (!(value >= 0 && value < 1))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1)");
    }
}

/// <summary>Adam (Kingma and Ba) with L2 weight decay added to the gradient, as torch.optim.Adam.</summary>
public sealed class Adam : Optimizer
{
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base(OptimizerKind.Adam, parameters, lr, (IntPtr[] p, out OptimizerHandle h) =>
        {
            CheckAdam(beta1, beta2, eps, weightDecay);
            return NewNative(decoupled: false, p, lr, beta1, beta2, eps, weightDecay, out h);
        })
    { }

    internal static void CheckAdam(double beta1, double beta2, double eps, double weightDecay)
    {
        CheckBeta(beta1, nameof(beta1));
        CheckBeta(beta2, nameof(beta2));
        CheckNonNegative(eps, nameof(eps));
        CheckNonNegative(weightDecay, nameof(weightDecay));
    }

    internal static unsafe int NewNative(bool decoupled, IntPtr[] p, double lr, double beta1, double beta2, double eps, double weightDecay, out OptimizerHandle h)
    {
        fixed (IntPtr* raw = p)
            return decoupled
                ? NativeMethods.mo_adamw_new(raw, p.Length, lr, beta1, beta2, eps, weightDecay, out h)
                : NativeMethods.mo_adam_new(raw, p.Length, lr, beta1, beta2, eps, weightDecay, out h);
    }
}

/// <summary>AdamW (Loshchilov and Hutter): Adam with weight decay decoupled from the gradient, as torch.optim.AdamW.</summary>
public sealed class AdamW : Optimizer
{
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
        : base(OptimizerKind.AdamW, parameters, lr, (IntPtr[] p, out OptimizerHandle h) =>
        {
            Adam.CheckAdam(beta1, beta2, eps, weightDecay);
            return Adam.NewNative(decoupled: true, p, lr, beta1, beta2, eps, weightDecay, out h);
        })
    { }
}

/// <summary>Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as torch.optim.SGD.</summary>
public sealed class SGD : Optimizer
{
    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double weightDecay = 0, bool nesterov = false)
        : base(OptimizerKind.Sgd, parameters, lr, (IntPtr[] p, out OptimizerHandle h) =>
        {
            CheckNonNegative(momentum, nameof(momentum));
            CheckNonNegative(weightDecay, nameof(weightDecay));
            if (nesterov && momentum == 0)
                throw new ArgumentException("Nesterov momentum needs momentum > 0 (nesterov: true with momentum: 0 would silently be plain SGD)", nameof(nesterov));
            return NewNative(p, lr, momentum, weightDecay, nesterov, out h);
        })
    { }

    private static unsafe int NewNative(IntPtr[] p, double lr, double momentum, double weightDecay, bool nesterov, out OptimizerHandle h)
    {
        fixed (IntPtr* raw = p) return NativeMethods.mo_sgd_new(raw, p.Length, lr, momentum, weightDecay, nesterov ? 1 : 0, out h);
    }
}
