using Microsoft.Win32.SafeHandles;

namespace ModelOps.Engine.Interop;

/// <summary>Owns one native mo_tensor (an at::Tensor reference).</summary>
internal sealed class TensorHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public TensorHandle() : base(ownsHandle: true) { }

    internal TensorHandle(IntPtr handle) : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        NativeMethods.mo_tensor_free(handle);
        return true;
    }
}

/// <summary>Owns one native mo_module (a shared reference to a torch::nn::Module).</summary>
internal sealed class NativeModuleHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public NativeModuleHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle()
    {
        NativeMethods.mo_module_free(handle);
        return true;
    }
}

/// <summary>Owns one native mo_optimizer.</summary>
internal sealed class OptimizerHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public OptimizerHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle()
    {
        NativeMethods.mo_optimizer_free(handle);
        return true;
    }
}
