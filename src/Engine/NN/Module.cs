using System.Runtime.CompilerServices;
using ModelOps.Engine.Interop;

namespace ModelOps.Engine.NN;

/// <summary>
/// Base of every layer and model, in the manner of PyTorch's <c>nn.Module</c>. A custom module subclasses it,
/// creates its children and parameters in the constructor, registers them with <see cref="RegisterModule"/>,
/// <see cref="RegisterParameter"/> and <see cref="RegisterBuffer"/>, and overrides <see cref="Forward"/>.
/// </summary>
/// <remarks>
/// The module owns its children and every tensor that <see cref="Parameters"/>, <see cref="NamedParameters"/>,
/// <see cref="NamedBuffers"/> and <see cref="StateDict"/> return: callers must not dispose them. They stay valid
/// (the same objects) after <see cref="To"/>, which moves data in place, and are disposed with the module.
/// </remarks>
public abstract class Module : IDisposable
{
    // Tensors that belong to some module: containers must never dispose them as if they were temporaries.
    private static readonly ConditionalWeakTable<Tensor, object> Owned = new();

    private readonly NativeModuleHandle? native;
    private readonly List<(string Name, Module Module)> children = [];
    private readonly List<(string Name, Tensor Tensor)> parameters = [];
    private readonly List<(string Name, Tensor Tensor)> buffers = [];
    private bool training = true;
    private bool disposed;

    /// <summary>For modules written in C#: register children and parameters in the derived constructor.</summary>
    protected Module() { }

    // Leaf layers: the native module's own parameters and buffers become this module's, under libtorch's names.
    private protected Module(NativeModuleHandle native)
    {
        this.native = native;
        try
        {
            foreach (var (name, tensor) in FetchNative(buffers: false)) AddTensor(parameters, name, tensor);
            foreach (var (name, tensor) in FetchNative(buffers: true)) AddTensor(buffers, name, tensor);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private protected NativeModuleHandle Native
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return native ?? throw new InvalidOperationException($"{GetType().Name} has no native module");
        }
    }

    /// <summary>Computes the module's output. Leaf layers run in one native call; custom modules override this.</summary>
    public virtual Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (native is null)
            throw new NotImplementedException($"{GetType().Name} must override Forward(Tensor)");
        NativeError.Check(NativeMethods.mo_module_forward(Native, input.Handle, out var result));
        return new Tensor(result);
    }

    /// <summary>Same as <see cref="Forward"/>, so a module reads like a function.</summary>
    public Tensor Call(Tensor input) => Forward(input);

    /// <summary>Adds a child module under <paramref name="name"/>; this module takes ownership of it.</summary>
    protected void RegisterModule(string name, Module child)
    {
        ArgumentNullException.ThrowIfNull(child);
        if (ReferenceEquals(child, this)) throw new ArgumentException("a module cannot be its own child", nameof(child));
        CheckNewName(name);
        children.Add((name, child));
    }

    /// <summary>
    /// Adds a trainable tensor under <paramref name="name"/> (autograd is switched on for it). The module takes
    /// ownership: it leaves any dispose scope and is disposed with the module.
    /// </summary>
    protected void RegisterParameter(string name, Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        CheckNewName(name);
        if (!parameter.RequiresGrad) parameter.RequiresGrad = true;
        AddTensor(parameters, name, parameter);
    }

    /// <summary>Adds a non-trainable tensor that is part of the state (e.g. running statistics); the module takes ownership.</summary>
    protected void RegisterBuffer(string name, Tensor buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        CheckNewName(name);
        AddTensor(buffers, name, buffer);
    }

    /// <summary>Direct children in registration order.</summary>
    public IReadOnlyList<(string Name, Module Module)> NamedChildren() => children.ToArray();

    /// <summary>Direct children in registration order.</summary>
    public IReadOnlyList<Module> Children() => children.Select(c => c.Module).ToArray();

    /// <summary>This module and all its descendants, with dotted names ("" for this one), depth first.</summary>
    public IReadOnlyList<(string Name, Module Module)> NamedModules()
    {
        var result = new List<(string, Module)>();
        CollectModules("", result);
        return result;
    }

    /// <summary>Every parameter of this module and its descendants, named as PyTorch names them ("0.weight", "block.conv1.bias").</summary>
    public IReadOnlyList<(string Name, Tensor Parameter)> NamedParameters()
    {
        var result = new List<(string, Tensor)>();
        CollectTensors("", result, parameters: true, buffers: false);
        return result;
    }

    /// <summary>Every parameter, in <see cref="NamedParameters"/> order. Owned by the module: do not dispose.</summary>
    public IReadOnlyList<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter).ToArray();

    /// <summary>Every buffer (e.g. "running_mean", "num_batches_tracked") of this module and its descendants.</summary>
    public IReadOnlyList<(string Name, Tensor Buffer)> NamedBuffers()
    {
        var result = new List<(string, Tensor)>();
        CollectTensors("", result, parameters: false, buffers: true);
        return result;
    }

    /// <summary>Every buffer, in <see cref="NamedBuffers"/> order. Owned by the module: do not dispose.</summary>
    public IReadOnlyList<Tensor> Buffers() => NamedBuffers().Select(b => b.Buffer).ToArray();

    /// <summary>
    /// Parameters and buffers by dotted name in PyTorch's state-dict order (each module's parameters, then its
    /// buffers, then its children). The tensors are the live ones, owned by the module.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var items = new List<(string, Tensor)>();
        CollectTensors("", items, parameters: true, buffers: true);
        var result = new OrderedDictionary<string, Tensor>(items.Count);
        foreach (var (name, tensor) in items) result.Add(name, tensor);
        return result;
    }

    /// <summary>
    /// Copies every entry of <paramref name="stateDict"/> into the tensor of the same name. Every name, shape and
    /// dtype is checked before anything is copied, so a mismatch (<see cref="ArgumentException"/>) leaves the module unchanged.
    /// </summary>
    /// <param name="stateDict">Tensors by dotted name, as <see cref="StateDict"/> gives them.</param>
    /// <param name="strict">When true, the names must match exactly (no missing and no unexpected entries).</param>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var target = StateDict();
        var pairs = new List<(Tensor Destination, Tensor Source)>();
        foreach (var (name, destination) in target)
        {
            if (!stateDict.TryGetValue(name, out var source))
            {
                if (strict) throw new ArgumentException($"the state dict has no entry '{name}', which the module expects", nameof(stateDict));
                continue;
            }
            ArgumentNullException.ThrowIfNull(source, $"{nameof(stateDict)}['{name}']");
            string? problem = StateDictFormat.Mismatch(name, source.Dtype, source.Shape, destination);
            if (problem is not null) throw new ArgumentException(problem, nameof(stateDict));
            pairs.Add((destination, source));
        }
        if (strict)
        {
            foreach (var name in stateDict.Keys)
                if (!target.ContainsKey(name))
                    throw new ArgumentException($"the state dict has an entry '{name}' that the module does not have", nameof(stateDict));
        }
        foreach (var (destination, source) in pairs)
            NativeError.Check(NativeMethods.mo_nn_copy_tensor(destination.Handle, source.Handle));
    }

    /// <summary>The state (<see cref="StateDict"/>) in the MOSD binary format described by <see cref="StateDictFormat"/>.</summary>
    public byte[] SaveState() => StateDictFormat.Write(StateDict());

    /// <summary>
    /// Loads bytes written by <see cref="SaveState"/> into a module of the same architecture. Everything is validated
    /// first; any problem throws <see cref="InvalidDataException"/> and leaves the module unchanged.
    /// </summary>
    public void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        StateDictFormat.Load(state, StateDict());
    }

    /// <summary>Writes <see cref="SaveState"/> to a file.</summary>
    public void Save(string path) => File.WriteAllBytes(path, SaveState());

    /// <summary>Loads a file written by <see cref="Save"/>; see <see cref="LoadState"/>.</summary>
    public void Load(string path) => LoadState(File.ReadAllBytes(path));

    /// <summary>Whether this module is in training mode (dropout active, batch-norm updating its statistics).</summary>
    public bool IsTraining => training;

    /// <summary>Sets training mode (or evaluation mode when false) on this module and all its descendants.</summary>
    public virtual Module Train(bool training = true)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        this.training = training;
        if (native is not null) NativeError.Check(NativeMethods.mo_module_train(native, training ? 1 : 0));
        foreach (var (_, child) in children) child.Train(training);
        return this;
    }

    /// <summary>Evaluation mode: <c>Train(false)</c>.</summary>
    public Module Eval() => Train(false);

    /// <summary>Moves every parameter and buffer to <paramref name="device"/> in place; tensors already handed out follow.</summary>
    public virtual Module To(Device device)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (native is not null)
        {
            NativeError.Check(NativeMethods.mo_module_to(native, (int)device.Type, device.Index));
        }
        else
        {
            foreach (var (_, tensor) in parameters.Concat(buffers))
                NativeError.Check(NativeMethods.mo_nn_move_tensor(tensor.Handle, (int)device.Type, device.Index));
        }
        foreach (var (_, child) in children) child.To(device);
        return this;
    }

    /// <summary>Total number of scalar parameters.</summary>
    public long ParameterCount() => Parameters().Sum(p => p.NumberOfElements);

    /// <summary>Drops every parameter's gradient (PyTorch's default <c>set_to_none=True</c>).</summary>
    public unsafe void ZeroGrad()
    {
        var all = Parameters();
        var raw = new IntPtr[all.Count];
        for (int i = 0; i < raw.Length; i++) raw[i] = all[i].Handle.DangerousGetHandle();
        // The module keeps its tensors alive for the duration of the call.
        fixed (IntPtr* p = raw) NativeError.Check(NativeMethods.mo_nn_zero_grad(p, raw.Length));
        GC.KeepAlive(all);
    }

    /// <summary>Disposes the module, its children and every tensor it owns.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases native resources; overrides must call the base.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposed) return;
        disposed = true;
        if (!disposing) return;
        foreach (var (_, child) in children) child.Dispose();
        foreach (var (_, tensor) in parameters.Concat(buffers))
        {
            Owned.Remove(tensor);
            tensor.Dispose();
        }
        children.Clear();
        parameters.Clear();
        buffers.Clear();
        native?.Dispose();
    }

    /// <summary>Whether <paramref name="tensor"/> belongs to a module (containers must not dispose it).</summary>
    internal static bool IsOwnedByModule(Tensor tensor) => Owned.TryGetValue(tensor, out _);

    /// <summary>Disposes an intermediate result unless it is the caller's input, the kept result or a module's tensor.</summary>
    internal static void DisposeIntermediate(Tensor intermediate, Tensor input, Tensor kept)
    {
        if (ReferenceEquals(intermediate, input) || ReferenceEquals(intermediate, kept) || IsOwnedByModule(intermediate)) return;
        intermediate.Dispose();
    }

    private void CheckNewName(string name)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.')) throw new ArgumentException($"name '{name}' must not contain '.'", nameof(name));
        if (children.Any(c => c.Name == name) || parameters.Any(p => p.Name == name) || buffers.Any(b => b.Name == name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'", nameof(name));
    }

    private static void AddTensor(List<(string, Tensor)> list, string name, Tensor tensor)
    {
        tensor.DetachFromDisposeScope();
        Owned.AddOrUpdate(tensor, Owned);
        list.Add((name, tensor));
    }

    private void CollectModules(string prefix, List<(string, Module)> result)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        result.Add((prefix, this));
        foreach (var (name, child) in children) child.CollectModules(prefix.Length == 0 ? name : prefix + "." + name, result);
    }

    private void CollectTensors(string prefix, List<(string, Tensor)> result, bool parameters, bool buffers)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (parameters) AddOwn(prefix, this.parameters, result);
        if (buffers) AddOwn(prefix, this.buffers, result);
        foreach (var (name, child) in children)
            child.CollectTensors(prefix.Length == 0 ? name : prefix + "." + name, result, parameters, buffers);
    }

    private void AddOwn(string prefix, List<(string Name, Tensor Tensor)> own, List<(string, Tensor)> result)
    {
        for (int i = 0; i < own.Count; i++)
        {
            var (name, tensor) = own[i];
            if (tensor.IsDisposed) tensor = Revive(own, i);
            result.Add((prefix.Length == 0 ? name : prefix + "." + name, tensor));
        }
    }

    // Callers written before the ownership rule dispose what Parameters() returns; a leaf can re-alias its
    // native tensors, so that mistake costs a lookup instead of breaking the module.
    private Tensor Revive(List<(string Name, Tensor Tensor)> own, int index)
    {
        string name = own[index].Name;
        if (native is null)
            throw new ObjectDisposedException(name, $"tensor '{name}' of {GetType().Name} was disposed; tensors returned by a module belong to it");
        bool isBuffer = ReferenceEquals(own, buffers);
        foreach (var (n, tensor) in FetchNative(isBuffer))
        {
            if (n == name) AddTensorAt(own, index, name, tensor);
            else tensor.Dispose();
        }
        return own[index].Tensor;
    }

    private static void AddTensorAt(List<(string, Tensor)> list, int index, string name, Tensor tensor)
    {
        tensor.DetachFromDisposeScope();
        Owned.AddOrUpdate(tensor, Owned);
        list[index] = (name, tensor);
    }

    private unsafe List<(string Name, Tensor Tensor)> FetchNative(bool buffers)
    {
        var handle = native!;
        int kind = buffers ? 1 : 0;
        NativeError.Check(NativeMethods.mo_module_named_tensors(handle, kind, null, 0, out long count, out _, out _));
        var result = new List<(string, Tensor)>((int)count);
        if (count == 0) return result;
        var raw = new IntPtr[count];
        IntPtr names;
        long namesLength;
        fixed (IntPtr* p = raw)
            NativeError.Check(NativeMethods.mo_module_named_tensors(handle, kind, p, count, out count, out names, out namesLength));
        string[] split;
        try
        {
            split = System.Text.Encoding.UTF8.GetString((byte*)names, checked((int)namesLength)).Split('\0');
        }
        finally
        {
            NativeMethods.mo_free_buffer(names);
        }
        for (int i = 0; i < raw.Length; i++)
        {
            // Created outside any scope: the module owns these.
            var tensor = new Tensor(new TensorHandle(raw[i]));
            tensor.DetachFromDisposeScope();
            result.Add((split[i], tensor));
        }
        return result;
    }
}
